"""What each trading command does, without click: the CLI parses, calls one of these, and maps
the result to an exit code. Every function takes the settings and the injectable parts."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loguru import logger

from btcbot.app.cycle import CycleResult
from btcbot.app.error_policy import Action, action_for
from btcbot.app.runner import Cadence, StopFlag, install_signal_handlers, run_loop
from btcbot.app.wiring import App, ExchangeUnavailable, build_app
from btcbot.config.settings import Settings
from btcbot.domain.enums import TradingState
from btcbot.domain.errors import ExchangeError
from btcbot.persistence.genesis import record_genesis
from btcbot.services.accounting import marks_by_asset, record_genesis_basis


@dataclass(frozen=True)
class OnceOutcome:
    result: CycleResult | None
    safe_mode: bool
    error: str | None = None


def ensure_genesis(app: App) -> None:
    """First start: record the starting capital as explicit external postings (once)."""
    from btcbot.persistence.genesis import GENESIS_KEY

    with app.fenced_uow() as uow:
        if uow.meta.get(GENESIS_KEY) is not None:
            return
    balances = {b.asset: b for b in app.exchange.balances()}
    quote = app.settings.trading.quote_asset
    free_quote = balances[quote].free if quote in balances else Decimal(0)
    holdings = {a: b.total for a, b in balances.items() if a != quote}
    adopt = app.settings.capital.adopt_existing_holdings
    # Adopted coins get a cost basis at the mark of this moment (docs/risk.md, cost basis).
    marks = marks_by_asset(app.exchange.tickers(), quote) if adopt and any(holdings.values()) else {}
    with app.fenced_uow() as uow:
        posted = record_genesis(uow, free_quote, quote, app.settings.capital.allocation, holdings,
                                adopt, app.clock.now())
        unpriced = record_genesis_basis(uow.meta, posted, quote, marks)
        uow.commit()
    if unpriced:
        logger.bind(event="ledger.genesis", outcome="no_basis").warning(
            f"adopted without a price (no cost basis; selling them books zero profit): {', '.join(unpriced)}"
        )
    logger.bind(event="ledger.genesis", outcome="ok").info(
        "genesis: " + ", ".join(f"{p.asset} {p.amount}" for p in posted if p.account.value == "wallet")
    )


def _halt(app: App, reason: str, error: BaseException | None = None) -> None:
    from btcbot.domain.errors import InvariantViolation
    from btcbot.observability.alerts import catalog

    now = app.clock.now()
    with app.fenced_uow() as uow:
        old = uow.trading_state.get()
        uow.trading_state.set(TradingState.HALTED, reason, now)
        if isinstance(error, InvariantViolation):
            app.telemetry.raise_alert(uow, catalog.invariant_violation(type(error).__name__, str(error), "-", now))
        app.telemetry.raise_alert(uow, catalog.trading_state_change(old.state, TradingState.HALTED, reason, now))
        uow.commit()
    app.telemetry.flush_alerts()
    logger.bind(event="trading_state.change", outcome="HALTED").error(f"trading HALTED: {reason}")


def _lease_lost(app: App, error: BaseException) -> None:
    """Another process took the lease: we may not write. Alert in a transaction of our own
    (unfenced: the alert is about us, it changes no trading state) and stop."""
    from btcbot.observability.alerts import catalog

    token = app.lease.token.token if app.lease.token is not None else -1
    hub = app.telemetry.alerts
    if hub is not None:
        hub.raise_now(catalog.lease_lost(f"pid {os.getpid()}", token, app.clock.now()))
        hub.flush()
    app.lease.token = None  # never release a lease we no longer hold
    logger.bind(event="lease.lost", outcome="stop").error(str(error))


def _guarded_cycle(app: App) -> OnceOutcome:
    """One cycle with the error policy applied (ARCHITECTURE.md section 6)."""
    try:
        result = app.cycle().run()
        app.housekeeping()  # retention, when due (daily)
        return OnceOutcome(result, result.safe_mode)
    except ExchangeUnavailable as exc:
        logger.bind(event="cycle.safe_mode", outcome="exchange_unavailable").warning(str(exc))
        return OnceOutcome(None, True, str(exc))
    except Exception as exc:
        action = action_for(exc)
        if action is Action.HALT:
            _halt(app, f"{type(exc).__name__}: {exc}", exc)
            raise
        if action is Action.HALT_PROCESS:
            _lease_lost(app, exc)
            raise
        if action is Action.SAFE_MODE:
            logger.bind(event="cycle.safe_mode", outcome=type(exc).__name__).warning(str(exc))
            return OnceOutcome(None, True, f"{type(exc).__name__}: {exc}")
        raise


def start(settings: Settings, **inject: Any) -> App:
    app = build_app(settings, **inject)
    try:
        app.lease.acquire()
        try:
            ensure_genesis(app)
        except ExchangeError as exc:
            logger.bind(event="ledger.genesis", outcome="deferred").warning(
                f"genesis deferred, exchange unavailable: {type(exc).__name__}"
            )
    except BaseException:
        app.close()
        raise
    return app


def write_metrics_textfile(app: App) -> None:
    path = app.settings.observability.metrics_textfile
    if path is not None and app.telemetry.metrics.enabled:
        from btcbot.observability.textfile import write_textfile

        write_textfile(app.telemetry.metrics, path)


def run_once(settings: Settings, **inject: Any) -> OnceOutcome:
    app = start(settings, **inject)
    try:
        return _guarded_cycle(app)
    finally:
        try:
            write_metrics_textfile(app)  # also after a HALT or a lost lease: the operator needs them
        finally:
            app.close()


def _settings_changed_warning(settings: Settings, reload: Callable[[], Settings] | None) -> None:
    """Risk settings are fixed for the life of the process: an edited .env is only reported."""
    if reload is None:
        return
    from btcbot.services.risk import risk_settings_fingerprint

    try:
        fresh = reload()
    except Exception as exc:  # a broken .env must not stop a running bot; it is reported
        logger.bind(event="settings.reload_failed").warning(f"settings on disk are invalid: {exc}")
        return
    if risk_settings_fingerprint(fresh) != risk_settings_fingerprint(settings):
        logger.bind(event="settings.changed", outcome="restart_required").warning(
            "risk/capital settings on disk differ from the running ones; they apply only after a restart"
        )


def run_forever(
    settings: Settings,
    max_cycles: int | None = None,
    on_cycle: Callable[[OnceOutcome], None] | None = None,
    reload: Callable[[], Settings] | None = None,
    **inject: Any,
) -> int:
    app = start(settings, **inject)
    stop = StopFlag()
    restore = install_signal_handlers(stop)
    try:
        cadence = Cadence(settings.trading.cycle_interval_s, settings.trading.cycle_jitter_s)

        def one() -> None:
            _settings_changed_warning(settings, reload)
            outcome = _guarded_cycle(app)
            if on_cycle is not None:
                on_cycle(outcome)

        count = run_loop(one, app.clock, cadence, stop, max_cycles, outage=app.outage_policy())
        if stop.requested:
            logger.bind(event="runner.stop", outcome=stop.signal_name).info("stop requested; finished the cycle")
            if settings.trading.cancel_entries_on_shutdown:
                cycle = app.cycle()
                cycle.cancel_entries(0)
        return count
    finally:
        restore()
        app.close()
