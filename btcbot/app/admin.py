"""Operator commands: status, halt/resume, reconcile (plan and --apply), replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.app.wiring import App, breaker_settings, build_app, build_exchange, load_rules, open_database
from btcbot.config.settings import Settings
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.enums import TradingState
from btcbot.domain.errors import ConfigError, ExchangeError
from btcbot.domain.ledger import external_adjustment
from btcbot.domain.symbols import parse_pair
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.accounting import record_external_flow
from btcbot.services.execution.corrections import BalanceDrift, ExternalSurplus, render_plan
from btcbot.services.reconcile_service import ExchangeView


def status(settings: Settings) -> dict[str, Any]:
    """Everything `btcbot status` shows: database only, read-only (``btcbot.app.status``)."""
    from btcbot.app.status import status as gather

    return gather(settings)


def set_state(settings: Settings, state: TradingState, reason: str, now: datetime) -> tuple[str, str]:
    """halt / resume: an operator's word, journalled. Works while a bot runs (no lease needed)."""
    if not reason.strip():
        raise ConfigError("--reason is required and must not be empty")
    from btcbot.adapters.clock import SystemClock
    from btcbot.app.wiring import build_alert_hub
    from btcbot.observability.alerts import catalog

    engine = open_database(settings)
    try:
        hub = build_alert_hub(settings, lambda: SqlUnitOfWork(engine), SystemClock())
        text = f"manual: {reason.strip()}"
        with SqlUnitOfWork(engine) as uow:
            old = uow.trading_state.get()
            uow.trading_state.set(state, text, now)
            if old.state is not state:
                hub.raise_alert(uow, catalog.trading_state_change(old.state, state, text, now))
            uow.commit()
        hub.flush()
    finally:
        engine.dispose()
    return old.state.value, state.value


class MarketDataMissing(ExchangeError):
    """``reconcile --apply`` would record a flow of a coin it cannot price. Operator: retry later."""


@dataclass(frozen=True)
class ReconcilePlan:
    rows: list[tuple[str, str, str]]
    applied: bool
    cleared_reducing: bool
    message: str


def reconcile(settings: Settings, apply: bool, reason: str | None, **inject: Any) -> ReconcilePlan:
    """``btcbot reconcile [--apply]``: the operator's tool for exactly the moment the bot is in
    trouble, so it works while a breaker is open: its reads go through a fresh set of breakers,
    not the ones the bot saved (those stay as they are; the bot probes them when their cool-down
    ends). An exchange that really is down fails the reads: one line, exit 1, nothing written.
    Without ``apply`` it is read-only and takes no lease (works while ``btcbot run`` runs)."""
    if not apply:
        from btcbot.app.reconcile_plan import plan_only

        return plan_only(settings, **inject)
    app = build_app(settings, **inject)
    try:
        if "exchange" not in inject:
            app.exchange = build_exchange(settings, app.clock, BreakerBoard(breaker_settings(settings)),
                                          app.credentials, app.engine, observer=app.telemetry.observer())
        app.lease.acquire()
        return _reconcile(app, apply, reason)
    finally:
        app.close()


def _exchange_view(app: App) -> ExchangeView:
    universe = set(app.settings.trading.symbols)
    tickers = {t.symbol: t.last for t in app.exchange.tickers() if t.symbol in universe}
    return ExchangeView(app.exchange.open_orders(), app.exchange.balances(), tickers)


def _unpriced_flows(app: App, corrections: Sequence[object]) -> list[str]:
    """Assets of the universe whose deposit/withdrawal cannot be valued (no ticker): recording
    them would move equity as if the coins were worth 0."""
    bases = {parse_pair(s).base for s in app.settings.trading.symbols}
    return sorted(
        c.asset for c in corrections
        if isinstance(c, BalanceDrift | ExternalSurplus) and c.diff_quote is None and c.asset in bases
    )


def _reconcile(app: App, apply: bool, reason: str | None) -> ReconcilePlan:
    cycle = app.cycle()
    reconciler = cycle.d.reconciler
    view = _exchange_view(app)
    _, report = reconciler.plan(view)
    rows = render_plan(report)
    if not apply:
        return ReconcilePlan(rows, False, False, "plan only; run with --apply to execute it")
    balance_issues = [c for c in report.corrections if isinstance(c, BalanceDrift | ExternalSurplus)]
    if balance_issues and not (reason and reason.strip()):
        raise ConfigError("the plan records deposits/withdrawals: --reason is required with --apply")
    unpriced = _unpriced_flows(app, report.corrections)
    if unpriced:
        raise MarketDataMissing(
            f"no price for {', '.join(unpriced)}: a deposit/withdrawal of it cannot be valued; nothing applied, "
            "retry when its ticker is back"
        )
    with app.fenced_uow() as uow:
        cycle_id = uow.cycles.next_cycle_id()
        uow.cycles.start(cycle_id, app.clock.now(), "reconcile")
        uow.commit()
    reconciler.sync(cycle_id, view)
    # Re-plan after fills and orders are settled: what remains is outside money.
    _, after = reconciler.plan(_exchange_view(app))
    now = app.clock.now()
    with app.fenced_uow() as uow:
        flow_quote = Decimal(0)
        for c in after.corrections:
            if isinstance(c, BalanceDrift | ExternalSurplus) and c.diff != 0:
                kind = "withdrawal" if c.diff < 0 else "deposit"
                uow.ledger.post(external_adjustment(c.asset, Decimal(c.diff), f"{kind}: {reason}"), at=now,
                                cycle_id=cycle_id)
                record_external_flow(uow.meta, c.asset, Decimal(c.diff), c.diff_quote, app.settings.trading.quote_asset)
                flow_quote += c.diff_quote if c.diff_quote is not None else Decimal(0)
        _shift_for_external_flow(uow, flow_quote, cycle_id, now)
        state = uow.trading_state.get()
        cleared = state.state is TradingState.REDUCING
        if cleared:
            uow.trading_state.set(TradingState.ACTIVE, f"reconciled: {reason or 'no balance changes'}", now, cycle_id)
        uow.meta.set("reconcile.drift_streak", "0")
        uow.cycles.finish(cycle_id, now, "reconcile")
        uow.commit()
    return ReconcilePlan(rows, True, cleared, "applied")


def _shift_for_external_flow(uow: UnitOfWork, flow_quote: Decimal, cycle_id: int, now: datetime) -> None:
    """Outside money is not performance: move equity, the high-water mark and the day-start equity
    by the same amount, so a withdrawal is not a drawdown or a daily loss (and a deposit no gain)."""
    snapshot = uow.snapshots.latest()
    if snapshot is None or flow_quote == 0:
        return
    uow.snapshots.save(replace(
        snapshot, at=now, cycle_id=cycle_id, equity=snapshot.equity + flow_quote,
        high_water_mark=max(Decimal(0), snapshot.high_water_mark + flow_quote),
        day_start_equity=max(Decimal(0), snapshot.day_start_equity + flow_quote),
    ))


__all__ = ["load_rules", "reconcile", "set_state", "status"]
