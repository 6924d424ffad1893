"""Small value builders shared by the execution-core tests (plain functions, no fixtures magic)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.domain.enums import OrderState, OrderType, Side, VenueOrderStatus
from btcbot.domain.exchange_models import ExchangeOrder, Fill, SubmitAck
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.orders import ManagedOrder

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CID = ClientOrderId("bb-s1-c000001-BTCTRY-B-aaaaaaaaaa")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def order(state: OrderState = OrderState.PLANNED, **changes: object) -> ManagedOrder:
    base = ManagedOrder(
        client_order_id=CID,
        cycle_id=1,
        strategy_id="s1",
        symbol=Symbol("BTCTRY"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("1.0"),
        price=Decimal("100"),
        quote_amount=None,
        state=state,
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def xorder(
    status: VenueOrderStatus,
    *,
    exchange_order_id: int = 5001,
    client_order_id: str | None = CID,
    left: Decimal | None = Decimal("1.0"),
    symbol: str = "BTCTRY",
    side: Side = Side.BUY,
    amount: Decimal = Decimal("1.0"),
) -> ExchangeOrder:
    return ExchangeOrder(
        exchange_order_id=ExchangeOrderId(exchange_order_id),
        client_order_id=None if client_order_id is None else ClientOrderId(client_order_id),
        symbol=Symbol(symbol),
        side=side,
        order_type=OrderType.LIMIT,
        price=Decimal("100"),
        amount=amount,
        quantity=amount,
        left_amount=left,
        status=status,
        created_at=None,
        updated_at=None,
    )


def fill(
    quantity: str | Decimal,
    *,
    trade_id: int = 9001,
    order_id: int = 5001,
    client_order_id: str | None = CID,
    price: str = "100",
    symbol: str = "BTCTRY",
    side: Side = Side.BUY,
    fee: str = "0.1",
    tax: str = "0.02",
    ts: float = 10,
) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=ExchangeOrderId(order_id),
        client_order_id=None if client_order_id is None else ClientOrderId(client_order_id),
        symbol=Symbol(symbol),
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        tax=Decimal(tax),
        fee_asset="TRY",
        timestamp=at(ts),
    )


def ack(exchange_order_id: int = 5001, client_order_id: str = CID) -> SubmitAck:
    return SubmitAck(
        exchange_order_id=ExchangeOrderId(exchange_order_id),
        client_order_id=ClientOrderId(client_order_id),
        symbol=Symbol("BTCTRY"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        price=Decimal("100"),
        quantity=Decimal("1.0"),
        created_at=at(1),
    )
