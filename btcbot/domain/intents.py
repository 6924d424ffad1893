"""Strategy output and risk decisions: plain values passed strategy -> risk -> execution."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from btcbot.domain.enums import OrderType, Side


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy wants: ``quantity`` in BASE units for every order type.

    ``reference_price`` is the price the strategy sized with (used for notional checks and, for a
    market BUY, to convert to the quote amount BTC Turk expects). ``limit_price`` only for LIMIT.
    ``expected_edge_bps`` and the cost estimates feed the edge gate.
    """

    strategy_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    reference_price: Decimal
    expected_edge_bps: Decimal
    est_fee_bps: Decimal = Decimal(0)
    est_slippage_bps: Decimal = Decimal(0)
    limit_price: Decimal | None = None
    reason: str = ""

    @property
    def price_for_notional(self) -> Decimal:
        return self.limit_price if self.limit_price is not None else self.reference_price

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price_for_notional


class DecisionCode(StrEnum):
    """Why the risk engine denied (or resized) an intent. Listed in the README."""

    CAPITAL_RESERVED_CASH_BREACH = "CAPITAL_RESERVED_CASH_BREACH"
    CAPITAL_FEE_BUFFER_BREACH = "CAPITAL_FEE_BUFFER_BREACH"
    RISK_DRAWDOWN_DERISK_ACTIVE = "RISK_DRAWDOWN_DERISK_ACTIVE"
    RISK_ASSET_EXPOSURE_LIMIT = "RISK_ASSET_EXPOSURE_LIMIT"
    RISK_PORTFOLIO_EXPOSURE_LIMIT = "RISK_PORTFOLIO_EXPOSURE_LIMIT"
    ALPHA_EDGE_BELOW_MINIMUM = "ALPHA_EDGE_BELOW_MINIMUM"
    RISK_SYMBOL_NOT_ALLOWED = "RISK_SYMBOL_NOT_ALLOWED"
    RISK_MARKET_DATA_STALE = "RISK_MARKET_DATA_STALE"
    RISK_DAILY_LOSS_LIMIT = "RISK_DAILY_LOSS_LIMIT"
    RISK_TRADING_HALTED = "RISK_TRADING_HALTED"
    RISK_TRADING_REDUCING = "RISK_TRADING_REDUCING"
    RISK_ASSET_QUANTITY_LIMIT = "RISK_ASSET_QUANTITY_LIMIT"
    RISK_CONCENTRATION_LIMIT = "RISK_CONCENTRATION_LIMIT"
    RISK_INSUFFICIENT_POSITION = "RISK_INSUFFICIENT_POSITION"
    VENUE_MIN_NOTIONAL = "VENUE_MIN_NOTIONAL"


@dataclass(frozen=True, slots=True)
class Approved:
    """The intent may be sent; ``intent`` may have been resized down from ``original``."""

    intent: OrderIntent
    original: OrderIntent
    risk_increasing: bool

    @property
    def resized(self) -> bool:
        return self.intent.quantity != self.original.quantity


@dataclass(frozen=True, slots=True)
class Denied:
    intent: OrderIntent
    code: DecisionCode
    detail: str


RiskDecision = Approved | Denied
