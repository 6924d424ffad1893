"""``btcbot status``: is the bot OK, and why is it (not) trading. Database only, read-only.

No exchange call, no lease, no write (:class:`~btcbot.app.readonly.ReadOnlyUnitOfWork`: no SQLite
write lock, commit refused), so it works while ``btcbot run`` runs and while breakers are open.

Sources: the trading state, breakers, orders, ledger and snapshots tables; the last cycle's report
(``btcbot.app.cycle_report``: safe-mode reasons, intents with their risk decisions, the balance
mismatches the reconciler saw, the capital-policy figures, the marks); the accounting documents in
``meta`` (realized profit per month, cost basis, the fee/tax month baseline); the lease row.

The returned document is what ``status --json`` prints; every key of earlier versions is kept
(``equity`` stays the last priced snapshot; ``equity_known`` says whether the last cycle could
price every held coin).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from btcbot.adapters.clock import SystemClock
from btcbot.app.cycle_report import META_CYCLE_REPORT, read_report
from btcbot.app.readonly import ReadOnlyUnitOfWork
from btcbot.app.risk_admin import last_rearm_doc
from btcbot.app.telemetry import META_FEE_MONTH, roll_fee_month
from btcbot.app.wiring import open_database
from btcbot.config.settings import Settings
from btcbot.contracts.clock import Clock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.ledger import Account
from btcbot.domain.symbols import parse_pair
from btcbot.persistence.genesis import GENESIS_KEY
from btcbot.persistence.lease import current_holder
from btcbot.services.accounting import cost_basis, realized_by_month
from btcbot.services.reconcile_service import META_DRIFT_STREAK
from btcbot.services.risk.calendar import month_key

ZERO = Decimal(0)
#: A last cycle older than this many cycle intervals means the loop is not running.
STALE_INTERVALS = 3
#: Kept for importers of earlier versions: ``strategy_hold_reason`` is filled now (see ``_hold``).
HOLD_REASON_NOTE = "null when the last cycle sent an order or did not ask the strategy"


def _orders(uow: UnitOfWork) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    open_orders = [
        {"client_order_id": o.client_order_id, "symbol": o.symbol, "side": o.side.value,
         "type": o.order_type.value, "state": o.state.value, "quantity": str(o.quantity),
         "filled": str(o.filled_quantity), "price": None if o.price is None else str(o.price)}
        for o in uow.orders.list_non_terminal()
    ]
    recent = [
        {"client_order_id": o.client_order_id, "symbol": o.symbol, "side": o.side.value, "state": o.state.value,
         "filled": str(o.filled_quantity), "avg_price": None if o.average_price is None else str(o.average_price)}
        for o in uow.orders.list_recent(10)
    ]
    return open_orders, recent


def _breakers(uow: UnitOfWork, cooldown_s: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for b in uow.breakers.load():
        until = b.opened_at + timedelta(seconds=cooldown_s) if b.state == "OPEN" and b.opened_at else None
        out[b.group] = {
            "state": b.state, "consecutive_failures": b.consecutive_failures,
            "opened_at": None if b.opened_at is None else b.opened_at.isoformat(),
            "until": None if until is None else until.isoformat(),
        }
    return out


def _profit(uow: UnitOfWork, settings: Settings, now: datetime, report: dict[str, Any] | None) -> dict[str, Any]:
    """Month-to-date realized profit, fees and taxes, and the unrealized profit at the last marks;
    computed as the telemetry does, without writing its fee baseline."""
    quote, tz = settings.trading.quote_asset, settings.risk.day_boundary_tz
    month = month_key(now, tz)
    by_month = realized_by_month(uow.meta)
    fees = uow.ledger.balance(Account.FEES, quote)
    taxes = uow.ledger.balance(Account.TAXES, quote)
    raw = uow.meta.get(META_FEE_MONTH)
    doc = json.loads(raw) if raw else None
    genesis = uow.meta.get(GENESIS_KEY)
    genesis_this_month = genesis is None or month_key(datetime.fromisoformat(genesis), tz) == month
    base = roll_fee_month(doc, month, fees, taxes, genesis_this_month)
    unrealized: Decimal | None = None
    if report is not None and report.get("equity_known", False):
        unrealized = ZERO
        for symbol, price_text in report.get("prices", {}).items():
            price = Decimal(price_text)
            position = cost_basis(uow.meta, parse_pair(symbol).base)
            if position.qty > 0 and price > 0:
                unrealized += position.qty * price - position.cost
    return {
        "month": month,
        "realized_mtd": str(by_month.get(month, ZERO)),
        "unrealized": None if unrealized is None else str(unrealized),
        "unrealized_as_of": None if report is None else report.get("at"),
        "fees_mtd": str(fees - Decimal(base["fees_start"])),
        "taxes_mtd": str(taxes - Decimal(base["taxes_start"])),
        "realized_by_month": {m: str(v) for m, v in by_month.items()},
    }


def _policy(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The capital-policy figures of the last cycle (post-trade view), named as the metrics are."""
    if report is None or report.get("policy") is None:
        return None
    p: dict[str, str] = report["policy"]
    return {
        "cycle_id": report["cycle_id"], "at": report["at"], "month": p["month"],
        "capital_base": p["c_base"], "reserved_cash": p["c_res"], "fee_buffer": p["fee_buffer"],
        "cash_floor": str(Decimal(p["c_res"]) + Decimal(p["fee_buffer"])),
        "tradable_capital": p["tradable"], "drawdown": p["drawdown"], "drawdown_multiplier": p["m_dd"],
        "portfolio_exposure_cap": p["portfolio_cap"],
        "asset_exposure_caps": {k.removeprefix("asset_cap."): v for k, v in sorted(p.items())
                                if k.startswith("asset_cap.")},
        "reserve_bucket": p["reserve_bucket"], "harvest_due": p["harvest_due"],
        "required_edge_market_bps": p["required_edge_market_bps"],
        "required_edge_limit_bps": p["required_edge_limit_bps"],
    }


def _hold(report: dict[str, Any] | None) -> dict[str, str] | None:
    """Why the last cycle sent no order (``btcbot.app.hold_report``): ``{"code", "detail"}``, or
    None when it traded, did not ask the strategy, or was written by a version without it."""
    if report is None:
        return None
    hold = report["strategy"].get("hold_reason")
    return hold if isinstance(hold, dict) else None


def _last_decisions(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    strategy = report["strategy"]
    return {
        "cycle_id": report["cycle_id"], "at": report["at"], "safe_mode": report["safe_mode"],
        "reasons": report["reasons"], "strategy_asked": strategy["asked"],
        "strategy_not_asked_reason": strategy["not_asked_reason"], "intents": strategy["intents"],
        "decisions": report["decisions"], "submitted": report["submitted"], "hold_reason": _hold(report),
    }


def _balance_check(report: dict[str, Any] | None, streak: str | None) -> dict[str, Any] | None:
    if report is None:
        return None
    issues = report.get("balance_check")
    return {"cycle_id": report["cycle_id"], "checked": issues is not None, "issues": issues or [],
            "drift_streak": int(streak or 0)}


def _problems(doc: dict[str, Any], now: datetime, interval_s: float) -> list[str]:
    """What keeps the bot from trading normally (empty: nothing does)."""
    out: list[str] = []
    state, reason = doc["trading_state"], doc["trading_state_reason"]
    if state == "HALTED":
        out.append(f"HALTED: {reason} (only cancels are sent; `btcbot resume` after a check)")
    elif state == "REDUCING":
        out.append(f"REDUCING: {reason} (no risk-increasing orders)")
    for group, b in doc["breaker_details"].items():
        if b["state"] != "CLOSED":
            out.append(f"breaker {group} {b['state']}" + (f" until {b['until']}" if b["until"] else ""))
    last = doc["last_cycle"]
    if last is None:
        out.append("no cycle has run yet")
    elif last["age_s"] is not None and last["age_s"] > STALE_INTERVALS * interval_s:
        out.append(f"last cycle {last['age_s']:.0f} s ago (more than {STALE_INTERVALS} cycle intervals): "
                   "is the bot running?")
    decided = doc["last_decisions"]
    if decided is not None and decided["safe_mode"]:
        out.append(f"cycle {decided['cycle_id']} ran in safe mode: {'; '.join(decided['reasons'])}")
    check = doc["balance_check"]
    if check is not None:
        for issue in check["issues"]:
            if issue["kind"] == "shortfall":
                out.append(f"balance shortfall {issue['asset']}: ledger {issue['ledger']}, exchange {issue['exchange']} "
                           "(no new risk until explained; `btcbot reconcile`)")
    if doc["unpriced_assets"]:
        out.append(f"equity unknown: no price for {', '.join(doc['unpriced_assets'])} in the last cycle")
    return out


def _why_no_trades(doc: dict[str, Any]) -> list[str]:
    """Why the last cycle sent nothing, when it sent nothing (normal behaviour, not problems)."""
    decided = doc["last_decisions"]
    if decided is None or decided["submitted"]:
        return []
    if not decided["strategy_asked"]:
        return [f"strategy not asked: {decided['strategy_not_asked_reason']}"]
    if not decided["decisions"]:
        hold = decided.get("hold_reason")
        return [f"strategy held: {hold['detail']}" if hold else "strategy held (no intents; no reason recorded)"]
    decisions = decided["decisions"]
    codes = Counter(d["code"] for d in decisions if d["decision"] == "denied")
    held_back = [d["symbol"] for d in decisions
                 if d["decision"] == "approved" and decided["safe_mode"] and d.get("risk_increasing")]
    out = []
    if codes:
        out.append(f"{sum(codes.values())} of {len(decisions)} intents denied by risk: "
                   + ", ".join(f"{code} ({n})" for code, n in sorted(codes.items())))
    if held_back:
        out.append(f"approved but held back in safe mode (risk-increasing): {', '.join(held_back)}")
    return out


def _equity_doc(snap: Any, report: dict[str, Any] | None) -> dict[str, Any]:
    """The equity keys of the status document (``None`` before the first snapshot)."""
    return {
        "equity": str(snap.equity) if snap else None,
        "equity_known": snap is not None and (report is None or bool(report.get("equity_known", True))),
        "equity_as_of": snap.at.isoformat() if snap else None,
        "unpriced_assets": [] if report is None else list(report.get("unpriced", [])),
        "high_water_mark": str(snap.high_water_mark) if snap else None,
        "day_start_equity": str(snap.day_start_equity) if snap else None,
    }


def _last_cycle_doc(last: Any, now: datetime) -> dict[str, Any] | None:
    if last is None:
        return None
    ended = last.finished_at or last.started_at
    return {
        "cycle_id": last.cycle_id, "started_at": last.started_at.isoformat(),
        "finished_at": last.finished_at.isoformat() if last.finished_at else None,
        "outcome": last.outcome, "safe_mode": last.safe_mode,
        "age_s": None if ended is None else max(0.0, (now - ended).total_seconds()),
    }


def _lease_doc(holder: Any, now: datetime) -> dict[str, Any] | None:
    if holder is None:
        return None
    return {
        "held": holder.expires_at > now, "host": holder.owner_host, "pid": holder.owner_pid,
        "expires_at": holder.expires_at.isoformat(),
    }


def status(settings: Settings, clock: Clock | None = None) -> dict[str, Any]:
    """Everything ``btcbot status`` shows (see the module docstring)."""
    now = (clock or SystemClock()).now()
    engine = open_database(settings)
    try:
        with ReadOnlyUnitOfWork(engine) as uow:
            state = uow.trading_state.get()
            snap = uow.snapshots.latest()
            wallet = uow.ledger.wallet_balances()
            reserve = uow.ledger.balance(Account.RESERVE, settings.trading.quote_asset)
            open_orders, recent = _orders(uow)
            breakers = _breakers(uow, settings.resilience.breaker_cooldown_s)
            rearmed = last_rearm_doc(uow.meta)
            report = read_report(uow.meta.get(META_CYCLE_REPORT))
            streak = uow.meta.get(META_DRIFT_STREAK)
            profit = _profit(uow, settings, now, report)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT max(cycle_id) FROM cycles")).scalar()
        last = None
        if row is not None:
            with ReadOnlyUnitOfWork(engine) as uow:
                last = uow.cycles.get(int(row))
        holder = current_holder(engine)
    finally:
        engine.dispose()
    hold = _hold(report)
    doc: dict[str, Any] = {
        "mode": "paper" if settings.trading.dry_run else "live",
        "quote": settings.trading.quote_asset,
        "trading_state": state.state.value,
        "trading_state_reason": state.reason,
        "trading_state_since": state.since.isoformat(),
        **_equity_doc(snap, report),
        "last_rearm": rearmed,
        "reserve_bucket": str(reserve),
        "wallet": {a: str(v) for a, v in sorted(wallet.items())},
        "open_orders": open_orders,
        "recent_orders": recent,
        "breakers": {g: b["state"] for g, b in breakers.items()},
        "breaker_details": breakers,
        "last_cycle": _last_cycle_doc(last, now),
        "lease": _lease_doc(holder, now),
        "last_decisions": _last_decisions(report),
        "strategy_hold_reason": None if hold is None else hold["detail"],
        "strategy_hold_code": None if hold is None else hold["code"],
        "balance_check": _balance_check(report, streak),
        "capital_policy": _policy(report),
        "profit": profit,
    }
    doc["problems"] = _problems(doc, now, settings.trading.cycle_interval_s)
    doc["why_no_trades"] = _why_no_trades(doc)
    doc["ok"] = not doc["problems"]
    return doc


__all__ = ["HOLD_REASON_NOTE", "status"]
