"""The last cycle's report: what ``btcbot status`` needs to say why the bot is (not) trading.

Written by the cycle in its checkpoint transaction (one ``meta`` row, ``cycle.last_report``,
replaced every cycle: no extra transaction, no history) and read by ``btcbot.app.status``. It holds
what no table keeps: the safe-mode reasons, every intent with its risk decision (denial code and
detail), whether the strategy was asked at all, the balance mismatches the reconciler saw, the
capital-policy figures of the post-trade view and the marks they were computed with.

The document is versioned (``v``); a reader meets older or missing documents with ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.contracts.strategy import HoldReason
from btcbot.domain.enums import TradingState
from btcbot.domain.intents import Approved, Denied, RiskDecision
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.execution.corrections import BalanceDrift, ExternalSurplus
from btcbot.services.risk.capital_policy import CapitalPolicySnapshot

META_CYCLE_REPORT = "cycle.last_report"
VERSION = 1


#: json.dumps(doc, sort_keys=True, separators=(",", ":")) with the encoder built once.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def not_asked_reason(fresh_symbols: Iterable[str] | None, state: TradingState) -> str | None:
    """Why the strategy was not asked this cycle (the cycle's own condition), None when it was."""
    if state is TradingState.HALTED:
        return "trading state HALTED"
    if fresh_symbols is None:
        return "no market data"
    if not list(fresh_symbols):
        return "no fresh market data for any symbol"
    return None


def _decision(decision: RiskDecision) -> dict[str, Any]:
    intent = decision.intent
    doc: dict[str, Any] = {
        "symbol": intent.symbol, "side": intent.side.value, "type": intent.order_type.value,
        "quantity": str(intent.quantity), "reference_price": str(intent.reference_price),
    }
    if isinstance(decision, Denied):
        doc.update(decision="denied", code=decision.code.value, detail=decision.detail)
    else:
        assert isinstance(decision, Approved)
        doc.update(decision="approved", risk_increasing=decision.risk_increasing)
        if decision.resized:
            doc["requested_quantity"] = str(decision.original.quantity)
    return doc


def _balance(issue: BalanceDrift | ExternalSurplus) -> dict[str, Any]:
    return {
        "kind": "shortfall" if isinstance(issue, BalanceDrift) else "surplus", "asset": issue.asset,
        "ledger": str(issue.ledger), "exchange": str(issue.exchange), "diff": str(issue.diff),
        "diff_quote": None if issue.diff_quote is None else str(issue.diff_quote),
    }


def build_report(
    *,
    cycle_id: int,
    at: datetime,
    reasons: Sequence[str],
    state: TradingState,
    fresh_symbols: Iterable[str] | None,
    intents: int,
    decisions: Sequence[RiskDecision],
    submitted: int,
    balance_issues: Sequence[BalanceDrift | ExternalSurplus] | None,
    view: PortfolioView,
    policy: CapitalPolicySnapshot | None,
    hold_reason: HoldReason | None = None,
) -> str:
    """The JSON document of one cycle. ``balance_issues`` None: the reconciler could not compare
    (open orders or balances unavailable); ``policy`` None: equity unknown (an unpriced coin);
    ``hold_reason``: why the cycle sent nothing (None when it traded or the strategy was not asked)."""
    unpriced = sorted(s for s, q in view.positions.items() if q != 0 and view.prices.get(s, Decimal(0)) <= 0)
    doc: dict[str, Any] = {
        "v": VERSION,
        "cycle_id": cycle_id,
        "at": at.isoformat(),
        "safe_mode": bool(reasons),
        "reasons": list(reasons),
        "strategy": {
            "asked": not_asked_reason(fresh_symbols, state) is None,
            "not_asked_reason": not_asked_reason(fresh_symbols, state),
            "intents": intents,
            # Why nothing was sent (btcbot.app.hold_report): None when it traded or was not asked.
            "hold_reason": None if hold_reason is None else {"code": hold_reason.code, "detail": hold_reason.detail},
        },
        "decisions": [_decision(d) for d in decisions],
        "submitted": submitted,
        "balance_check": None if balance_issues is None else [_balance(i) for i in balance_issues],
        "equity_known": not unpriced,
        "unpriced": unpriced,
        "prices": {s: str(p) for s, p in sorted(view.prices.items())},
        "policy": None if policy is None else policy.to_record(),
    }
    return _ENCODE(doc)


def read_report(raw: str | None) -> dict[str, Any] | None:
    """The stored document, or None (never written, unreadable, or of another version)."""
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        return None
    return doc


__all__ = ["META_CYCLE_REPORT", "build_report", "not_asked_reason", "read_report"]
