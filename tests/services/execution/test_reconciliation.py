"""Reconciliation scenarios, each built by hand: what the exchange shows -> which corrections."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderState, OrderType, Side, VenueOrderStatus
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.market import Balance
from btcbot.domain.orders import ManagedOrder
from btcbot.services.execution.client_order_id import make_client_order_id
from btcbot.services.execution.corrections import (
    AdoptUnknownOrder,
    ApplyFill,
    BalanceDrift,
    CloseVanishedOrder,
    CorrectFromExchange,
    DuplicateClientOrderId,
    ExternalSurplus,
    MarkNotPlaced,
    OrderConflict,
    PendingLookup,
    ReconcileReport,
    UpdateOrderState,
    adopt_order,
    apply_correction,
    render_plan,
)
from btcbot.services.execution.reconciliation import reconcile

from .factories import CID, at, fill, order, xorder

S = OrderState
V = VenueOrderStatus
GRACE = 60.0
NOW = at(1000)
PRICES = {"TRY": Decimal(1), "BTC": Decimal("100")}
OTHER_CID = make_client_order_id("s1", 2, "BTCTRY", Side.SELL, "other")


def run(
    local: Sequence[ManagedOrder] = (),
    open_rows: Sequence[ExchangeOrder] = (),
    recent: Sequence[ExchangeOrder] = (),
    fills: Sequence[Fill] = (),
    known_trades: frozenset[int] = frozenset(),
    ledger: Mapping[str, Decimal] | None = None,
    exchange: Mapping[str, Balance | Decimal] | None = None,
    now: object = NOW,
    known_cids: frozenset[str] = frozenset(),
    dust: Decimal = Decimal("1"),
) -> ReconcileReport:
    return reconcile(
        local,
        open_rows,
        recent,
        fills,
        known_trades,
        ledger or {},
        exchange or {},
        PRICES,
        dust,
        now,  # type: ignore[arg-type]
        GRACE,
        known_client_order_ids=known_cids,
    )


def orders_part(report: ReconcileReport) -> tuple[object, ...]:
    """The order-level corrections (these scenarios do not model balances)."""
    return tuple(c for c in report.corrections if not isinstance(c, BalanceDrift | ExternalSurplus))


def play(orders: Sequence[ManagedOrder], report: ReconcileReport) -> dict[str, ManagedOrder]:
    """Execute the order corrections as the cycle would (pure), in the report's order."""
    state: dict[str, ManagedOrder] = {o.client_order_id: o for o in orders}
    for c in report.corrections:
        if isinstance(c, AdoptUnknownOrder) and c.exchange_order is not None:
            state[c.client_order_id] = adopt_order(c.exchange_order, NOW)
        elif isinstance(c, ApplyFill | UpdateOrderState | MarkNotPlaced | CorrectFromExchange):
            state[c.client_order_id] = apply_correction(state[c.client_order_id], c, NOW, GRACE)[0]
    return state


def test_nothing_to_do() -> None:
    o = order(S.OPEN, exchange_order_id=5001)
    report = run(
        [o], open_rows=[xorder(V.UNTOUCHED)], ledger={"TRY": Decimal(500)}, exchange={"TRY": Decimal(500)}
    )
    assert report.corrections == ()
    assert report.is_clean and not report.requires_reducing


def test_ghost_order_found_in_open_orders() -> None:
    ghost = order(S.UNKNOWN)
    row = xorder(V.UNTOUCHED)
    report = run([ghost], open_rows=[row], now=at(5))
    assert report.corrections == (UpdateOrderState(CID, S.OPEN, row),)
    after = play([ghost], report)[CID]
    assert (after.state, after.exchange_order_id) == (S.OPEN, 5001)


def test_partial_fill_then_cancel() -> None:
    o = order(S.OPEN, exchange_order_id=5001)
    f = fill("0.4", trade_id=1, fee="0.04", tax="0.008")
    row = xorder(V.CANCELED, left=Decimal("0.6"))
    # ledger still before the fill; the exchange already after it -> not drift
    ledger = {"TRY": Decimal(1000), "BTC": Decimal(0)}
    exchange = {"TRY": Decimal("1000") - Decimal("40.048"), "BTC": Decimal("0.4")}
    report = run([o], recent=[row], fills=[f], ledger=ledger, exchange=exchange)
    assert report.corrections == (ApplyFill(CID, f), UpdateOrderState(CID, S.CANCELED, row))
    after = play([o], report)[CID]
    assert (after.state, after.filled_quantity, after.filled_quote) == (
        S.CANCELED,
        Decimal("0.4"),
        Decimal("40.0"),
    )


def test_vanished_order_waits_for_grace_then_asks_for_lookup() -> None:
    o = order(S.OPEN, exchange_order_id=5001, updated_at=at(100))
    assert run([o], now=at(159)).corrections == ()
    assert run([o], now=at(160)).corrections == (CloseVanishedOrder(CID, ExchangeOrderId(5001)),)
    # an open row in history but absent from open orders is not final either
    assert run([o], recent=[xorder(V.UNTOUCHED)], now=at(160)).corrections == (CloseVanishedOrder(CID, ExchangeOrderId(5001)),)


def test_vanished_order_with_final_row_in_history_is_updated_directly() -> None:
    o = order(S.PARTIALLY_FILLED, exchange_order_id=5001, filled_quantity=Decimal("1.0"))
    row = xorder(V.CLOSED, left=Decimal(0))
    assert run([o], recent=[row]).corrections == (UpdateOrderState(CID, S.FILLED, row),)


def test_late_fill_after_cancel() -> None:
    o = order(S.CANCELED, exchange_order_id=5001, filled_quantity=Decimal("0.4"), filled_quote=Decimal(40))
    late = fill("0.1", trade_id=7)
    report = run(
        [o], recent=[xorder(V.CANCELED, left=Decimal("0.5"))], fills=[late], known_trades=frozenset({1})
    )
    assert orders_part(report) == (ApplyFill(CID, late),)
    after = play([o], report)[CID]
    assert (after.state, after.filled_quantity) == (S.CANCELED, Decimal("0.5"))


def test_late_fill_of_a_terminal_order_not_loaded() -> None:
    late = fill("0.1", trade_id=7)
    report = run(fills=[late], known_cids=frozenset({CID}))
    assert orders_part(report) == (ApplyFill(CID, late),)


def test_drift_in_btc_requires_reducing() -> None:
    report = run(
        ledger={"BTC": Decimal("1.0"), "TRY": Decimal(10)},
        exchange={"BTC": Decimal("0.9"), "TRY": Decimal(10)},
    )
    drift = BalanceDrift("BTC", Decimal("1.0"), Decimal("0.9"), Decimal("-0.1"), Decimal("-10.0"))
    assert report.corrections == (drift,)
    assert report.requires_reducing


def test_dust_is_tolerated() -> None:
    report = run(ledger={"BTC": Decimal("1.0")}, exchange={"BTC": Decimal("0.995")}, dust=Decimal("0.5"))
    assert report.corrections == () and not report.requires_reducing
    assert run(
        ledger={"BTC": Decimal("1.0")}, exchange={"BTC": Decimal("0.994")}, dust=Decimal("0.5")
    ).requires_reducing


def test_deposit_is_surplus_not_drift() -> None:
    report = run(
        ledger={"TRY": Decimal(1000)},
        exchange={"TRY": Balance("TRY", free=Decimal(1500), locked=Decimal(0), total=Decimal(1500))},
    )
    assert report.corrections == (
        ExternalSurplus("TRY", Decimal(1000), Decimal(1500), Decimal(500), Decimal(500)),
    )
    assert not report.requires_reducing
    assert report.is_clean


def test_unpriced_asset_shortfall_is_drift_and_surplus_is_info() -> None:
    report = run(ledger={"XYZ": Decimal(1)}, exchange={"ABC": Decimal(5)})
    assert report.corrections == (
        BalanceDrift("XYZ", Decimal(1), Decimal(0), Decimal(-1), None),
        ExternalSurplus("ABC", Decimal(0), Decimal(5), Decimal(5), None),
    )
    assert report.requires_reducing


def test_locked_funds_count_as_held() -> None:
    report = run(
        ledger={"TRY": Decimal(1000)},
        exchange={"TRY": Balance("TRY", free=Decimal(400), locked=Decimal(600), total=Decimal(1000))},
    )
    assert report.corrections == ()


def test_duplicate_client_ids_on_the_exchange() -> None:
    ghost = order(S.UNKNOWN)
    first = xorder(V.CLOSED, exchange_order_id=10, left=Decimal(0))
    second = xorder(V.UNTOUCHED, exchange_order_id=11)
    report = run([ghost], open_rows=[second], recent=[first], now=at(5))
    assert report.corrections == (
        UpdateOrderState(CID, S.FILLED, first),
        DuplicateClientOrderId(CID, chosen=ExchangeOrderId(10), others=(ExchangeOrderId(11),), open_others=(ExchangeOrderId(11),)),
    )
    # the same duplicate on a tracked order
    tracked = order(S.OPEN, exchange_order_id=11)
    report = run([tracked], open_rows=[second], recent=[first])
    assert DuplicateClientOrderId(CID, chosen=ExchangeOrderId(11), others=(ExchangeOrderId(10),), open_others=()) in report.corrections


def test_fill_of_a_duplicate_exchange_order_is_a_conflict() -> None:
    tracked = order(S.OPEN, exchange_order_id=11)
    stray = fill("0.2", trade_id=3, order_id=10)
    report = run([tracked], open_rows=[xorder(V.UNTOUCHED, exchange_order_id=11)], fills=[stray])
    assert [type(c) for c in report.corrections] == [OrderConflict]
    assert report.requires_reducing and report.has_conflicts


def test_unknown_order_of_ours_is_adopted() -> None:
    row = xorder(
        V.PARTIAL, client_order_id=OTHER_CID, exchange_order_id=77, side=Side.SELL, left=Decimal("0.5")
    )
    f = fill("0.5", trade_id=4, order_id=77, client_order_id=OTHER_CID, side=Side.SELL)
    report = run(open_rows=[row], fills=[f])
    assert orders_part(report) == (
        AdoptUnknownOrder(OTHER_CID, ExchangeOrderId(77), "BTCTRY", Side.SELL, row),
        ApplyFill(OTHER_CID, f),
    )
    adopted = play([], report)[OTHER_CID]
    assert (adopted.state, adopted.cycle_id, adopted.filled_quantity, adopted.risk_increasing) == (
        S.PARTIALLY_FILLED,
        2,
        Decimal("0.5"),
        False,
    )
    # already in the database (not loaded): never adopted twice
    assert run(open_rows=[row], known_cids=frozenset({OTHER_CID})).corrections == ()


def test_order_known_only_from_a_fill_is_adopted_without_row() -> None:
    f = fill("0.5", trade_id=4, order_id=77, client_order_id=OTHER_CID, side=Side.SELL)
    report = run(fills=[f])
    assert orders_part(report) == (
        AdoptUnknownOrder(OTHER_CID, ExchangeOrderId(77), "BTCTRY", Side.SELL, None),
        ApplyFill(OTHER_CID, f),
    )


def test_foreign_orders_and_fills_are_ignored() -> None:
    manual = xorder(V.UNTOUCHED, client_order_id="my phone app", exchange_order_id=99)
    guid = xorder(V.CLOSED, client_order_id=None, exchange_order_id=98, left=Decimal(0))
    foreign_fill = fill("1", trade_id=5, order_id=98, client_order_id=None)
    report = run(open_rows=[manual], recent=[guid], fills=[foreign_fill])
    assert report.corrections == ()
    assert (report.foreign_orders_ignored, report.foreign_fills_ignored) == (2, 1)


def test_each_trade_is_applied_once() -> None:
    o = order(S.OPEN, exchange_order_id=5001)
    f1, f2 = fill("0.2", trade_id=1), fill("0.3", trade_id=2, ts=20)
    report = run([o], open_rows=[xorder(V.PARTIAL)], fills=[f2, f1, f1, f2], known_trades=frozenset({1}))
    assert report.of_kind(ApplyFill) == (ApplyFill(CID, f2),)


def test_unresolved_order_not_placed_after_grace() -> None:
    o = order(S.SUBMITTING, updated_at=at(100))
    pending = run([o], now=at(120))
    assert [type(c) for c in pending.corrections] == [PendingLookup]
    assert pending.is_clean
    done = run([o], now=at(160))
    assert done.corrections == (MarkNotPlaced(CID),)
    assert play([o], done)[CID].state is S.NOT_PLACED


@pytest.mark.parametrize("local_state", [S.NOT_PLACED, S.REJECTED])
def test_order_we_believed_never_placed_is_corrected_to_the_exchange_state(local_state: OrderState) -> None:
    o = order(local_state, reject_reason="UNKNOWN" if local_state is S.REJECTED else None)
    row = xorder(V.CLOSED, left=Decimal(0))
    f = fill("1.0", trade_id=1)
    ledger, exchange = {"TRY": Decimal(200)}, {"TRY": Decimal("99.88"), "BTC": Decimal("1.0")}
    report = run([o], recent=[row], fills=[f], ledger=ledger, exchange=exchange)
    assert report.corrections == (CorrectFromExchange(CID, ExchangeOrderId(5001), row), ApplyFill(CID, f))
    assert not report.requires_reducing
    final = play([o], report)[CID]
    assert (final.state, final.exchange_order_id, final.filled_quantity) == (S.FILLED, 5001, Decimal("1.0"))
    # Executed once, the same exchange truth proposes nothing more.
    assert orders_part(run([final], recent=[row], fills=[f], known_trades=frozenset({1}))) == ()


def test_corrected_order_that_rests_on_the_exchange_becomes_open_and_duplicates_are_flagged() -> None:
    o = order(S.REJECTED)
    first, second = xorder(V.UNTOUCHED), xorder(V.UNTOUCHED, exchange_order_id=5002)
    report = run([o], open_rows=[second, first])
    kinds = [type(c) for c in orders_part(report)]
    assert kinds == [CorrectFromExchange, UpdateOrderState, DuplicateClientOrderId]
    assert report.of_kind(DuplicateClientOrderId)[0].open_others == (5002,)
    assert play([o], report)[CID].state is S.OPEN


def test_order_we_believed_never_placed_with_only_a_trade_is_reopened_and_booked() -> None:
    o = order(S.REJECTED)
    f = fill("0.4", trade_id=1)
    report = run([o], fills=[f])
    assert orders_part(report)[:2] == (CorrectFromExchange(CID, ExchangeOrderId(5001), None), ApplyFill(CID, f))
    reopened = play([o], report)[CID]
    assert (reopened.state, reopened.exchange_order_id) == (S.PARTIALLY_FILLED, 5001)


def test_unresolved_order_with_an_exchange_id_is_never_declared_not_placed() -> None:
    o = order(S.UNKNOWN, exchange_order_id=5001, updated_at=at(100))
    assert run([o], now=at(1000)).corrections == (CloseVanishedOrder(CID, ExchangeOrderId(5001)),)


def test_never_placed_order_that_the_exchange_does_not_show_stays_as_it_is() -> None:
    assert orders_part(run([order(S.REJECTED)], recent=[xorder(V.CLOSED, client_order_id=OTHER_CID)])) == (
        AdoptUnknownOrder(OTHER_CID, ExchangeOrderId(5001), "BTCTRY", Side.BUY, xorder(V.CLOSED, client_order_id=OTHER_CID)),
    )


def test_market_buy_closed_with_left_zero_is_filled() -> None:
    mb = order(
        S.OPEN, exchange_order_id=5001, order_type=OrderType.MARKET, price=None, quote_amount=Decimal(100)
    )
    row = xorder(V.CLOSED, left=Decimal(0), amount=Decimal("0.99"))
    f = fill("0.99", trade_id=1, price="101")
    report = run([mb], recent=[row], fills=[f])
    assert orders_part(report) == (ApplyFill(CID, f), UpdateOrderState(CID, S.FILLED, row))


def test_fills_complete_before_the_exchange_row_says_so() -> None:
    o = order(
        S.PARTIALLY_FILLED, exchange_order_id=5001, filled_quantity=Decimal("0.5"), filled_quote=Decimal(50)
    )
    f = fill("0.5", trade_id=2)
    report = run([o], open_rows=[xorder(V.PARTIAL, left=Decimal("0.5"))], fills=[f])
    assert orders_part(report) == (ApplyFill(CID, f),)  # the fill alone completes it
    assert play([o], report)[CID].state is S.FILLED


def test_report_is_deterministic_under_input_order() -> None:
    orders = [
        order(S.OPEN, exchange_order_id=5001),
        order(S.UNKNOWN, client_order_id=OTHER_CID, side=Side.SELL),
    ]
    rows = [
        xorder(V.PARTIAL),
        xorder(V.UNTOUCHED, client_order_id=OTHER_CID, exchange_order_id=6000, side=Side.SELL),
        xorder(V.UNTOUCHED, client_order_id="foreign", exchange_order_id=1),
    ]
    fills = [fill("0.1", trade_id=i, ts=i) for i in range(1, 6)]
    ledger = {"TRY": Decimal(1000), "BTC": Decimal(3), "ETH": Decimal(1)}
    exchange = {"TRY": Decimal(900), "BTC": Decimal("3.5"), "ETH": Decimal(0)}
    reference = run(orders, open_rows=rows, fills=fills, ledger=ledger, exchange=exchange, now=at(5))
    rng = random.Random(7)
    for _ in range(20):
        o2, r2, f2 = list(orders), list(rows), list(fills)
        rng.shuffle(o2)
        rng.shuffle(r2)
        rng.shuffle(f2)
        again = run(o2, open_rows=r2, fills=f2, ledger=ledger, exchange=exchange, now=at(5))
        assert again == reference


def test_render_plan_rows() -> None:
    o = order(S.OPEN, exchange_order_id=5001)
    f = fill("0.4", trade_id=1)
    report = run(
        [o],
        recent=[xorder(V.CANCELED, left=Decimal("0.6"))],
        fills=[f],
        ledger={"BTC": Decimal(2), "TRY": Decimal(100)},
        exchange={"BTC": Decimal(1), "TRY": Decimal("59.88")},
    )
    rows = render_plan(report)
    assert [r[0] for r in rows] == ["apply_fill", "update_order_state", "balance_drift"]
    assert rows[0][1] == "BTCTRY" and "trade 1" in rows[0][2] and "0.4 @ 100" in rows[0][2]
    assert "CANCELED" in rows[1][2]
    # the 0.4 BTC about to be applied is part of the expected ledger
    assert rows[2] == ("balance_drift", "BTC", "ledger 2.4 exchange 1 diff -1.4 (quote -140)")


def test_apply_correction_refuses_other_orders_and_non_order_kinds() -> None:
    o = order(S.OPEN, exchange_order_id=5001)
    with pytest.raises(ValueError, match="not for order"):
        apply_correction(o, MarkNotPlaced(OTHER_CID), NOW, GRACE)
    with pytest.raises(ValueError, match="does not change"):
        apply_correction(o, CloseVanishedOrder(CID, ExchangeOrderId(5001)), NOW, GRACE)


def test_fill_only_adoption_once_and_duplicate_exchange_order_conflicts() -> None:
    f1 = fill("0.2", trade_id=1, order_id=77, client_order_id=OTHER_CID, side=Side.SELL, ts=1)
    f2 = fill("0.3", trade_id=2, order_id=77, client_order_id=OTHER_CID, side=Side.SELL, ts=2)
    f3 = fill("0.1", trade_id=3, order_id=78, client_order_id=OTHER_CID, side=Side.SELL, ts=3)
    report = run(fills=[f3, f2, f1])
    assert orders_part(report)[:3] == (
        AdoptUnknownOrder(OTHER_CID, ExchangeOrderId(77), "BTCTRY", Side.SELL, None),
        ApplyFill(OTHER_CID, f1),
        ApplyFill(OTHER_CID, f2),
    )
    conflicts = report.of_kind(OrderConflict)
    assert len(conflicts) == 1 and "78" in conflicts[0].detail
