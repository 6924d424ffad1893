"""Resolution of orders whose fate is unknown (UNKNOWN, SUBMITTING, or PLANNED after a crash).

BTC Turk cannot look an order up, or cancel it, by client id. So an order whose POST may have
reached the venue is resolved by searching the client id in ``openOrders`` and ``allOrders``
of its pair (client side). Rules:

- A match needs the same client order id AND the same symbol and side; anything else is not
  this order.
- BTC Turk does not enforce client id uniqueness. If several exchange orders carry ours we
  pick the one with the LOWEST exchange order id (the first placed, deterministic) and report the
  others in ``Found.duplicates`` so the cycle can alert and cancel open extras.
- The same order may be in both lists (fetched at different moments): the row with the more
  advanced status wins (Canceled/Closed > Partial > Untouched; then later ``updated_at``).
- Not found: ``NotPlaced`` only once the grace period since the order's last update is over
  (the venue's order lists are eventually consistent), else ``StillUnknown``.

Precondition for the caller: ``recent_orders`` must cover the order's pair from before
``order.created_at`` until now (allOrders with ``startTime`` a little before creation).

Resend policy: an UNKNOWN or unsent order is NEVER resent, not even after this lookup. A
``NotPlaced`` intent is dropped (the order becomes NOT_PLACED) and the strategy decides afresh
next cycle; a new decision gets a new cycle id and therefore a NEW client order id. Reusing a
client id is never done: the old POST could still land and we would own two orders.
``may_resend`` only says whether the strategy is free to act on that symbol/side again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from btcbot.domain.enums import OrderState, VenueOrderStatus
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.domain.orders import ManagedOrder
from btcbot.services.execution.order_events import grace_elapsed

_UNRESOLVED = frozenset({OrderState.PLANNED, OrderState.SUBMITTING, OrderState.UNKNOWN})
_STATUS_RANK = {
    VenueOrderStatus.UNTOUCHED: 0,
    VenueOrderStatus.PARTIAL: 1,
    VenueOrderStatus.CLOSED: 2,
    VenueOrderStatus.CANCELED: 2,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Found:
    """The order exists on the exchange. ``duplicates``: other exchange orders with our client id."""

    exchange_order: ExchangeOrder
    duplicates: tuple[ExchangeOrder, ...] = ()

    @property
    def has_duplicates(self) -> bool:
        return bool(self.duplicates)


@dataclass(frozen=True, slots=True)
class NotPlaced:
    """Not on the exchange and the grace period is over: the order never got there."""


@dataclass(frozen=True, slots=True)
class StillUnknown:
    """Not found yet, but too early to conclude. Look again next cycle."""

    reason: str


Resolution = Found | NotPlaced | StillUnknown


def _row_key(row: ExchangeOrder) -> tuple[int, datetime]:
    return _STATUS_RANK[row.status], row.updated_at or _EPOCH


def merge_exchange_rows(*row_lists: Iterable[ExchangeOrder]) -> dict[int, ExchangeOrder]:
    """One row per exchange order id; the most advanced/latest row wins (ties: the later list).

    Pass open orders first and recent (all) orders second.
    """
    merged: dict[int, ExchangeOrder] = {}
    for rows in row_lists:
        for row in rows:
            current = merged.get(row.exchange_order_id)
            if current is None or _row_key(row) >= _row_key(current):
                merged[row.exchange_order_id] = row
    return merged


def matching_rows(order: ManagedOrder, rows: Iterable[ExchangeOrder]) -> list[ExchangeOrder]:
    """Rows with the order's client id, symbol and side, lowest exchange order id first."""
    found = [
        row
        for row in rows
        if row.client_order_id == order.client_order_id
        and row.symbol.upper() == order.symbol.upper()
        and row.side == order.side
    ]
    return sorted(found, key=lambda row: row.exchange_order_id)


def resolve_unknown(
    order: ManagedOrder,
    open_orders: Sequence[ExchangeOrder],
    recent_orders: Sequence[ExchangeOrder],
    now: datetime,
    grace_s: float,
) -> Resolution:
    """Decide what happened to an unresolved order (see the module docstring)."""
    if order.state not in _UNRESOLVED:
        raise ValueError(f"order {order.client_order_id} is {order.state}, not unresolved")
    candidates = matching_rows(order, merge_exchange_rows(open_orders, recent_orders).values())
    if candidates:
        return Found(candidates[0], tuple(candidates[1:]))
    if grace_elapsed(order, now, grace_s):
        return NotPlaced()
    return StillUnknown(f"not on the exchange yet; grace period of {grace_s}s not over")


def may_resend(order: ManagedOrder, resolution: Resolution) -> bool:
    """True only when the lookup proved the order never reached the exchange (``NotPlaced``).

    Even then nothing is resent with this order's client id: the intent is dropped and the
    strategy may decide again in a later cycle, under a new client id.
    """
    return order.state in _UNRESOLVED | {OrderState.NOT_PLACED} and isinstance(resolution, NotPlaced)
