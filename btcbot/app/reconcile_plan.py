"""``btcbot reconcile`` without ``--apply``: the repair plan, read-only.

It works while ``btcbot run`` holds the lease: no lease is taken, the database is read through
:class:`~btcbot.app.readonly.ReadOnlyUnitOfWork` (no SQLite write lock, commit refused) and the
venue rules are not fetched or cached (the reconciler does not need them). The exchange is read
with a fresh set of breakers, so the plan also works while the bot's saved breakers are open; the
paper exchange reads its saved account and never saves it.

``--apply`` changes the books, so it needs the lease (``btcbot.app.admin.reconcile``); when the
supervised bot holds it, :func:`stop_service_hint` says how to stop the service first.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from btcbot.adapters.clock import SystemClock
from btcbot.app.readonly import ReadOnlyPaperStore, ReadOnlyUnitOfWork
from btcbot.app.wiring import breaker_settings, build_paper_exchange, open_database
from btcbot.config.secrets import load_credentials
from btcbot.config.settings import Settings
from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import ExchangeClient
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.breaker import BreakerBoard
from btcbot.failpoints import Failpoints
from btcbot.services.execution.corrections import render_plan
from btcbot.services.reconcile_service import ExchangeView, ReconcileService

if TYPE_CHECKING:
    from btcbot.app.admin import ReconcilePlan

#: The supervisor names of the bot, as shipped in ``deploy/`` (tests/cli check they still match):
#: ``[program:btcbot]`` in deploy/supervisord.conf and the unit file deploy/btcbot.service.
SUPERVISOR_PROGRAM = "btcbot"
SYSTEMD_UNIT = "btcbot"


def stop_service_lines() -> list[str]:
    """The commands that stop the supervised bot (one per supervisor in ``deploy/``)."""
    return [
        f"sudo supervisorctl stop {SUPERVISOR_PROGRAM}   # supervisord (deploy/supervisord.conf)",
        f"sudo systemctl stop {SYSTEMD_UNIT}             # systemd (deploy/btcbot.service)",
        "# cron (deploy/crontab): comment out the btcbot line and wait for the running minute to end",
    ]


def stop_service_hint(holder: str) -> str:
    """The exit-75 text of ``reconcile --apply`` while another instance holds the lease."""
    return "\n".join([
        f"{holder}: `reconcile --apply` changes the books and needs the lease. "
        "`btcbot reconcile` (without --apply) works while the bot runs. To apply, stop the bot first:",
        *(f"  {line}" for line in stop_service_lines()),
        "then run `btcbot reconcile --apply` again and start the bot "
        f"(sudo supervisorctl start {SUPERVISOR_PROGRAM} / sudo systemctl start {SYSTEMD_UNIT}).",
    ])


def _read_only_exchange(settings: Settings, clock: Clock, engine: Any) -> ExchangeClient:
    from btcbot.adapters.btcturk.client import build_btcturk_client

    if settings.trading.dry_run:
        # Public market data without credentials, the saved paper account, never saved back.
        return build_paper_exchange(settings, clock, lambda: ReadOnlyUnitOfWork(engine),
                                    store=ReadOnlyPaperStore(engine))
    credentials = load_credentials(settings, required=True)
    return build_btcturk_client(settings, credentials, clock, breakers=BreakerBoard(breaker_settings(settings)))


def plan_only(
    settings: Settings,
    *,
    clock: Clock | None = None,
    exchange: ExchangeClient | None = None,
    failpoints: Failpoints | None = None,
    environ: dict[str, str] | None = None,
    **_unused: Any,
) -> ReconcilePlan:
    """The plan ``reconcile --apply`` would execute, computed without writing anything."""
    from btcbot.app.admin import ReconcilePlan

    clock = clock or SystemClock()
    engine = open_database(settings)
    try:
        if exchange is None:
            exchange = _read_only_exchange(settings, clock, engine)
        s = settings
        universe = tuple(s.trading.symbols)

        def read_only() -> UnitOfWork:
            return ReadOnlyUnitOfWork(engine)

        fp = failpoints or Failpoints.from_env(environ if environ is not None else dict(os.environ))
        reconciler = ReconcileService(
            exchange, read_only, clock, universe, s.trading.quote_asset, s.risk.drift_tolerance_quote,
            s.trading.unknown_grace_s, s.risk.day_boundary_tz, fp,
        )
        wanted = set(universe)
        tickers = {t.symbol: t.last for t in exchange.tickers() if t.symbol in wanted}
        view = ExchangeView(exchange.open_orders(), exchange.balances(), tickers)
        _, report = reconciler.plan(view)
    finally:
        engine.dispose()
    return ReconcilePlan(render_plan(report), False, False, "plan only; run with --apply to execute it")


__all__ = ["plan_only", "stop_service_hint", "stop_service_lines"]
