"""Typed corrections produced by ``reconcile`` and the report that carries them.

A correction is a value describing one repair; the trading cycle (or ``btcbot reconcile
--apply``) executes it inside its unit of work. Execution order is the report's order:
adopt rows first, then fills (quantities), then state updates, then the rest. Kinds:

| correction              | meaning                                                          | effect          |
|-------------------------|------------------------------------------------------------------|-----------------|
| AdoptUnknownOrder       | an exchange order with OUR client-id prefix and no local row     | insert the row  |
| CorrectFromExchange     | a REJECTED/NOT_PLACED order that the exchange has after all     | reopen, adopt id|
| ApplyFill               | a trade of one of our orders whose trade id we never recorded   | fill + ledger   |
| UpdateOrderState        | the exchange row moves a local order (``on_exchange_order``)     | state           |
| MarkNotPlaced           | unresolved order not on the exchange after the grace period     | NOT_PLACED      |
| CloseVanishedOrder      | open locally, gone from open orders, no final row in history    | get_order(id)   |
| PendingLookup           | unresolved order, not found yet, grace not over                 | none (info)     |
| DuplicateClientOrderId  | several exchange orders carry one of our client ids             | alert           |
| OrderConflict           | exchange truth contradicts local state (an invariant violation) | REDUCING, alert |
| BalanceDrift            | exchange holds LESS than the ledger beyond dust tolerance       | REDUCING, alert |
| ExternalSurplus         | exchange holds MORE (deposit, foreign holdings)                 | none (info)     |
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from btcbot.contracts.reconcile import (
    KIND_ORDER as KIND_ORDER,
)
from btcbot.contracts.reconcile import (  # the values live in the port; kept importable here
    AdoptUnknownOrder as AdoptUnknownOrder,
)
from btcbot.contracts.reconcile import (
    ApplyFill as ApplyFill,
)
from btcbot.contracts.reconcile import (
    BalanceDrift as BalanceDrift,
)
from btcbot.contracts.reconcile import (
    CloseVanishedOrder as CloseVanishedOrder,
)
from btcbot.contracts.reconcile import (
    CorrectFromExchange as CorrectFromExchange,
)
from btcbot.contracts.reconcile import (
    Correction as Correction,
)
from btcbot.contracts.reconcile import (
    DuplicateClientOrderId as DuplicateClientOrderId,
)
from btcbot.contracts.reconcile import (
    ExternalSurplus as ExternalSurplus,
)
from btcbot.contracts.reconcile import (
    MarkNotPlaced as MarkNotPlaced,
)
from btcbot.contracts.reconcile import (
    OrderConflict as OrderConflict,
)
from btcbot.contracts.reconcile import (
    PendingLookup as PendingLookup,
)
from btcbot.contracts.reconcile import (
    ReconcileReport as ReconcileReport,
)
from btcbot.contracts.reconcile import (
    UpdateOrderState as UpdateOrderState,
)
from btcbot.contracts.reconcile import (
    kind_name as kind_name,
)
from btcbot.contracts.reconcile import (
    sort_key as sort_key,
)
from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.domain.orders import ManagedOrder
from btcbot.services.execution.client_order_id import parse_client_order_id
from btcbot.services.execution.order_events import (
    Applied,
    on_exchange_correction,
    on_exchange_order,
    on_fill,
    on_not_found_after_grace,
)

_T = TypeVar("_T")


def _fmt(value: Decimal | None) -> str:
    return "?" if value is None else format(value.normalize(), "f") if value != 0 else "0"


def render_plan(report: ReconcileReport) -> list[tuple[str, str, str]]:
    """Rows ``(kind, subject, detail)`` for the ``btcbot reconcile`` table, in execution order."""
    rows: list[tuple[str, str, str]] = []
    for c in report.corrections:
        kind = kind_name(c)
        if isinstance(c, AdoptUnknownOrder):
            rows.append((kind, c.symbol, f"{c.client_order_id} exchange id {c.exchange_order_id} {c.side}"))
        elif isinstance(c, CorrectFromExchange):
            row = c.exchange_order
            rows.append((kind, "" if row is None else row.symbol,
                         f"{c.client_order_id} is on the exchange as {c.exchange_order_id}"
                         + ("" if row is None else f" ({row.status})") + ": take the exchange's state"))
        elif isinstance(c, ApplyFill):
            f = c.fill
            rows.append(
                (
                    kind,
                    f.symbol,
                    f"{c.client_order_id} trade {f.trade_id} {f.side} "
                    f"{_fmt(f.quantity)} @ {_fmt(f.price)} fee {_fmt(f.fee + f.tax)}",
                )
            )
        elif isinstance(c, UpdateOrderState):
            rows.append(
                (
                    kind,
                    c.exchange_order.symbol,
                    f"{c.client_order_id} -> {c.target} (exchange {c.exchange_order.status})",
                )
            )
        elif isinstance(c, MarkNotPlaced):
            rows.append((kind, "", f"{c.client_order_id} not on the exchange after grace"))
        elif isinstance(c, CloseVanishedOrder):
            rows.append((kind, "", f"{c.client_order_id} exchange id {c.exchange_order_id}: fetch and apply"))
        elif isinstance(c, PendingLookup):
            rows.append((kind, "", f"{c.client_order_id}: {c.reason}"))
        elif isinstance(c, DuplicateClientOrderId):
            rows.append(
                (
                    kind,
                    "",
                    f"{c.client_order_id} tracked {c.chosen}, also {list(c.others)}"
                    f" (open: {list(c.open_others)})",
                )
            )
        elif isinstance(c, OrderConflict):
            rows.append((kind, "", f"{c.client_order_id}: {c.detail}"))
        else:
            rows.append(
                (
                    kind,
                    c.asset,
                    f"ledger {_fmt(c.ledger)} exchange {_fmt(c.exchange)} "
                    f"diff {_fmt(c.diff)} (quote {_fmt(c.diff_quote)})",
                )
            )
    return rows


def apply_correction(order: ManagedOrder, correction: Correction, now: datetime, grace_s: float) -> Applied:
    """Apply an order-level correction to its (loaded) order, purely. The journal event comes back.

    Only CorrectFromExchange, ApplyFill, UpdateOrderState and MarkNotPlaced change an order;
    anything else is a ValueError (adoption builds a row with ``adopt_order``; the others are
    I/O or alerts).
    """
    if getattr(correction, "client_order_id", None) != order.client_order_id:
        raise ValueError(f"correction {kind_name(correction)} is not for order {order.client_order_id}")
    if isinstance(correction, ApplyFill):
        return on_fill(order, correction.fill, now)
    if isinstance(correction, UpdateOrderState):
        return on_exchange_order(order, correction.exchange_order, now)
    if isinstance(correction, MarkNotPlaced):
        return on_not_found_after_grace(order, now, grace_s)
    if isinstance(correction, CorrectFromExchange):
        return on_exchange_correction(order, correction.exchange_order_id, correction.exchange_order, now)
    raise ValueError(f"correction {kind_name(correction)} does not change an order by itself")


def adopt_order(row: ExchangeOrder, now: datetime) -> ManagedOrder:
    """Build the local row for an adopted exchange order of ours, in the state the row implies.

    Quantities start at zero: the order's fills arrive as ApplyFill corrections. The strategy id
    is the (possibly truncated) tag from the client id; the order counts as risk increasing when
    it buys. Raises IllegalTransition for a client id that is not ours.
    """
    parts = parse_client_order_id(row.client_order_id)
    if parts is None or row.client_order_id is None:
        raise IllegalTransition(f"exchange order {row.exchange_order_id} is not ours; never adopted")
    created = row.created_at if row.created_at is not None and row.created_at.timestamp() > 0 else now
    base = ManagedOrder(
        client_order_id=row.client_order_id,
        cycle_id=parts.cycle_id,
        strategy_id=parts.strategy_tag,
        symbol=row.symbol,
        side=row.side,
        order_type=row.order_type,
        quantity=row.amount,
        price=row.price if row.order_type is OrderType.LIMIT else None,
        quote_amount=None,
        state=OrderState.UNKNOWN,
        created_at=created,
        updated_at=now,
        exchange_order_id=row.exchange_order_id,
        risk_increasing=row.side is Side.BUY,
    )
    adopted, _ = on_exchange_order(base, row, now)
    return adopted
