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

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId
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


@dataclass(frozen=True, slots=True)
class AdoptUnknownOrder:
    """Create a local row for an exchange order of ours (``adopt_order``).

    ``exchange_order`` is None when the order is only known from a fill: fetch it first with
    ``get_order(exchange_order_id)``.
    """

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId
    symbol: str
    side: Side
    exchange_order: ExchangeOrder | None


@dataclass(frozen=True, slots=True)
class CorrectFromExchange:
    """Order ``client_order_id`` is REJECTED/NOT_PLACED locally, but the exchange has it as
    ``exchange_order_id``: reopen it as UNKNOWN with that id
    (``order_events.on_exchange_correction``); its fills follow as ApplyFill and its row as
    UpdateOrderState, in the same report.

    ``exchange_order`` is the row that proved it, None when only a trade did (then the row comes
    from a later lookup).
    """

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId
    exchange_order: ExchangeOrder | None


@dataclass(frozen=True, slots=True)
class ApplyFill:
    """Apply ``fill`` to order ``client_order_id`` (order, fill row and ledger in one transaction)."""

    client_order_id: ClientOrderId
    fill: Fill


@dataclass(frozen=True, slots=True)
class UpdateOrderState:
    """Apply ``exchange_order`` to the order; ``target`` is the state that will result."""

    client_order_id: ClientOrderId
    target: OrderState
    exchange_order: ExchangeOrder


@dataclass(frozen=True, slots=True)
class MarkNotPlaced:
    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class CloseVanishedOrder:
    """The order left the open list without a final row in history: ask ``get_order`` and apply it."""

    client_order_id: ClientOrderId
    exchange_order_id: ExchangeOrderId


@dataclass(frozen=True, slots=True)
class PendingLookup:
    client_order_id: ClientOrderId
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateClientOrderId:
    """``chosen`` is tracked; ``others`` are extra exchange orders with the same client id.

    ``open_others`` (a subset of ``others``) are still open: the cycle should cancel them.
    """

    client_order_id: ClientOrderId
    chosen: ExchangeOrderId
    others: tuple[ExchangeOrderId, ...]
    open_others: tuple[ExchangeOrderId, ...]


@dataclass(frozen=True, slots=True)
class OrderConflict:
    client_order_id: ClientOrderId
    detail: str


@dataclass(frozen=True, slots=True)
class BalanceDrift:
    """The exchange holds less than the ledger: ``diff = exchange - ledger < 0``.

    ``ledger`` includes the fills this same report applies. ``diff_quote`` is ``diff`` valued
    in the quote asset, None when no price is known (then any shortfall counts as drift).
    """

    asset: str
    ledger: Decimal
    exchange: Decimal
    diff: Decimal
    diff_quote: Decimal | None


@dataclass(frozen=True, slots=True)
class ExternalSurplus:
    """The exchange holds more than the ledger (``diff > 0``). Information only, never adopted."""

    asset: str
    ledger: Decimal
    exchange: Decimal
    diff: Decimal
    diff_quote: Decimal | None


Correction = (
    AdoptUnknownOrder
    | CorrectFromExchange
    | ApplyFill
    | UpdateOrderState
    | MarkNotPlaced
    | CloseVanishedOrder
    | PendingLookup
    | DuplicateClientOrderId
    | OrderConflict
    | BalanceDrift
    | ExternalSurplus
)

#: execution (and display) order of the kinds
KIND_ORDER: tuple[type, ...] = (
    AdoptUnknownOrder,
    CorrectFromExchange,
    ApplyFill,
    UpdateOrderState,
    MarkNotPlaced,
    CloseVanishedOrder,
    PendingLookup,
    DuplicateClientOrderId,
    OrderConflict,
    BalanceDrift,
    ExternalSurplus,
)

_KIND_NAMES: dict[type, str] = {
    AdoptUnknownOrder: "adopt_unknown_order",
    CorrectFromExchange: "correct_from_exchange",
    ApplyFill: "apply_fill",
    UpdateOrderState: "update_order_state",
    MarkNotPlaced: "mark_not_placed",
    CloseVanishedOrder: "close_vanished_order",
    PendingLookup: "pending_lookup",
    DuplicateClientOrderId: "duplicate_client_order_id",
    OrderConflict: "order_conflict",
    BalanceDrift: "balance_drift",
    ExternalSurplus: "external_surplus",
}


def kind_name(correction: Correction) -> str:
    """Stable snake_case name of a correction's kind (journal, metrics label, CLI)."""
    return _KIND_NAMES[type(correction)]


def sort_key(correction: Correction) -> tuple[int, str, str, int]:
    """Total, deterministic order: kind, then time (fills), then subject, then id."""
    rank = KIND_ORDER.index(type(correction))
    if isinstance(correction, ApplyFill):
        return (
            rank,
            correction.fill.timestamp.isoformat(),
            correction.client_order_id,
            correction.fill.trade_id,
        )
    if isinstance(correction, BalanceDrift | ExternalSurplus):
        return rank, "", correction.asset, 0
    if isinstance(correction, AdoptUnknownOrder | CloseVanishedOrder | CorrectFromExchange):
        return rank, "", correction.client_order_id, correction.exchange_order_id
    return rank, "", correction.client_order_id, 0


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """Everything reconciliation found, corrections in execution order."""

    corrections: tuple[Correction, ...]
    foreign_orders_ignored: int = 0
    foreign_fills_ignored: int = 0

    @property
    def requires_reducing(self) -> bool:
        """Drift or a conflict: trading must go to REDUCING (never silent adoption)."""
        return any(isinstance(c, BalanceDrift | OrderConflict) for c in self.corrections)

    @property
    def has_conflicts(self) -> bool:
        return any(isinstance(c, OrderConflict) for c in self.corrections)

    @property
    def is_clean(self) -> bool:
        """Nothing to repair and nothing to warn about (surplus and pending lookups are info)."""
        return all(isinstance(c, ExternalSurplus | PendingLookup) for c in self.corrections)

    def of_kind(self, kind: type[_T]) -> tuple[_T, ...]:
        return tuple(c for c in self.corrections if isinstance(c, kind))


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
