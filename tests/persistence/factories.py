"""Small builders of domain values for persistence tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.ledger import PortfolioSnapshot
from btcbot.domain.orders import ManagedOrder

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def order(cid: str = "s1-1-BTCTRY-B-abc", state: OrderState = OrderState.PLANNED, **kw: object) -> ManagedOrder:
    values: dict[str, object] = {
        "client_order_id": cid,
        "cycle_id": 1,
        "strategy_id": "trend",
        "symbol": "BTCTRY",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal("0.00012345"),
        "price": Decimal("2500000"),
        "quote_amount": None,
        "state": state,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(kw)
    return ManagedOrder(**values)  # type: ignore[arg-type]


def fill(
    trade_id: int = 1,
    side: Side = Side.BUY,
    price: str = "2500000",
    quantity: str = "0.001",
    fee: str = "3.75",
    tax: str = "0.75",
    order_id: int = 900,
    at: datetime = T0,
) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=ExchangeOrderId(order_id),
        client_order_id=ClientOrderId("s1-1-BTCTRY-B-abc"),
        symbol=Symbol("BTCTRY"),
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        tax=Decimal(tax),
        fee_asset="TRY",
        timestamp=at,
    )


def snapshot(cycle_id: int = 1, equity: str = "10000", at: datetime = T0) -> PortfolioSnapshot:
    return PortfolioSnapshot(
        at=at,
        cycle_id=cycle_id,
        equity=Decimal(equity),
        high_water_mark=Decimal("10500.5"),
        day_start_equity=Decimal("9990.01"),
        day_key=at.strftime("%Y-%m-%d"),
        reserve_bucket=Decimal("100"),
        rolling_notional_30d=Decimal("123456789012.123456789"),
        realized_pnl_mtd=Decimal("-12.5"),
        month_key=at.strftime("%Y-%m"),
        harvested_mtd=Decimal("0.0000000000000001"),
    )


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
