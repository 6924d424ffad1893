"""Random event sequences: never an illegal state, never less filled, terminal stays terminal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.domain.enums import OrderState, VenueOrderStatus
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.orders import ManagedOrder, can_transition
from btcbot.services.execution.order_events import (
    on_ack,
    on_ambiguous,
    on_cancel_requested,
    on_exchange_order,
    on_fill,
    on_not_found_after_grace,
    on_rejected,
    on_submit_started,
)

from .factories import ack, at, fill, order, xorder

Event = tuple[str, object]

events = st.one_of(
    st.just(("submit", None)),
    st.just(("ack", None)),
    st.just(("reject", None)),
    st.just(("ambiguous", None)),
    st.just(("cancel", None)),
    st.tuples(st.just("not_found"), st.integers(min_value=0, max_value=120)),
    st.tuples(
        st.just("row"),
        st.tuples(st.sampled_from(list(VenueOrderStatus)), st.sampled_from([None, "0", "0.3", "1.0"])),
    ),
    st.tuples(st.just("fill"), st.sampled_from(["0.1", "0.25", "0.5", "1.0"])),
)


def _apply(o: ManagedOrder, event: Event, step: int, trade_id: int) -> ManagedOrder:
    kind, arg = event
    now = at(step * 10)
    if kind == "submit":
        return on_submit_started(o, now)[0]
    if kind == "ack":
        return on_ack(o, ack(), now)[0]
    if kind == "reject":
        return on_rejected(o, "BALANCE_NOT_ENOUGH", 1055, now)[0]
    if kind == "ambiguous":
        return on_ambiguous(o, now)[0]
    if kind == "cancel":
        return on_cancel_requested(o, now)[0]
    if kind == "not_found":
        assert isinstance(arg, int)
        return on_not_found_after_grace(o, now, arg)[0]
    if kind == "row":
        assert isinstance(arg, tuple)
        status: VenueOrderStatus = arg[0]
        left: str | None = arg[1]
        return on_exchange_order(o, xorder(status, left=None if left is None else Decimal(left)), now)[0]
    assert isinstance(arg, str)
    return on_fill(o, fill(arg, trade_id=trade_id), now)[0]


@settings(max_examples=200, deadline=None)
@given(
    seq=st.lists(events, min_size=1, max_size=25),
    market_buy=st.booleans(),
)
def test_random_sequences_keep_invariants(seq: list[Event], market_buy: bool) -> None:
    o = order(OrderState.PLANNED, quote_amount=Decimal("100") if market_buy else None)
    for step, event in enumerate(seq, start=1):
        before = o
        try:
            o = _apply(o, event, step, trade_id=step)
        except IllegalTransition:
            continue  # refused: the order is unchanged, which is the point
        # only table-legal moves (or staying put)
        # (SUBMITTING -> NOT_PLACED is the documented two-step path through UNKNOWN)
        via_unknown = can_transition(before.state, OrderState.UNKNOWN) and can_transition(
            OrderState.UNKNOWN, o.state
        )
        assert can_transition(before.state, o.state) or (event[0] == "not_found" and via_unknown), (
            before.state,
            o.state,
            event,
        )
        # filled quantity (and value, and fees) never decrease
        assert o.filled_quantity >= before.filled_quantity
        assert o.filled_quote >= before.filled_quote
        assert o.fees_paid >= before.fees_paid
        # terminal states stay terminal; only a (late) fill may still change quantities
        if before.state.is_terminal:
            assert o.state is before.state
            if event[0] != "fill":
                assert o.filled_quantity == before.filled_quantity
        # a base-sized order is never overfilled
        if o.quote_amount is None:
            assert o.filled_quantity <= o.quantity
        # the exchange id, once known, never changes
        if before.exchange_order_id is not None:
            assert o.exchange_order_id == before.exchange_order_id
        # states the exchange never confirmed carry no fills
        if o.state in (OrderState.PLANNED, OrderState.REJECTED, OrderState.NOT_PLACED):
            assert o.filled_quantity == 0
