"""What goes to and comes back from an exchange, normalized (adapter wire schemas map to these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btcbot.domain.enums import OrderType, Side, VenueOrderStatus
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol

MAX_CLIENT_ORDER_ID_LEN = 50


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A fully rounded order, ready for the wire.

    BTC Turk's ``quantity`` means the QUOTE amount for a market BUY and the BASE amount otherwise.
    To make that impossible to get wrong, a market buy carries ``quote_amount`` and no
    ``base_quantity``; every other order carries ``base_quantity`` and no ``quote_amount``.
    """

    symbol: Symbol
    side: Side
    order_type: OrderType
    client_order_id: ClientOrderId
    base_quantity: Decimal | None = None
    quote_amount: Decimal | None = None
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id or len(self.client_order_id) > MAX_CLIENT_ORDER_ID_LEN:
            raise ValueError("client_order_id must be 1..50 characters")
        market_buy = self.order_type is OrderType.MARKET and self.side is Side.BUY
        if market_buy:
            if self.quote_amount is None or self.base_quantity is not None:
                raise ValueError("a market BUY is sized by quote_amount only")
            if self.quote_amount <= 0:
                raise ValueError("quote_amount must be positive")
        else:
            if self.base_quantity is None or self.quote_amount is not None:
                raise ValueError("limit orders and market SELLs are sized by base_quantity only")
            if self.base_quantity <= 0:
                raise ValueError("base_quantity must be positive")
        if self.order_type is OrderType.LIMIT and (self.price is None or self.price <= 0):
            raise ValueError("a LIMIT order needs a positive price")

    @property
    def wire_quantity(self) -> Decimal:
        """The value BTC Turk expects in ``quantity``."""
        value = self.quote_amount if self.base_quantity is None else self.base_quantity
        assert value is not None
        return value


@dataclass(frozen=True, slots=True)
class SubmitAck:
    """The exchange accepted an order (POST /api/v1/order succeeded). Fills come later."""

    exchange_order_id: ExchangeOrderId
    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    order_type: OrderType
    price: Decimal | None
    quantity: Decimal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CancelAck:
    """The exchange accepted a cancel REQUEST; the order is canceled only when it shows Canceled."""

    exchange_order_id: ExchangeOrderId


@dataclass(frozen=True, slots=True)
class ExchangeOrder:
    """An order as the exchange reports it (open orders, all orders, single order).

    ``amount`` is the original base quantity and ``left_amount`` what is still open, both base.
    Market-buy rows have odd ``quantity``/``price`` values: never derive fills from them, use
    user trades by order id.
    """

    exchange_order_id: ExchangeOrderId
    client_order_id: ClientOrderId | None
    symbol: Symbol
    side: Side
    order_type: OrderType
    price: Decimal
    amount: Decimal
    quantity: Decimal
    left_amount: Decimal | None
    status: VenueOrderStatus
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of one of our orders (``/api/v1/users/transactions/trade``).

    ``quantity`` is base, always positive; ``fee`` and ``tax`` are positive amounts of
    ``fee_asset`` (the quote asset on TRY pairs).
    """

    trade_id: int
    order_id: ExchangeOrderId
    client_order_id: ClientOrderId | None
    symbol: Symbol
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    tax: Decimal
    fee_asset: str
    timestamp: datetime

    @property
    def quote_value(self) -> Decimal:
        """price x quantity, exact (no rounding)."""
        return self.price * self.quantity
