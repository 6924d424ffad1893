"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class VenueOrderStatus(StrEnum):
    """BTC Turk's order statuses, normalized (the wire uses Title case: Untouched, Partial ...)."""

    UNTOUCHED = "UNTOUCHED"
    PARTIAL = "PARTIAL"
    CLOSED = "CLOSED"
    CANCELED = "CANCELED"

    @property
    def is_open(self) -> bool:
        return self in (VenueOrderStatus.UNTOUCHED, VenueOrderStatus.PARTIAL)


class OrderState(StrEnum):
    """Local order lifecycle (ARCHITECTURE.md section 4); transitions in ``domain.orders``."""

    PLANNED = "PLANNED"
    SUBMITTING = "SUBMITTING"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"
    NOT_PLACED = "NOT_PLACED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.NOT_PLACED}
)


class TradingState(StrEnum):
    """ACTIVE: normal. REDUCING: only risk-reducing orders. HALTED: only cancels."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class EndpointGroup(StrEnum):
    """Circuit-breaker and metrics grouping of exchange endpoints."""

    MARKET_DATA = "market_data"
    ACCOUNT = "account"
    ORDERS = "orders"
