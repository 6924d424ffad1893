"""Order events: every legal and illegal transition, table-driven."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderState, Side, VenueOrderStatus
from btcbot.domain.errors import IllegalTransition, InvariantViolation
from btcbot.services.execution.order_events import (
    OrderEvent,
    on_ack,
    on_ambiguous,
    on_cancel_requested,
    on_exchange_correction,
    on_exchange_order,
    on_fill,
    on_not_found_after_grace,
    on_rejected,
    on_submit_started,
)

from .factories import CID, T0, ack, at, fill, order, xorder

S = OrderState
V = VenueOrderStatus
ALL = list(OrderState)


def _ids(states: list[OrderState]) -> list[str]:
    return [s.value for s in states]


# --- submit / ack / reject / ambiguous -------------------------------------------------------


@pytest.mark.parametrize("state", ALL, ids=_ids(ALL))
def test_submit_started_only_from_planned(state: OrderState) -> None:
    if state is S.PLANNED:
        new, event = on_submit_started(order(state), at(1))
        assert (new.state, event, new.updated_at) == (S.SUBMITTING, OrderEvent.SUBMIT_STARTED, at(1))
    else:
        with pytest.raises(IllegalTransition):
            on_submit_started(order(state), at(1))


ACK_TO_OPEN = {S.SUBMITTING, S.UNKNOWN}
ACK_KEEPS = {S.OPEN, S.PARTIALLY_FILLED, S.CANCEL_REQUESTED, S.FILLED, S.CANCELED}


@pytest.mark.parametrize("state", ALL, ids=_ids(ALL))
def test_ack(state: OrderState) -> None:
    if state in ACK_TO_OPEN | ACK_KEEPS:
        new, event = on_ack(order(state), ack(), at(2))
        assert new.state is (S.OPEN if state in ACK_TO_OPEN else state)
        assert new.exchange_order_id == 5001
        assert event is OrderEvent.ACKNOWLEDGED
    else:
        with pytest.raises(IllegalTransition):
            on_ack(order(state), ack(), at(2))


def test_ack_for_another_order_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="client order id"):
        on_ack(order(S.SUBMITTING), ack(client_order_id="bb-other"), at(2))
    with pytest.raises(IllegalTransition, match="exchange order id"):
        on_ack(order(S.OPEN, exchange_order_id=1), ack(exchange_order_id=2), at(2))


@pytest.mark.parametrize("state", ALL, ids=_ids(ALL))
def test_rejected_only_from_submitting(state: OrderState) -> None:
    if state is S.SUBMITTING:
        new, event = on_rejected(order(state), "BALANCE_NOT_ENOUGH", 1055, at(2))
        assert (new.state, new.reject_reason, new.reject_code) == (S.REJECTED, "BALANCE_NOT_ENOUGH", 1055)
        assert event is OrderEvent.REJECTED
    else:
        with pytest.raises(IllegalTransition):
            on_rejected(order(state), "BALANCE_NOT_ENOUGH", 1055, at(2))


@pytest.mark.parametrize("state", ALL, ids=_ids(ALL))
def test_ambiguous(state: OrderState) -> None:
    if state in (S.SUBMITTING, S.UNKNOWN):
        new, event = on_ambiguous(order(state), at(2))
        assert (new.state, event) == (S.UNKNOWN, OrderEvent.AMBIGUOUS)
    else:
        with pytest.raises(IllegalTransition):
            on_ambiguous(order(state), at(2))


def test_illegal_transition_is_an_invariant_violation() -> None:
    # The runner maps InvariantViolation to HALTED; an illegal event must land there.
    with pytest.raises(InvariantViolation):
        on_rejected(order(S.OPEN), "X", None, at(1))


# --- exchange rows: (local state, filled, venue status, left) -> expected state | illegal ---------

ILLEGAL = None
ONE = Decimal("1.0")
HALF = Decimal("0.5")
ZERO = Decimal(0)

EXCHANGE_TABLE: list[tuple[OrderState, Decimal, VenueOrderStatus, Decimal | None, OrderState | None]] = [
    # unresolved orders found on the exchange
    (S.SUBMITTING, ZERO, V.UNTOUCHED, ONE, S.OPEN),
    (S.UNKNOWN, ZERO, V.UNTOUCHED, ONE, S.OPEN),
    (S.UNKNOWN, ZERO, V.PARTIAL, HALF, S.PARTIALLY_FILLED),
    (S.UNKNOWN, ZERO, V.CLOSED, ZERO, S.FILLED),
    (S.UNKNOWN, ZERO, V.CANCELED, ONE, S.CANCELED),
    (S.SUBMITTING, ZERO, V.CLOSED, ZERO, S.FILLED),
    # open orders progressing
    (S.OPEN, ZERO, V.UNTOUCHED, ONE, S.OPEN),
    (S.OPEN, ZERO, V.PARTIAL, HALF, S.PARTIALLY_FILLED),
    (S.OPEN, ZERO, V.CLOSED, ZERO, S.FILLED),
    (S.OPEN, ZERO, V.CANCELED, ONE, S.CANCELED),
    (S.PARTIALLY_FILLED, HALF, V.PARTIAL, HALF, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, HALF, V.CANCELED, HALF, S.CANCELED),
    # stale rows never move progress backwards
    (S.PARTIALLY_FILLED, HALF, V.UNTOUCHED, ONE, S.PARTIALLY_FILLED),
    (S.OPEN, HALF, V.UNTOUCHED, ONE, S.PARTIALLY_FILLED),
    (S.FILLED, ONE, V.PARTIAL, HALF, S.FILLED),
    (S.CANCELED, ZERO, V.UNTOUCHED, ONE, S.CANCELED),
    # Closed: FILLED only when confirmed; remainder -> CANCELED; unknown -> wait
    (S.OPEN, ONE, V.CLOSED, None, S.FILLED),
    (S.OPEN, HALF, V.CLOSED, HALF, S.CANCELED),
    (S.OPEN, HALF, V.CLOSED, None, S.OPEN),
    (S.PARTIALLY_FILLED, HALF, V.CLOSED, None, S.PARTIALLY_FILLED),
    # fills already complete while the row is stale-open
    (S.PARTIALLY_FILLED, ONE, V.PARTIAL, ZERO, S.FILLED),
    # pending cancel
    (S.CANCEL_REQUESTED, ZERO, V.UNTOUCHED, ONE, S.CANCEL_REQUESTED),
    (S.CANCEL_REQUESTED, HALF, V.PARTIAL, HALF, S.CANCEL_REQUESTED),
    (S.CANCEL_REQUESTED, HALF, V.CANCELED, HALF, S.CANCELED),
    (S.CANCEL_REQUESTED, ZERO, V.CLOSED, ZERO, S.FILLED),
    # terminal and consistent
    (S.FILLED, ONE, V.CLOSED, ZERO, S.FILLED),
    (S.CANCELED, HALF, V.CANCELED, HALF, S.CANCELED),
    (S.CANCELED, HALF, V.CLOSED, HALF, S.CANCELED),
    # contradictions -> invariant violation
    (S.FILLED, ONE, V.CANCELED, ONE, ILLEGAL),
    (S.CANCELED, ZERO, V.CLOSED, ZERO, ILLEGAL),
    (S.PLANNED, ZERO, V.UNTOUCHED, ONE, ILLEGAL),
    (S.REJECTED, ZERO, V.UNTOUCHED, ONE, ILLEGAL),
    (S.NOT_PLACED, ZERO, V.CLOSED, ZERO, ILLEGAL),
]


@pytest.mark.parametrize(("state", "filled", "status", "left", "expected"), EXCHANGE_TABLE)
def test_exchange_order_table(
    state: OrderState,
    filled: Decimal,
    status: VenueOrderStatus,
    left: Decimal | None,
    expected: OrderState | None,
) -> None:
    before = order(state, filled_quantity=filled, filled_quote=filled * 100)
    row = xorder(status, left=left)
    if expected is ILLEGAL:
        with pytest.raises(IllegalTransition):
            on_exchange_order(before, row, at(5))
        return
    new, _ = on_exchange_order(before, row, at(5))
    assert new.state is expected
    # quantities only ever come from fills
    assert (new.filled_quantity, new.filled_quote) == (before.filled_quantity, before.filled_quote)
    if not state.is_terminal:
        assert new.exchange_order_id == 5001


def test_closed_unknown_left_waits_for_fills() -> None:
    _, event = on_exchange_order(order(S.OPEN, filled_quantity=HALF), xorder(V.CLOSED, left=None), at(5))
    assert event is OrderEvent.EXCHANGE_CLOSED_AWAITING_FILLS


def test_market_buy_closed_needs_left_zero() -> None:
    mb = order(S.OPEN, quote_amount=Decimal("100"), filled_quantity=Decimal("2"), filled_quote=Decimal("100"))
    assert on_exchange_order(mb, xorder(V.CLOSED, left=None), at(5))[0].state is S.OPEN
    assert on_exchange_order(mb, xorder(V.CLOSED, left=ZERO), at(5))[0].state is S.FILLED


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (xorder(V.UNTOUCHED, exchange_order_id=77), "exchange order id"),
        (xorder(V.UNTOUCHED, client_order_id="bb-someone-else"), "client order id"),
        (xorder(V.UNTOUCHED, symbol="ETHTRY"), "symbol"),
    ],
)
def test_exchange_row_of_another_order_is_refused(row: object, match: str) -> None:
    with pytest.raises(IllegalTransition, match=match):
        on_exchange_order(order(S.OPEN, exchange_order_id=5001), row, at(5))  # type: ignore[arg-type]


def test_exchange_row_without_client_id_matches_by_exchange_id() -> None:
    new, _ = on_exchange_order(
        order(S.OPEN, exchange_order_id=5001), xorder(V.PARTIAL, client_order_id=None), at(5)
    )
    assert new.state is S.PARTIALLY_FILLED


# --- fills ------------------------------------------------------------------------------------

FILL_TABLE: list[tuple[OrderState, Decimal, str, OrderState | None]] = [
    (S.SUBMITTING, ZERO, "0.4", S.PARTIALLY_FILLED),
    (S.UNKNOWN, ZERO, "0.4", S.PARTIALLY_FILLED),
    (S.OPEN, ZERO, "0.4", S.PARTIALLY_FILLED),
    (S.OPEN, ZERO, "1.0", S.FILLED),
    (S.PARTIALLY_FILLED, HALF, "0.5", S.FILLED),
    (S.PARTIALLY_FILLED, HALF, "0.1", S.PARTIALLY_FILLED),
    (S.CANCEL_REQUESTED, ZERO, "0.4", S.CANCEL_REQUESTED),
    (S.CANCEL_REQUESTED, HALF, "0.5", S.FILLED),
    (S.CANCELED, ZERO, "0.4", S.CANCELED),  # late fill after cancel
    (S.FILLED, HALF, "0.5", S.FILLED),  # late fill after an exchange 'Closed left 0'
    (S.PLANNED, ZERO, "0.4", ILLEGAL),
    (S.REJECTED, ZERO, "0.4", ILLEGAL),
    (S.NOT_PLACED, ZERO, "0.4", ILLEGAL),
    (S.PARTIALLY_FILLED, HALF, "0.6", ILLEGAL),  # overfill of a base-sized order
]


@pytest.mark.parametrize(("state", "filled", "qty", "expected"), FILL_TABLE)
def test_fill_table(state: OrderState, filled: Decimal, qty: str, expected: OrderState | None) -> None:
    before = order(state, filled_quantity=filled, filled_quote=filled * 100)
    if expected is ILLEGAL:
        with pytest.raises(IllegalTransition):
            on_fill(before, fill(qty), at(6))
        return
    new, event = on_fill(before, fill(qty), at(6))
    assert new.state is expected
    assert new.filled_quantity == filled + Decimal(qty)
    assert new.filled_quote == filled * 100 + Decimal(qty) * 100
    assert new.fees_paid == Decimal("0.12")  # fee + tax, both in the quote asset
    assert new.exchange_order_id == 5001
    assert event is (OrderEvent.LATE_FILL if state.is_terminal else OrderEvent.FILL)


def test_market_buy_may_exceed_estimated_base_quantity() -> None:
    mb = order(S.OPEN, quote_amount=Decimal("100"), quantity=Decimal("1.0"))
    new, _ = on_fill(mb, fill("1.2", price="80"), at(6))
    assert new.filled_quantity == Decimal("1.2")
    assert new.state is S.PARTIALLY_FILLED  # only the exchange row proves a market buy is done


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"order_id": 42}, "exchange order id"),
        ({"client_order_id": "bb-x"}, "client order id"),
        ({"side": __import__("btcbot.domain.enums", fromlist=["Side"]).Side.SELL}, "side"),
        ({"fee": "-1"}, "negative fee"),
        ({"price": "0"}, "non-positive"),
    ],
)
def test_bad_fills_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(IllegalTransition, match=match):
        on_fill(order(S.OPEN, exchange_order_id=5001), fill("0.1", **kwargs), at(6))  # type: ignore[arg-type]


def test_zero_quantity_fill_refused() -> None:
    with pytest.raises(IllegalTransition):
        on_fill(order(S.OPEN), fill("0"), at(6))


# --- cancel -----------------------------------------------------------------------------------

CANCELABLE = {S.OPEN, S.PARTIALLY_FILLED, S.CANCEL_REQUESTED, S.UNKNOWN, S.SUBMITTING}


@pytest.mark.parametrize("state", ALL, ids=_ids(ALL))
def test_cancel_requested(state: OrderState) -> None:
    with_id = order(state, exchange_order_id=5001)
    if state in CANCELABLE:
        new, event = on_cancel_requested(with_id, at(7))
        assert (new.state, event) == (S.CANCEL_REQUESTED, OrderEvent.CANCEL_REQUESTED)
    else:
        with pytest.raises(IllegalTransition):
            on_cancel_requested(with_id, at(7))


def test_cancel_needs_exchange_order_id() -> None:
    with pytest.raises(IllegalTransition, match="exchange order id"):
        on_cancel_requested(order(S.OPEN), at(7))


# --- not found after grace --------------------------------------------------------------------


@pytest.mark.parametrize("state", ALL, ids=_ids(ALL))
def test_not_found_after_grace(state: OrderState) -> None:
    o = order(state, updated_at=at(30))
    if state in (S.PLANNED, S.SUBMITTING, S.UNKNOWN):
        with pytest.raises(IllegalTransition, match="grace"):
            on_not_found_after_grace(o, at(30 + 59), 60)
        new, event = on_not_found_after_grace(o, at(30 + 60), 60)
        assert (new.state, event, new.updated_at) == (S.NOT_PLACED, OrderEvent.NOT_PLACED, at(90))
    else:
        with pytest.raises(IllegalTransition):
            on_not_found_after_grace(o, at(10_000), 60)


def test_grace_counts_from_the_latest_of_created_and_updated() -> None:
    o = order(S.UNKNOWN, created_at=at(100), updated_at=T0)
    with pytest.raises(IllegalTransition):
        on_not_found_after_grace(o, at(120), 60)
    assert on_not_found_after_grace(o, at(160), 60)[0].state is S.NOT_PLACED


def test_functions_are_pure() -> None:
    before = order(S.OPEN, exchange_order_id=5001)
    on_fill(before, fill("0.5"), at(6))
    assert before.filled_quantity == 0 and before.state is S.OPEN
    assert before.client_order_id == CID


@pytest.mark.parametrize("state", list(OrderState))
def test_exchange_correction_reopens_only_orders_we_believed_never_placed(state: OrderState) -> None:
    o = order(state, reject_reason="UNKNOWN", reject_code=0)
    row = xorder(VenueOrderStatus.CLOSED, left=Decimal(0))
    if state not in (OrderState.REJECTED, OrderState.NOT_PLACED):
        with pytest.raises(IllegalTransition):
            on_exchange_correction(o, 5001, row, at(5))
        return
    reopened, event = on_exchange_correction(o, 5001, row, at(5))
    assert event is OrderEvent.CORRECTED_BY_EXCHANGE
    assert (reopened.state, reopened.exchange_order_id, reopened.updated_at) == (OrderState.UNKNOWN, 5001, at(5))
    assert (reopened.reject_reason, reopened.reject_code) == ("UNKNOWN", 0)  # kept as history
    assert on_fill(reopened, fill("1.0"), at(6))[0].state is OrderState.FILLED  # the usual road follows


def test_exchange_correction_refuses_a_row_of_another_order() -> None:
    with pytest.raises(IllegalTransition):
        on_exchange_correction(order(OrderState.REJECTED), 5001, xorder(VenueOrderStatus.CLOSED, side=Side.SELL), at(5))
    with pytest.raises(IllegalTransition):
        on_exchange_correction(order(OrderState.REJECTED), 5002, xorder(VenueOrderStatus.CLOSED), at(5))
