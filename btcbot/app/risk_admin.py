"""Operator commands of the risk engine: ``btcbot risk rearm`` and ``btcbot risk show``.

``rearm`` writes (high-water mark, journal, alert) and therefore takes the instance lease like
``reconcile --apply``: a running bot must be stopped first, or the command waits for the gap
between two cron runs (exit 75 while the lease is held). ``show`` only reads the database.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from loguru import logger

from btcbot.app.wiring import App, build_app, open_database
from btcbot.config.settings import Settings
from btcbot.contracts.persistence import MetaRepository
from btcbot.domain.errors import ConfigError, ExchangeError
from btcbot.domain.ledger import Account
from btcbot.domain.portfolio import mark_to_market_equity
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.portfolio_service import PortfolioService
from btcbot.services.risk.capital_policy import drawdown, m_dd
from btcbot.services.risk.rearm import RearmRecord, rearmed_snapshot

META_LAST_REARM = "risk.last_rearm"
JOURNAL_EVENT = "risk_rearm"


class RearmNeedsPrices(ExchangeError):
    """Coins are held but no current price could be fetched, so the equity to re-arm at is unknown.

    Operator: try again when market data is available (a re-arm with a flat book needs no price).
    """


def last_rearm(meta: MetaRepository) -> RearmRecord | None:
    """The most recent re-arm, or None (for ``status``)."""
    raw = meta.get(META_LAST_REARM)
    return RearmRecord.from_json(json.loads(raw)) if raw else None


def last_rearm_doc(meta: MetaRepository) -> dict[str, str] | None:
    """``last_rearm`` as the JSON-ready dict ``status --json`` can show (time, reason, old/new mark)."""
    record = last_rearm(meta)
    return None if record is None else record.to_json()


def rearm(settings: Settings, reason: str, **inject: Any) -> RearmRecord:
    """High-water mark := current equity, journaled and alerted. Takes the lease."""
    if not reason.strip():
        raise ConfigError("--reason is required and must not be empty")
    app = build_app(settings, **inject)
    try:
        app.lease.acquire()
        return _rearm(app, reason.strip())
    finally:
        app.close()


def _prices(app: App, symbols: list[str]) -> dict[str, Decimal]:
    """Mark prices (ticker last) of the held ``symbols``; none needed for a flat book."""
    if not symbols:
        return {}
    try:
        tickers = {t.symbol: t.last for t in app.exchange.tickers()}
    except ExchangeError as exc:
        raise RearmNeedsPrices(
            f"cannot value the coins held ({', '.join(symbols)}): market data unavailable "
            f"({type(exc).__name__}); re-arm needs a current price, try again later"
        ) from exc
    missing = [s for s in symbols if tickers.get(s, Decimal(0)) <= 0]
    if missing:
        raise RearmNeedsPrices(f"cannot value the coins held: no price for {', '.join(missing)}; try again later")
    return {s: tickers[s] for s in symbols}


def _rearm(app: App, reason: str) -> RearmRecord:
    from btcbot.observability.alerts import catalog

    s = app.settings
    quote = s.trading.quote_asset
    with app.fenced_uow() as uow:
        latest = uow.snapshots.latest()
        wallet = uow.ledger.wallet_balances()
        reserve = uow.ledger.balance(Account.RESERVE, quote)
    if latest is None:
        raise ConfigError("no cycle has run yet: there is no high-water mark to re-arm")
    # The cycle's own valuation: universe positions from the ledger at the ticker's last price.
    positions = PortfolioService(s.trading.symbols, quote, Decimal(0), s.risk.day_boundary_tz).positions(wallet)
    prices = _prices(app, sorted(positions))
    equity = mark_to_market_equity(wallet.get(quote, Decimal(0)) + reserve, positions, prices)
    now = app.clock.now()
    record = RearmRecord(now, reason, latest.high_water_mark, equity)
    with app.fenced_uow() as uow:
        state = uow.trading_state.get().state.value
        uow.snapshots.save(rearmed_snapshot(latest, equity, now))
        uow.meta.set(META_LAST_REARM, json.dumps(record.to_json(), sort_keys=True))
        uow.journal.append(None, None, state, state, JOURNAL_EVENT, record.to_json(), now)
        app.telemetry.raise_alert(uow, catalog.risk_rearm(record.old_high_water, equity, reason, now))
        uow.commit()
    app.telemetry.flush_alerts()
    logger.bind(event="risk.rearm", outcome="ok").warning(
        f"drawdown re-armed: high-water mark {record.old_high_water} -> {equity} "
        f"(drawdown was {record.drawdown_before}): {reason}"
    )
    return record


def risk_status(settings: Settings) -> dict[str, Any]:
    """Equity, high-water mark, drawdown, ``m_dd`` and the last re-arm (database only, no lease)."""
    engine = open_database(settings)
    try:
        with SqlUnitOfWork(engine) as uow:
            snap = uow.snapshots.latest()
            rearmed = last_rearm_doc(uow.meta)
    finally:
        engine.dispose()
    doc: dict[str, Any] = {"equity": None, "high_water_mark": None, "drawdown": None, "m_dd": None,
                           "last_rearm": rearmed}
    if snap is not None:
        dd = drawdown(snap.equity, snap.high_water_mark)
        cap = settings.capital
        doc.update(equity=str(snap.equity), high_water_mark=str(snap.high_water_mark), drawdown=str(dd),
                   m_dd=str(m_dd(dd, cap.drawdown_tiers, cap.drawdown_multipliers)), at=snap.at.isoformat())
    return doc
