"""Lookup of unresolved orders: found / not placed / still unknown, duplicates, never a blind resend."""

from __future__ import annotations

import pytest

from btcbot.domain.enums import OrderState, Side, VenueOrderStatus
from btcbot.services.execution.lookup import (
    Found,
    NotPlaced,
    StillUnknown,
    may_resend,
    merge_exchange_rows,
    resolve_unknown,
)

from .factories import CID, at, order, xorder

S = OrderState
V = VenueOrderStatus
GRACE = 60.0


def test_found_in_open_orders() -> None:
    row = xorder(V.UNTOUCHED)
    result = resolve_unknown(order(S.UNKNOWN), [row], [], at(5), GRACE)
    assert result == Found(row)
    assert not may_resend(order(S.UNKNOWN), result)


def test_found_in_recent_orders_only() -> None:
    row = xorder(V.CLOSED, left=None)
    assert resolve_unknown(order(S.SUBMITTING), [], [row], at(500), GRACE) == Found(row)


def test_the_more_advanced_row_wins_when_in_both_lists() -> None:
    stale_open = xorder(V.UNTOUCHED)
    closed = xorder(V.CLOSED, left=None)
    for lists in (([stale_open], [closed]), ([closed], [stale_open])):
        result = resolve_unknown(order(S.UNKNOWN), lists[0], lists[1], at(5), GRACE)
        assert isinstance(result, Found)
        assert result.exchange_order.status is V.CLOSED


def test_duplicate_client_ids_pick_lowest_exchange_id_and_flag() -> None:
    a = xorder(V.UNTOUCHED, exchange_order_id=300)
    b = xorder(V.CLOSED, exchange_order_id=200, left=None)
    c = xorder(V.CANCELED, exchange_order_id=400)
    result = resolve_unknown(order(S.UNKNOWN), [a], [c, b], at(5), GRACE)
    assert isinstance(result, Found)
    assert result.exchange_order.exchange_order_id == 200
    assert [d.exchange_order_id for d in result.duplicates] == [300, 400]
    assert result.has_duplicates


@pytest.mark.parametrize(
    "other",
    [
        xorder(V.UNTOUCHED, client_order_id="bb-s1-c000001-BTCTRY-B-bbbbbbbbbb"),
        xorder(V.UNTOUCHED, client_order_id=None),
        xorder(V.UNTOUCHED, symbol="ETHTRY"),
        xorder(V.UNTOUCHED, side=Side.SELL),
    ],
)
def test_other_orders_do_not_match(other: object) -> None:
    result = resolve_unknown(order(S.UNKNOWN), [other], [other], at(5), GRACE)  # type: ignore[list-item]
    assert isinstance(result, StillUnknown)


def test_not_found_within_grace_is_still_unknown() -> None:
    o = order(S.UNKNOWN, updated_at=at(100))
    result = resolve_unknown(o, [], [], at(159), GRACE)
    assert isinstance(result, StillUnknown)
    assert not may_resend(o, result)


def test_not_found_after_grace_is_not_placed() -> None:
    o = order(S.UNKNOWN, updated_at=at(100))
    result = resolve_unknown(o, [], [], at(160), GRACE)
    assert result == NotPlaced()
    assert may_resend(o, result)


@pytest.mark.parametrize("state", [S.PLANNED, S.SUBMITTING, S.UNKNOWN])
def test_every_unresolved_state_is_looked_up(state: OrderState) -> None:
    assert resolve_unknown(order(state), [xorder(V.PARTIAL)], [], at(5), GRACE) == Found(xorder(V.PARTIAL))


@pytest.mark.parametrize("state", [S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED])
def test_resolved_orders_are_not_looked_up(state: OrderState) -> None:
    with pytest.raises(ValueError, match=state.value):
        resolve_unknown(order(state), [], [], at(5), GRACE)


@pytest.mark.parametrize("state", [S.OPEN, S.FILLED, S.CANCELED, S.REJECTED])
def test_may_resend_never_for_resolved_orders(state: OrderState) -> None:
    assert not may_resend(order(state), NotPlaced())


def test_merge_keeps_one_row_per_exchange_id() -> None:
    merged = merge_exchange_rows(
        [xorder(V.PARTIAL, exchange_order_id=1)], [xorder(V.UNTOUCHED, exchange_order_id=1)]
    )
    assert list(merged) == [1]
    assert merged[1].status is V.PARTIAL
    assert merged[1].client_order_id == CID
