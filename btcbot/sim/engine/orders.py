"""Orders, trades and rejections of the simulated venue (engine-side, wire-agnostic)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

UNTOUCHED: Final = "Untouched"
PARTIAL: Final = "Partial"
CLOSED: Final = "Closed"
CANCELED: Final = "Canceled"
OPEN_STATUSES: Final = frozenset({UNTOUCHED, PARTIAL})

BUY: Final = "buy"
SELL: Final = "sell"
LIMIT: Final = "limit"
MARKET: Final = "market"

#: What the reference shows for `quantity` on a filled market-buy row (§6.3).
MARKET_BUY_ROW_QUANTITY: Final = Decimal("0.0000000000000001")


class SimReject(Exception):
    """A business rejection with the venue's exact ``message`` and ``code`` (HTTP 400)."""

    def __init__(self, message: str, code: int, http_status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


# Exact names/codes from the reference §8. Codes the reference leaves undocumented are our choice
# (marked "sim"); clients must match on the message first anyway.
BALANCE_NOT_ENOUGH: Final = ("BALANCE_NOT_ENOUGH", 1055)
FAILED_ORDER_WITH_OPEN_ORDERS: Final = ("FAILED_ORDER_WITH_OPEN_ORDERS", 1122)
FAILED_MIN_TOTAL_AMOUNT: Final = ("FAILED_MIN_TOTAL_AMOUNT", 1123)
FAILED_INVALID_PRICE_SCALE: Final = ("FAILED_INVALID_PRICE_SCALE", 1126)
FAILED_INVALID_QUANTITY_SCALE: Final = ("FAILED_INVALID_QUANTITY_SCALE", 1127)
PRICE_MUST_BE_LESS_THAN_MAXPRICE: Final = ("PRICE_MUST_BE_LESS_THAN_MAXPRICE", 1226)
PRICE_MUST_BE_LESS_THAN_MINPRICE: Final = ("PRICE_MUST_BE_LESS_THAN_MINPRICE", 1227)
NO_ORDER_MATCHES_YOUR_REQUEST: Final = ("NO_ORDER_MATCHES_YOUR_REQUEST", 1052)
ORDER_NOT_FOUND: Final = ("Order not found", 1152)
FAILED_MARKET_ORDER: Final = ("FAILED_MARKET_ORDER", 1118)
FAILED_LIMIT_ORDER: Final = ("FAILED_LIMIT_ORDER", 1120)
ORDER_TYPE_NOT_SUPPORTED: Final = ("ORDER_TYPE_NOT_SUPPORTED", 1193)
ORDER_METHOD_NOT_SUPPORTED: Final = ("ORDER_METHOD_NOT_SUPPORTED", 1134)
ORDER_COULD_NOT_BE_CANCELED: Final = ("ORDER_COULD_NOT_BE_CANCELED", 1053)  # sim code
FAILED_ORDER_PARAMETER: Final = ("FAILED_ORDER_PARAMETER", 1000)  # sim code
PAIR_NOT_FOUND: Final = ("PAIR_NOT_FOUND", 1001)  # sim code


def reject(error: tuple[str, int]) -> SimReject:
    """Build the exception for one of the (message, code) constants above."""
    return SimReject(error[0], error[1])


@dataclass(slots=True)
class SimOrder:
    """A venue order. Mutable: the engine updates fills, status and locks in place."""

    id: int
    client_id: str
    symbol: str
    side: str
    method: str
    price: Decimal
    #: As submitted: base units, except a market BUY where it is the quote amount to spend.
    quantity: Decimal
    #: Base amount of the order (limit: quantity; market buy: base bought so far).
    amount: Decimal
    left: Decimal
    status: str
    created_ms: int
    updated_ms: int
    visible_ms: int
    lock_asset: str
    lock_remaining: Decimal
    cancel_at_ms: int | None = None
    quote_spent: Decimal = Decimal(0)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def filled(self) -> Decimal:
        return self.amount - self.left


@dataclass(frozen=True, slots=True)
class SimTrade:
    """One fill of the account's order. ``amount``, ``fee``, ``tax`` positive here; the wire negates."""

    id: int
    order_id: int
    client_id: str
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    tax: Decimal
    timestamp_ms: int
    maker: bool


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A print on the public tape (synthetic flow or the account's own fills)."""

    tid: int
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    timestamp_ms: int
