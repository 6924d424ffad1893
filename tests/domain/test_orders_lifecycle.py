"""The order record's rules (btcbot.domain.orders): the transition table is enforced, fills are
positive and accumulate exactly, the average price exists only once something filled.

The table itself may grow (e.g. order adoption), so the exhaustive test reads ``TRANSITIONS``;
a few moves that must never become legal are listed by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.orders import TRANSITIONS, ManagedOrder, can_transition

S = OrderState
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=5)


def order(state: OrderState = S.OPEN, **changes: object) -> ManagedOrder:
    base = ManagedOrder(
        client_order_id=ClientOrderId("cid-1"), cycle_id=7, strategy_id="s1", symbol=Symbol("BTCTRY"), side=Side.BUY,
        order_type=OrderType.LIMIT, quantity=Decimal("0.5"), price=Decimal("1000000"), quote_amount=None,
        state=state, created_at=T0, updated_at=T0,
    )  # fmt: skip
    return base.transition(state, T0, **changes) if changes else base


ALL_PAIRS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_transition_is_allowed_exactly_by_the_table(current: OrderState, target: OrderState) -> None:
    allowed = current == target or target in TRANSITIONS[current]
    assert can_transition(current, target) is allowed
    if allowed:
        moved = order(current).transition(target, T1)
        assert moved.state is target and moved.updated_at == T1
    else:
        with pytest.raises(IllegalTransition, match=f"illegal transition {current} -> {target}"):
            order(current).transition(target, T1)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.FILLED, S.OPEN),
        (S.FILLED, S.CANCELED),
        (S.REJECTED, S.OPEN),
        (S.CANCELED, S.OPEN),
        (S.PLANNED, S.FILLED),
        (S.PLANNED, S.OPEN),
        (S.OPEN, S.PLANNED),
        (S.OPEN, S.SUBMITTING),
    ],
)
def test_moves_that_must_never_be_legal(current: OrderState, target: OrderState) -> None:
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition):
        order(current).transition(target, T1)


def test_staying_in_a_state_is_always_allowed() -> None:
    for state in S:
        assert can_transition(state, state)


def test_transition_applies_changes_and_leaves_the_original_alone() -> None:
    original = order(S.SUBMITTING)
    moved = original.transition(S.OPEN, T1, exchange_order_id=5001)
    assert (moved.state, moved.exchange_order_id, moved.updated_at, moved.created_at) == (
        S.OPEN,
        5001,
        T1,
        T0,
    )
    assert (original.state, original.exchange_order_id, original.updated_at) == (S.SUBMITTING, None, T0)


@pytest.mark.parametrize("quantity", ["0", "-0.1", "-0"])
def test_zero_or_negative_fill_is_refused(quantity: str) -> None:
    with pytest.raises(IllegalTransition, match="fill quantity must be positive"):
        order().with_fill(Decimal(quantity), Decimal("0"), Decimal("0"), T1)


def test_fills_accumulate_exactly_in_any_state() -> None:
    first = order().with_fill(Decimal("0.2"), Decimal("200000"), Decimal("400.5"), T1)
    assert (first.filled_quantity, first.filled_quote, first.fees_paid) == (
        Decimal("0.2"), Decimal("200000"), Decimal("400.5")
    )  # fmt: skip
    assert first.state is S.OPEN and first.updated_at == T1
    # a late fill of a CANCELED order still counts; a fill smaller than one unit is a fill
    canceled = first.transition(S.CANCELED, T1)
    second = canceled.with_fill(Decimal("0.1"), Decimal("101000"), Decimal("202"), T1 + timedelta(seconds=1))
    assert (second.filled_quantity, second.filled_quote, second.fees_paid) == (
        Decimal("0.3"), Decimal("301000"), Decimal("602.5")
    )  # fmt: skip
    assert second.state is S.CANCELED
    # a fill above one unit too
    big = order().with_fill(Decimal("2"), Decimal("4"), Decimal("0"), T1)
    assert big.filled_quantity == Decimal("2")


def test_average_price_only_once_filled() -> None:
    assert order().average_price is None
    filled = order().with_fill(Decimal("0.5"), Decimal("510000"), Decimal("0"), T1)
    assert filled.average_price == Decimal("1020000")
    whole = order().with_fill(Decimal("4"), Decimal("10"), Decimal("0"), T1)
    assert whole.average_price == Decimal("2.5")


def test_is_terminal_follows_the_state() -> None:
    assert order(S.FILLED).is_terminal and order(S.CANCELED).is_terminal
    assert not order(S.OPEN).is_terminal and not order(S.UNKNOWN).is_terminal
