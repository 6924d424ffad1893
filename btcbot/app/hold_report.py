"""Why a cycle sent no order: the strategy's hold reason, or the risk engine's denials.

The cycle asks the strategy through :class:`HoldTracker` (two lines in ``app/cycle.py``):

* ``decide``: the strategy's ``decide``; when it returned no intents, its optional
  ``hold_reason(snapshot, portfolio, tradable_symbols)`` (``btcbot.contracts.strategy.ExplainsHold``)
  with the same arguments. A strategy without it - every user strategy written before it
  existed, ``examples/my_strategy.py`` included - is reported as ``not_reported``; one whose
  ``hold_reason`` raises is logged and reported as ``not_reported`` too: explaining must never
  cost a cycle.
* ``finish``: the cycle's verdict. None when an intent was approved (the bot traded) or the
  strategy was not asked (HALTED, no fresh market data: the cycle report says that already);
  the strategy's reason when it returned no intents; when it proposed intents and the risk
  engine denied every one, a reason built from the denial codes (``edge_below_minimum`` when the
  edge gate denied them, ``position_cap`` for exposure limits, ...). It also sets the
  ``strategy_holding{reason}`` gauge: 1 for this cycle's reason, 0 for the others seen so far.

The reason goes into the ``cycle.finished`` log record (field ``hold_reason``, ``"<code>:
<detail>"``), the cycle report read by ``btcbot status`` and the metric.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from loguru import logger

from btcbot.contracts.strategy import HoldCode, HoldReason, MarketSnapshot, Strategy
from btcbot.domain.intents import Approved, DecisionCode, Denied, OrderIntent, RiskDecision
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.holds import SymbolHold, combine

#: What a strategy without ``hold_reason`` is reported as.
NOT_REPORTED = HoldReason(HoldCode.NOT_REPORTED.value, "not reported (the strategy has no hold_reason())")
#: A code usable as a metric label; anything else is exported as ``other``.
_LABEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: Longest detail kept (a user strategy's free text is cut here).
MAX_DETAIL = 500

_DENIAL_CODES: dict[DecisionCode, HoldCode] = {
    DecisionCode.ALPHA_EDGE_BELOW_MINIMUM: HoldCode.EDGE_BELOW_MINIMUM,
    DecisionCode.RISK_ASSET_EXPOSURE_LIMIT: HoldCode.POSITION_CAP,
    DecisionCode.RISK_PORTFOLIO_EXPOSURE_LIMIT: HoldCode.POSITION_CAP,
    DecisionCode.RISK_ASSET_QUANTITY_LIMIT: HoldCode.POSITION_CAP,
    DecisionCode.RISK_CONCENTRATION_LIMIT: HoldCode.POSITION_CAP,
    DecisionCode.RISK_TRADING_HALTED: HoldCode.NOT_TRADING,
    DecisionCode.RISK_TRADING_REDUCING: HoldCode.NOT_TRADING,
    DecisionCode.CAPITAL_RESERVED_CASH_BREACH: HoldCode.NO_CASH,
    DecisionCode.CAPITAL_FEE_BUFFER_BREACH: HoldCode.NO_CASH,
    DecisionCode.VENUE_MIN_NOTIONAL: HoldCode.ORDER_TOO_SMALL,
}


class HoldGauge(Protocol):
    def set_strategy_hold(self, code: str | None) -> None: ...


def metric_label(code: str) -> str:
    """``code`` when it is a short lower-case identifier, else ``other`` (bounded label values)."""
    return code if _LABEL.fullmatch(code) else HoldCode.OTHER.value


def strategy_hold(
    strategy: Strategy, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]
) -> HoldReason:
    """The strategy's own reason for returning no intents (see the module docstring)."""
    explain = getattr(strategy, "hold_reason", None)
    if not callable(explain):
        return NOT_REPORTED
    try:
        raw: Any = explain(snapshot, portfolio, tradable)
    except Exception as exc:  # a user strategy's bug must not cost the cycle
        logger.bind(event="strategy.hold_reason_failed", outcome=type(exc).__name__).warning(
            f"the strategy's hold_reason() raised {type(exc).__name__}; reported as not_reported"
        )
        return HoldReason(HoldCode.NOT_REPORTED.value, f"not reported (hold_reason() raised {type(exc).__name__})")
    if raw is None:
        return HoldReason(HoldCode.NOT_REPORTED.value, "not reported (hold_reason() gave no reason)")
    if isinstance(raw, HoldReason):
        return HoldReason(str(raw.code), _clip(str(raw.detail)))
    return HoldReason(HoldCode.OTHER.value, _clip(str(raw)))


def risk_hold(decisions: Sequence[RiskDecision]) -> HoldReason | None:
    """When the risk engine denied every intent: why, from the denial codes (else None)."""
    if not decisions or any(isinstance(d, Approved) for d in decisions):
        return None
    per_symbol: list[SymbolHold] = []
    for d in decisions:
        assert isinstance(d, Denied)
        code = _DENIAL_CODES.get(d.code, HoldCode.RISK_DENIED)
        per_symbol.append((d.intent.symbol, HoldReason(code.value, f"{d.intent.side.value} denied by risk: {d.code.value}")))
    return combine(per_symbol)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def describe(hold: HoldReason | None) -> str | None:
    """``"<code>: <detail>"`` for the log, None when the cycle did not hold."""
    return None if hold is None else f"{hold.code}: {hold.detail}"


class HoldTracker:
    """One per trading cycle object: remembers the strategy's reason between ``decide`` and the
    checkpoint (see the module docstring)."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: HoldReason | None = None

    def decide(
        self, strategy: Strategy, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]
    ) -> list[OrderIntent]:
        """``strategy.decide``, and when it holds, ``strategy_hold`` with the same arguments."""
        intents = list(strategy.decide(snapshot, portfolio, tradable))
        self._held = None if intents else strategy_hold(strategy, snapshot, portfolio, tradable)
        return intents

    def finish(
        self, intents: Sequence[Any], decisions: Sequence[RiskDecision], metrics: HoldGauge | None = None
    ) -> HoldReason | None:
        """This cycle's hold reason (None: it traded or the strategy was not asked); resets the
        tracker and sets the ``strategy_holding`` gauge."""
        held, self._held = self._held, None
        hold = risk_hold(decisions) if intents else held
        if metrics is not None:
            metrics.set_strategy_hold(None if hold is None else metric_label(hold.code))
        return hold


__all__ = ["NOT_REPORTED", "HoldTracker", "describe", "metric_label", "risk_hold", "strategy_hold"]
