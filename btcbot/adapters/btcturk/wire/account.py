"""Wire schemas of the private endpoints (/api/v1) and their parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from loguru import logger
from pydantic import Field

from btcbot.adapters.btcturk.wire._decode import unwrap, validate
from btcbot.adapters.btcturk.wire._types import (
    OptDecimal,
    OptMillis,
    WireDecimal,
    WireInt,
    WireModel,
    WireOrderType,
    WireSide,
    WireStatus,
    WireSymbol,
)
from btcbot.domain.enums import Side
from btcbot.domain.errors import MalformedPayload
from btcbot.domain.exchange_models import ExchangeOrder, Fill, OrderRequest, SubmitAck
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.market import Balance


class BalanceWire(WireModel):
    asset: str
    balance: WireDecimal
    locked: WireDecimal
    free: WireDecimal

    def to_domain(self) -> Balance:
        return Balance(asset=self.asset.upper(), free=self.free, locked=self.locked, total=self.balance)


class OrderWire(WireModel):
    """One order of openOrders / allOrders / order/{id}; the legacy sample spells ``pairsymbol``."""

    id: WireInt
    amount: WireDecimal
    price: OptDecimal = None
    quantity: OptDecimal = None
    pair_symbol: WireSymbol
    type: WireSide
    method: WireOrderType
    status: WireStatus
    order_client_id: str | None = None
    left_amount: OptDecimal = None
    stop_price: OptDecimal = None
    time: OptMillis = None
    update_time: OptMillis = None

    def to_domain(self) -> ExchangeOrder:
        return ExchangeOrder(
            exchange_order_id=ExchangeOrderId(self.id),
            client_order_id=ClientOrderId(self.order_client_id) if self.order_client_id else None,
            symbol=Symbol(self.pair_symbol),
            side=self.type,
            order_type=self.method,
            # Market orders may carry no price; quantity is odd on market buys anyway (5.5/6.3).
            price=self.price if self.price is not None else Decimal(0),
            amount=self.amount,
            quantity=self.quantity if self.quantity is not None else self.amount,
            left_amount=self.left_amount,
            status=self.status,
            created_at=self.time,
            updated_at=self.update_time,
        )


class OpenOrdersWire(WireModel):
    """``asks`` are our SELL orders, ``bids`` our BUY orders."""

    asks: list[OrderWire] = Field(default_factory=list)
    bids: list[OrderWire] = Field(default_factory=list)

    def to_domain(self) -> list[ExchangeOrder]:
        return [o.to_domain() for o in (*self.bids, *self.asks)]


class UserTradeWire(WireModel):
    """One row of /api/v1/users/transactions/trade: amount/fee/tax are negative for outflows."""

    id: WireInt
    price: WireDecimal
    amount: WireDecimal
    # Required: every documented row carries both (btcturk_api.md 5.2, the 2019 sample too). A row
    # without them is damaged; booking it with fee 0 would put the ledger off by that fee.
    fee: WireDecimal
    tax: WireDecimal
    numerator_symbol: str
    denominator_symbol: str
    timestamp: OptMillis = None
    order_id: WireInt | None = None
    order_client_id: str | None = None
    order_type: WireSide | None = None

    @property
    def symbol(self) -> str:
        return f"{self.numerator_symbol}{self.denominator_symbol}".upper()

    def to_domain(self, endpoint: str, order_id: int) -> Fill:
        """The fill of exchange order ``order_id``: the row's own ``orderId``, or an id the caller
        proved by other means (never merely the id it asked for)."""
        if self.timestamp is None:
            raise MalformedPayload(endpoint, "timestamp", "missing")
        # Older rows have no orderType: a negative amount is base leaving the account (a sell).
        side = self.order_type or (Side.SELL if self.amount < 0 else Side.BUY)
        return Fill(
            trade_id=self.id,
            order_id=ExchangeOrderId(order_id),
            client_order_id=ClientOrderId(self.order_client_id) if self.order_client_id else None,
            symbol=Symbol(self.symbol),
            side=side,
            price=self.price,
            quantity=abs(self.amount),
            fee=abs(self.fee),
            tax=abs(self.tax),
            fee_asset=self.denominator_symbol.upper(),
            timestamp=self.timestamp,
        )


class SubmitAckWire(WireModel):
    """``data`` of a successful POST /api/v1/order."""

    id: WireInt
    created: OptMillis = Field(None, alias="datetime")
    quantity: OptDecimal = None
    price: OptDecimal = None
    pair_symbol: WireSymbol | None = None
    new_order_client_id: str | None = None
    type: WireSide | None = None

    def check_echo(self, endpoint: str, request: OrderRequest) -> None:
        """An ack that names another order (client id, pair or side) is not an ack of ours."""
        if self.new_order_client_id is not None and self.new_order_client_id != request.client_order_id:
            raise MalformedPayload(endpoint, "data.newOrderClientId", "does not echo the client id we sent")
        if self.pair_symbol is not None and self.pair_symbol != request.symbol.replace("_", "").upper():
            raise MalformedPayload(endpoint, "data.pairSymbol", "does not echo the pair we sent")
        if self.type is not None and self.type is not request.side:
            raise MalformedPayload(endpoint, "data.type", "does not echo the side we sent")

    def to_domain(self, request: OrderRequest, fallback_time: datetime) -> SubmitAck:
        # The request is the authority for what we asked; the echo only adds id and time.
        return SubmitAck(
            exchange_order_id=ExchangeOrderId(self.id),
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            price=request.price,
            quantity=request.wire_quantity,
            created_at=self.created or fallback_time,
        )


# ----------------------------------------------------------------------------- parsers


def parse_balances(endpoint: str, doc: Any) -> list[Balance]:
    data = unwrap(endpoint, doc)
    if not isinstance(data, list):
        raise MalformedPayload(endpoint, "data", "expected a list of balances")
    return [validate(endpoint, BalanceWire, row, prefix=f"data.{i}.").to_domain() for i, row in enumerate(data)]


def parse_open_orders(endpoint: str, doc: Any) -> list[ExchangeOrder]:
    return validate(endpoint, OpenOrdersWire, unwrap(endpoint, doc), prefix="data.").to_domain()


def parse_orders(endpoint: str, doc: Any) -> list[ExchangeOrder]:
    """allOrders. The ``success`` member may be missing (an answer seen without it): a document
    with ``data`` and no ``success`` is accepted; an explicit ``success: false`` never is."""
    if isinstance(doc, dict) and not any(isinstance(k, str) and k.lower() == "success" for k in doc):
        data = next((v for k, v in doc.items() if isinstance(k, str) and k.lower() == "data"), None)
        if data is None:
            raise MalformedPayload(endpoint, "data", "missing (and no success member)")
    else:
        data = unwrap(endpoint, doc)
    if not isinstance(data, list):
        raise MalformedPayload(endpoint, "data", "expected a list of orders")
    return [validate(endpoint, OrderWire, row, prefix=f"data.{i}.").to_domain() for i, row in enumerate(data)]


def parse_order(endpoint: str, doc: Any) -> ExchangeOrder:
    return validate(endpoint, OrderWire, unwrap(endpoint, doc), prefix="data.").to_domain()


@dataclass(frozen=True, slots=True)
class TradeRows:
    """A user-trades answer: ``fills`` of rows that name their order, and ``orphans``: rows
    without ``orderId`` (the 2019 payload, a damaged answer). An orphan is never given the order
    id that was asked for; only the caller can match it (by ``orderClientId``) or ignore it."""

    fills: list[Fill]
    orphans: list[UserTradeWire]


def _has_member(doc: Any, name: str) -> bool:
    return isinstance(doc, dict) and any(isinstance(k, str) and k.lower() == name for k in doc)


def parse_user_trade_rows(endpoint: str, doc: Any) -> TradeRows:
    data = unwrap(endpoint, doc)
    if data is None:
        if not _has_member(doc, "data"):
            # ``data: null`` may mean "no trades"; a missing member is a damaged answer, and
            # reading it as "no fills" would hide fills of a closed order.
            raise MalformedPayload(endpoint, "data", "missing")
        return TradeRows([], [])
    if not isinstance(data, list):
        raise MalformedPayload(endpoint, "data", "expected a list of trades")
    fills: list[Fill] = []
    orphans: list[UserTradeWire] = []
    for i, row in enumerate(data):
        wire_row = validate(endpoint, UserTradeWire, row, prefix=f"data.{i}.")
        if wire_row.order_id is None:
            orphans.append(wire_row)
        else:
            fills.append(wire_row.to_domain(endpoint, wire_row.order_id))
    return TradeRows(fills, orphans)


def parse_user_trades(endpoint: str, doc: Any) -> list[Fill]:
    """Fills of rows that name their order; rows without ``orderId`` are dropped and logged."""
    rows = parse_user_trade_rows(endpoint, doc)
    if rows.orphans:
        logger.bind(event="exchange.trade_without_order_id", endpoint=endpoint).warning(
            "{} trade row(s) without orderId ignored (trade ids {})", len(rows.orphans),
            ", ".join(str(r.id) for r in rows.orphans[:5]),
        )
    return rows.fills


def parse_submit_ack(endpoint: str, doc: Any, request: OrderRequest, fallback_time: datetime) -> SubmitAck:
    ack = validate(endpoint, SubmitAckWire, unwrap(endpoint, doc), prefix="data.")
    ack.check_echo(endpoint, request)
    return ack.to_domain(request, fallback_time)


def parse_cancel(endpoint: str, doc: Any) -> None:
    """A cancel answer carries no order data; only the envelope's success matters."""
    unwrap(endpoint, doc)
