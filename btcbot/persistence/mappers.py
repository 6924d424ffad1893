"""Explicit mappings between ORM rows and domain values (and JSON payload encoding)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Row

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.ledger import PortfolioSnapshot
from btcbot.domain.orders import ManagedOrder
from btcbot.persistence.tables import FillRow, OrderRow, SnapshotRow


def _json_default(value: object) -> object:
    # Exact text for money and time: never let json turn a Decimal into a float.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps_payload(payload: Mapping[str, Any] | None) -> str | None:
    """Compact, key-sorted JSON (Decimal as string); None stays None."""
    if payload is None:
        return None
    return json.dumps(dict(payload), default=_json_default, sort_keys=True, separators=(",", ":"))


def loads_payload(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def order_to_row(order: ManagedOrder, row: OrderRow | None = None) -> OrderRow:
    row = row if row is not None else OrderRow()
    row.client_order_id = order.client_order_id
    row.exchange_order_id = order.exchange_order_id
    row.state = order.state.value
    row.cycle_id = order.cycle_id
    row.strategy_id = order.strategy_id
    row.symbol = order.symbol
    row.side = order.side.value
    row.type = order.order_type.value
    row.quantity = order.quantity
    row.price = order.price
    row.quote_amount = order.quote_amount
    row.filled_quantity = order.filled_quantity
    row.filled_quote = order.filled_quote
    row.fees_paid = order.fees_paid
    row.reject_reason = order.reject_reason
    row.reject_code = order.reject_code
    row.risk_increasing = order.risk_increasing
    row.created_at = order.created_at
    row.updated_at = order.updated_at
    return row


def order_from_row(row: OrderRow | Row[Any]) -> ManagedOrder:
    return ManagedOrder(
        client_order_id=ClientOrderId(row.client_order_id),
        cycle_id=row.cycle_id,
        strategy_id=row.strategy_id,
        symbol=Symbol(row.symbol),
        side=Side(row.side),
        order_type=OrderType(row.type),
        quantity=row.quantity,
        price=row.price,
        quote_amount=row.quote_amount,
        state=OrderState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        exchange_order_id=None if row.exchange_order_id is None else ExchangeOrderId(row.exchange_order_id),
        filled_quantity=row.filled_quantity,
        filled_quote=row.filled_quote,
        fees_paid=row.fees_paid,
        reject_reason=row.reject_reason,
        reject_code=row.reject_code,
        risk_increasing=row.risk_increasing,
    )


def fill_to_row(fill: Fill, cycle_id: int | None) -> FillRow:
    return FillRow(
        trade_id=fill.trade_id,
        exchange_order_id=fill.order_id,
        client_order_id=fill.client_order_id,
        symbol=fill.symbol,
        side=fill.side.value,
        price=fill.price,
        quantity=fill.quantity,
        fee=fill.fee,
        tax=fill.tax,
        fee_asset=fill.fee_asset,
        at=fill.timestamp,
        cycle_id=cycle_id,
    )


def fill_from_row(row: FillRow) -> Fill:
    return Fill(
        trade_id=row.trade_id,
        order_id=ExchangeOrderId(row.exchange_order_id),
        client_order_id=None if row.client_order_id is None else ClientOrderId(row.client_order_id),
        symbol=Symbol(row.symbol),
        side=Side(row.side),
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        tax=row.tax,
        fee_asset=row.fee_asset,
        timestamp=row.at,
    )


def snapshot_values(s: PortfolioSnapshot) -> dict[str, Any]:
    """The snapshot's column values (a Core insert's parameters)."""
    return {
        "cycle_id": s.cycle_id, "at": s.at, "equity": s.equity, "high_water_mark": s.high_water_mark,
        "day_start_equity": s.day_start_equity, "day_key": s.day_key, "reserve_bucket": s.reserve_bucket,
        "rolling_notional_30d": s.rolling_notional_30d, "realized_pnl_mtd": s.realized_pnl_mtd,
        "month_key": s.month_key, "harvested_mtd": s.harvested_mtd,
    }


def snapshot_from_row(r: SnapshotRow | Row[Any]) -> PortfolioSnapshot:
    return PortfolioSnapshot(
        at=r.at,
        cycle_id=r.cycle_id,
        equity=r.equity,
        high_water_mark=r.high_water_mark,
        day_start_equity=r.day_start_equity,
        day_key=r.day_key,
        reserve_bucket=r.reserve_bucket,
        rolling_notional_30d=r.rolling_notional_30d,
        realized_pnl_mtd=r.realized_pnl_mtd,
        month_key=r.month_key,
        harvested_mtd=r.harvested_mtd,
    )
