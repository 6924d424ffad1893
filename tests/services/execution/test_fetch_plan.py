"""Table tests of what a reconcile pass fetches (``execution.fetch_plan``): inputs -> decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderState, VenueOrderStatus
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.domain.orders import ManagedOrder
from btcbot.services.execution.fetch_plan import (
    HISTORY_SLACK,
    NEVER_PLACED_WATCH_S,
    LocalBooks,
    OrderLookups,
    booked_among,
    late_fill_orders,
    ledger_with_reserve,
    order_lookups,
    plan_lookups,
    reopen_candidates,
    trades_of_listed,
    unknown_own_rows,
    watched_never_placed,
)

from .factories import CID, T0, at, fill, order, xorder

S = OrderState
V = VenueOrderStatus
GRACE = 60.0
OTHER_CID = "bb-s1-c000002-ETHTRY-S-bbbbbbbbbb"
FOREIGN_CID = "someone-elses-order"
NO_ROW = None

HISTORY_AND_TRADES = OrderLookups(history=True, trades=True)
HISTORY_ONLY = OrderLookups(history=True, trades=False)
TRADES_ONLY = OrderLookups(history=False, trades=True)
NOTHING = OrderLookups(history=False, trades=False)


@dataclass(frozen=True)
class Row:
    """An open-order row of the exchange for the order's id: amount 1, ``left`` still open."""

    left: Decimal | None


def _open_row(row: Row | None) -> ExchangeOrder | None:
    if row is None:
        return None
    return xorder(V.PARTIAL if row.left != Decimal(1) else V.UNTOUCHED, left=row.left)


# state, exchange id, filled locally, open-list row -> what is fetched
ORDER_TABLE = [
    pytest.param(S.PLANNED, None, "0", NO_ROW, HISTORY_ONLY, id="planned-no-id"),
    pytest.param(S.SUBMITTING, None, "0", NO_ROW, HISTORY_ONLY, id="submitting-no-id"),
    pytest.param(S.UNKNOWN, None, "0", NO_ROW, HISTORY_ONLY, id="unknown-no-id"),
    pytest.param(S.UNKNOWN, 5001, "0", NO_ROW, HISTORY_AND_TRADES, id="unknown-reopened-with-id"),
    pytest.param(S.UNKNOWN, 5001, "0", Row(Decimal(1)), HISTORY_AND_TRADES, id="unknown-with-id-listed"),
    pytest.param(S.OPEN, None, "0", NO_ROW, HISTORY_ONLY, id="open-without-id"),
    pytest.param(S.OPEN, 5001, "0", NO_ROW, HISTORY_AND_TRADES, id="open-left-the-list"),
    pytest.param(S.PARTIALLY_FILLED, 5001, "0.4", NO_ROW, HISTORY_AND_TRADES, id="partial-left-the-list"),
    pytest.param(S.CANCEL_REQUESTED, 5001, "0", NO_ROW, HISTORY_AND_TRADES, id="cancel-requested-gone"),
    pytest.param(S.OPEN, 5001, "0", Row(Decimal(1)), NOTHING, id="open-untouched"),
    pytest.param(S.OPEN, 5001, "0", Row(Decimal("0.6")), TRADES_ONLY, id="open-list-shows-progress"),
    pytest.param(S.PARTIALLY_FILLED, 5001, "0.4", Row(Decimal("0.6")), NOTHING, id="partial-no-new-progress"),
    pytest.param(S.PARTIALLY_FILLED, 5001, "0.4", Row(Decimal("0.5")), TRADES_ONLY, id="partial-more-progress"),
    pytest.param(S.PARTIALLY_FILLED, 5001, "0.6", Row(Decimal("0.5")), NOTHING, id="list-behind-our-fills"),
    pytest.param(S.OPEN, 5001, "0", Row(None), NOTHING, id="open-left-amount-unknown"),
    pytest.param(S.CANCEL_REQUESTED, 5001, "0", Row(Decimal(1)), TRADES_ONLY, id="cancel-requested-still-open"),
    pytest.param(S.CANCEL_REQUESTED, 5001, "0", Row(None), TRADES_ONLY, id="cancel-requested-left-unknown"),
]


@pytest.mark.parametrize(("state", "xid", "filled", "row", "expected"), ORDER_TABLE)
def test_order_lookups_table(
    state: OrderState, xid: int | None, filled: str, row: Row | None, expected: OrderLookups
) -> None:
    local = order(state, exchange_order_id=xid, filled_quantity=Decimal(filled))
    assert order_lookups(local, _open_row(row)) == expected


# state, exchange id, seconds since it finished -> its trades are still fetched (late fills)
LATE_TABLE = [
    pytest.param(S.FILLED, 5001, 0, True, id="filled-just-now"),
    pytest.param(S.CANCELED, 5001, GRACE, True, id="canceled-at-the-grace-edge"),
    pytest.param(S.FILLED, 5001, GRACE + 1, False, id="filled-after-grace"),
    pytest.param(S.FILLED, None, 0, False, id="filled-without-id"),
    pytest.param(S.REJECTED, None, 0, False, id="rejected-is-not-late"),
    pytest.param(S.OPEN, 5001, 0, False, id="open-is-not-late"),
]


@pytest.mark.parametrize(("state", "xid", "age", "late"), LATE_TABLE)
def test_late_fill_orders_table(state: OrderState, xid: int | None, age: float, late: bool) -> None:
    finished = order(state, exchange_order_id=xid, updated_at=T0)
    assert late_fill_orders([finished], at(age), GRACE) == ([finished] if late else [])


WATCH = max(GRACE, NEVER_PLACED_WATCH_S)
# state, exchange id, seconds since the verdict, probed symbol -> watched | dormant | neither
WATCH_TABLE = [
    pytest.param(S.REJECTED, None, 0, None, "watched", id="rejected-fresh"),
    pytest.param(S.NOT_PLACED, None, WATCH, None, "watched", id="not-placed-at-the-window-edge"),
    pytest.param(S.NOT_PLACED, None, WATCH + 1, None, "dormant", id="not-placed-old"),
    pytest.param(S.REJECTED, None, WATCH + 1, "BTCTRY", "watched", id="old-but-probed"),
    pytest.param(S.REJECTED, None, WATCH + 1, "ETHTRY", "dormant", id="old-other-symbol-probed"),
    pytest.param(S.REJECTED, 5001, 0, None, "neither", id="has-an-exchange-id"),
    pytest.param(S.FILLED, None, 0, None, "neither", id="not-a-never-placed-state"),
]


@pytest.mark.parametrize(("state", "xid", "age", "probe", "expected"), WATCH_TABLE)
def test_watched_never_placed_table(
    state: OrderState, xid: int | None, age: float, probe: str | None, expected: str
) -> None:
    verdict = order(state, exchange_order_id=xid, updated_at=T0)
    watched, dormant = watched_never_placed([verdict], at(age), GRACE, {probe} if probe else frozenset())
    got = "watched" if watched == [verdict] else "dormant" if dormant == {"BTCTRY"} else "neither"
    assert got == expected
    assert not (watched and dormant)


def test_watch_window_is_at_least_the_grace_period() -> None:
    long_grace = NEVER_PLACED_WATCH_S * 2
    verdict = order(S.NOT_PLACED, updated_at=T0)
    watched, _ = watched_never_placed([verdict], at(NEVER_PLACED_WATCH_S + 1), long_grace)
    assert watched == [verdict]


@pytest.mark.parametrize(
    ("wallet", "reserve", "expected"),
    [
        pytest.param({"TRY": Decimal(100)}, Decimal(0), {"TRY": Decimal(100)}, id="no-reserve"),
        pytest.param({"TRY": Decimal(100)}, Decimal(5), {"TRY": Decimal(105)}, id="reserve-is-quote"),
        pytest.param({"BTC": Decimal(1)}, Decimal(5), {"BTC": Decimal(1), "TRY": Decimal(5)}, id="no-quote-wallet"),
    ],
)
def test_ledger_with_reserve_table(wallet: dict[str, Decimal], reserve: Decimal, expected: dict[str, Decimal]) -> None:
    assert ledger_with_reserve(wallet, reserve, "TRY") == expected


def _books(open_orders: list[ManagedOrder], recent: list[ManagedOrder] | None = None) -> LocalBooks:
    return LocalBooks(tuple(open_orders), tuple(recent or []), {"TRY": Decimal(1000)})


def test_idle_pass_fetches_nothing() -> None:
    resting = order(S.OPEN, exchange_order_id=5001)
    plan = plan_lookups(_books([resting], [resting]), [xorder(V.UNTOUCHED)], {"BTCTRY"}, at(10), GRACE)
    assert (plan.history_since, plan.trade_order_ids, plan.dormant_symbols) == ({}, frozenset(), frozenset())
    assert plan.local == (resting,)


def test_history_starts_before_the_oldest_order_of_each_symbol() -> None:
    old = order(S.UNKNOWN, client_order_id="a", created_at=at(0))
    new = order(S.SUBMITTING, client_order_id="b", created_at=at(100))
    eth = order(S.UNKNOWN, client_order_id="c", symbol="ETHTRY", created_at=at(50))
    plan = plan_lookups(_books([new, eth, old]), [], {"BTCTRY", "ETHTRY"}, at(200), GRACE)
    assert plan.history_since == {"BTCTRY": at(0) - HISTORY_SLACK, "ETHTRY": at(50) - HISTORY_SLACK}


def test_plan_joins_late_and_watched_orders_and_keeps_the_universe() -> None:
    resting = order(S.OPEN, client_order_id="open", exchange_order_id=5001)
    late = order(S.FILLED, client_order_id="late", exchange_order_id=6001, updated_at=at(0))
    watched = order(S.REJECTED, client_order_id="rej", symbol="ETHTRY", created_at=at(5), updated_at=at(5))
    dormant = order(S.NOT_PLACED, client_order_id="old", symbol="XRPTRY", updated_at=T0 - timedelta(days=1))
    rows = [xorder(V.UNTOUCHED), xorder(V.UNTOUCHED, exchange_order_id=7001, symbol="DOGETRY")]
    plan = plan_lookups(_books([resting], [late, watched, dormant]), rows, {"BTCTRY", "ETHTRY"}, at(10), GRACE)
    assert plan.local == (resting, late, watched)
    assert [r.exchange_order_id for r in plan.open_rows] == [5001]  # DOGETRY is outside the universe
    assert plan.history_since == {"ETHTRY": at(5) - HISTORY_SLACK}
    assert plan.trade_order_ids == {6001}
    assert plan.dormant_symbols == {"XRPTRY"}


# the listed row's client id, local client ids -> is it an unknown row of ours
UNKNOWN_TABLE = [
    pytest.param(OTHER_CID, [CID], True, id="ours-no-local-row"),
    pytest.param(CID, [CID], False, id="ours-local-row"),
    pytest.param(FOREIGN_CID, [CID], False, id="foreign"),
    pytest.param(None, [CID], False, id="no-client-id"),
]


@pytest.mark.parametrize(("cid", "local_cids", "unknown"), UNKNOWN_TABLE)
def test_unknown_own_rows_table(cid: str | None, local_cids: list[str], unknown: bool) -> None:
    row = xorder(V.UNTOUCHED, client_order_id=cid)
    local = [order(S.OPEN, client_order_id=c) for c in local_cids]
    assert unknown_own_rows([row], local) == ([row] if unknown else [])


def test_reopen_candidates() -> None:
    rejected = order(S.REJECTED, client_order_id="r")
    filled = order(S.FILLED, client_order_id="f")
    known, reopened = reopen_candidates({"r": rejected, "f": filled, "x": None})
    assert known == {"r", "f"}
    assert reopened == [rejected]


# local state of the row's client id, is the row an unknown one, does the db know it -> trades fetched
LISTED_TABLE = [
    pytest.param(S.UNKNOWN, False, False, True, id="unresolved-found-by-client-id"),
    pytest.param(S.SUBMITTING, False, False, True, id="submitting-found-by-client-id"),
    pytest.param(S.NOT_PLACED, False, False, True, id="never-placed-found-after-all"),
    pytest.param(S.OPEN, False, False, False, id="open-already-tracked-by-id"),
    pytest.param(None, True, False, True, id="ours-without-any-record-adopted"),
    pytest.param(None, True, True, False, id="ours-db-has-it-terminal"),
]


@pytest.mark.parametrize(("state", "unknown", "db_knows", "fetched"), LISTED_TABLE)
def test_trades_of_listed_table(state: OrderState | None, unknown: bool, db_knows: bool, fetched: bool) -> None:
    row = xorder(V.UNTOUCHED, exchange_order_id=5001)
    local = [order(state)] if state is not None else []
    ids = trades_of_listed(local, [row], [row] if unknown else [], {CID} if db_knows else set())
    assert ids == ({5001} if fetched else set())


# the trade's order id and trade id, the books' booked trades -> known | unchecked | new
BOOKED_TABLE = [
    pytest.param(5001, 1, {5001: frozenset({1, 2})}, "known", id="booked-per-the-books"),
    pytest.param(5001, 3, {5001: frozenset({1, 2})}, "new", id="order-known-trade-new"),
    pytest.param(5001, 3, {5001: frozenset()}, "new", id="order-without-bookings"),
    pytest.param(6001, 1, {5001: frozenset({1})}, "unchecked", id="order-the-books-do-not-cover"),
    pytest.param(6001, 1, {}, "unchecked", id="no-books"),
]


@pytest.mark.parametrize(("order_id", "trade_id", "booked", "expected"), BOOKED_TABLE)
def test_booked_among_table(order_id: int, trade_id: int, booked: dict[int, frozenset[int]], expected: str) -> None:
    trade = fill("0.1", order_id=order_id, trade_id=trade_id)
    known, unchecked = booked_among([trade], booked)
    got = "known" if trade_id in known else "unchecked" if unchecked == [trade] else "new"
    assert got == expected
