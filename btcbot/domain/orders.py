r"""The local order record and its lifecycle as a pure transition table.

    PLANNED -> SUBMITTING -> OPEN -> PARTIALLY_FILLED -> FILLED
                                  \-> CANCEL_REQUESTED -> CANCELED
    SUBMITTING -> REJECTED (definitive) | UNKNOWN -> OPEN/... (found) | NOT_PLACED (grace over)

Terminal states are final except that a fill may still arrive for a CANCELED (or
CANCEL_REQUESTED) order and must be applied; filled quantity never decreases.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol

S = OrderState

#: state -> states it may move to. Staying in the same state is always allowed (idempotent events).
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.PLANNED: frozenset({S.SUBMITTING, S.NOT_PLACED}),
    S.SUBMITTING: frozenset(
        {S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.UNKNOWN, S.CANCEL_REQUESTED}
    ),
    S.UNKNOWN: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.NOT_PLACED, S.CANCEL_REQUESTED}),
    S.OPEN: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCEL_REQUESTED, S.CANCELED}),
    S.PARTIALLY_FILLED: frozenset({S.FILLED, S.CANCEL_REQUESTED, S.CANCELED}),
    S.CANCEL_REQUESTED: frozenset({S.CANCELED, S.FILLED, S.PARTIALLY_FILLED, S.OPEN}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.NOT_PLACED: frozenset(),
}


def can_transition(current: OrderState, target: OrderState) -> bool:
    return current == target or target in TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class ManagedOrder:
    """An order as the bot knows it. ``client_order_id`` exists (and is persisted) before any POST.

    ``quantity`` is base units for every order; ``quote_amount`` is set for market BUYs (what we
    asked the exchange to spend). ``filled_quantity``/``filled_quote`` accumulate from fills.
    """

    client_order_id: ClientOrderId
    cycle_id: int
    strategy_id: str
    symbol: Symbol
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    quote_amount: Decimal | None
    state: OrderState
    created_at: datetime
    updated_at: datetime
    exchange_order_id: ExchangeOrderId | None = None
    filled_quantity: Decimal = Decimal(0)
    filled_quote: Decimal = Decimal(0)
    fees_paid: Decimal = Decimal(0)
    reject_reason: str | None = None
    reject_code: int | None = None
    risk_increasing: bool = True

    def transition(self, target: OrderState, at: datetime, **changes: object) -> ManagedOrder:
        """Move to ``target`` or raise IllegalTransition. Pure: returns a new value."""
        if not can_transition(self.state, target):
            raise IllegalTransition(
                f"order {self.client_order_id}: illegal transition {self.state} -> {target}"
            )
        return replace(self, state=target, updated_at=at, **changes)  # type: ignore[arg-type]

    def with_fill(self, quantity: Decimal, quote: Decimal, fee: Decimal, at: datetime) -> ManagedOrder:
        """Accumulate one fill. Applies to any state, including CANCELED (late fills count)."""
        if quantity <= 0:
            raise IllegalTransition(f"order {self.client_order_id}: fill quantity must be positive")
        return replace(
            self,
            filled_quantity=self.filled_quantity + quantity,
            filled_quote=self.filled_quote + quote,
            fees_paid=self.fees_paid + fee,
            updated_at=at,
        )

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    @property
    def average_price(self) -> Decimal | None:
        if self.filled_quantity <= 0:
            return None
        return self.filled_quote / self.filled_quantity
