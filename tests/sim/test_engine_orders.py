"""Engine: locking, fills, partial fills, fees+tax, market orders, async cancel, statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.sim.engine.orders import CANCELED, CLOSED, PARTIAL, UNTOUCHED, SimReject

from .engine_helpers import START_MS, D, assert_lock_invariant, make_engine


def test_ids_are_above_2_pow_53() -> None:
    engine = make_engine()
    order = engine.place_order(symbol="BTCTRY", side="buy", method="market", quantity=D("1000"))
    assert order.id > 2**53
    assert engine.trades[0].id > 2**53


def test_limit_buy_locks_notional_plus_fee_reserve() -> None:
    engine = make_engine()
    order = engine.place_order(
        symbol="BTCTRY", side="buy", method="limit", quantity=D("0.01"), price=D("3800000")
    )
    notional = D("38000")
    reserve = notional * D("0.0020") * D("1.20")  # worst-case taker fee plus 20 % tax on it
    assert order.status == UNTOUCHED
    assert engine.accounts.locked("TRY") == notional + reserve
    assert engine.accounts.free("TRY") == D("1000000") - notional - reserve
    assert_lock_invariant(engine)


def test_limit_sell_locks_base() -> None:
    engine = make_engine()
    engine.place_order(symbol="BTCTRY", side="sell", method="limit", quantity=D("0.4"), price=D("4000000"))
    assert engine.accounts.locked("BTC") == D("0.4")
    assert engine.accounts.free("BTC") == D("0.6")


def test_resting_buy_fills_partially_then_fully_as_price_crosses_with_maker_fee_and_tax() -> None:
    engine = make_engine()
    qty = D("0.03")  # about three ticks of synthetic volume at this price
    order = engine.place_order(symbol="BTCTRY", side="buy", method="limit", quantity=qty, price=D("3800000"))
    engine.set_price("BTCTRY", D("3790000"))
    assert order.status == PARTIAL
    assert D(0) < order.left < qty
    for _ in range(10):
        if order.status == CLOSED:
            break
        engine.set_price("BTCTRY", D("3790000"))
    assert order.status == CLOSED and order.left == 0
    fills = [t for t in engine.trades if t.order_id == order.id]
    assert sum((t.amount for t in fills), D(0)) == qty
    for t in fills:
        assert t.maker and t.price == D("3800000")
        assert t.fee == (t.amount * t.price * D("0.0010")).quantize(D("1E-10"))
        assert t.tax == (t.fee * D("0.20")).quantize(D("1E-10"))
    paid = sum((t.amount * t.price + t.fee + t.tax for t in fills), D(0))
    assert engine.accounts.free("TRY") == D("1000000") - paid
    assert engine.accounts.locked("TRY") == 0
    assert engine.accounts.free("BTC") == D("1") + qty
    assert_lock_invariant(engine)


def test_resting_order_fills_on_the_price_path_when_time_advances() -> None:
    engine = make_engine()
    price = engine.pairs["BTCTRY"].price
    order = engine.place_order(
        symbol="BTCTRY", side="sell", method="limit", quantity=D("0.001"), price=price + 10
    )
    engine.advance_to(START_MS + 6 * 3600 * 1000)
    path_high = max(
        b.high for b in engine.pairs["BTCTRY"].candles.minute_bars(START_MS // 1000, engine.now_ms // 1000)
    )
    assert path_high >= price + 10  # the seeded path does go above the order...
    assert order.status == CLOSED  # ...so the order filled
    assert engine.accounts.free("TRY") > D("1000000")


def test_market_buy_quantity_is_quote_and_pays_taker_fee() -> None:
    engine = make_engine()
    order = engine.place_order(symbol="BTCTRY", side="buy", method="market", quantity=D("5000"))
    fills = [t for t in engine.trades if t.order_id == order.id]
    spent = sum((t.amount * t.price for t in fills), D(0))
    assert order.status == CLOSED
    assert D("4990") < spent <= D("5000")  # spends the QUOTE amount, not 5000 BTC
    assert order.amount == sum((t.amount for t in fills), D(0)) == engine.accounts.free("BTC") - 1
    for t in fills:
        assert not t.maker
        assert t.fee == (t.amount * t.price * D("0.0020")).quantize(D("1E-10"))


def test_market_buy_stops_at_the_5_percent_band() -> None:
    engine = make_engine(book_depth=400, balances={"TRY": D("100000000")})
    best_ask = engine.book("BTCTRY").best_ask
    assert best_ask is not None
    order = engine.place_order(symbol="BTCTRY", side="buy", method="market", quantity=D("50000000"))
    prices = [t.price for t in engine.trades if t.order_id == order.id]
    assert max(prices) <= best_ask * D("1.05")
    assert max(prices) > best_ask * D("1.04")  # it did walk the book up to the band
    assert order.quote_spent < D("50000000")  # the rest is simply not executed
    assert order.status == CLOSED


def test_market_sell_stops_at_the_5_percent_band() -> None:
    engine = make_engine(book_depth=400, balances={"BTC": D("100")})
    best_bid = engine.book("BTCTRY").best_bid
    assert best_bid is not None
    order = engine.place_order(symbol="BTCTRY", side="sell", method="market", quantity=D("100"))
    prices = [t.price for t in engine.trades if t.order_id == order.id]
    assert min(prices) >= best_bid * D("0.95")
    assert order.left > 0 and order.status == CLOSED


def test_crossing_limit_buy_takes_liquidity_then_rests() -> None:
    engine = make_engine()
    book = engine.book("BTCTRY")
    limit = book.asks[1].price
    available = book.asks[0].amount + book.asks[1].amount
    order = engine.place_order(
        symbol="BTCTRY", side="buy", method="limit", quantity=available + D("0.01"), price=limit
    )
    fills = [t for t in engine.trades if t.order_id == order.id]
    assert [t.price for t in fills] == [book.asks[0].price, limit]
    assert all(not t.maker for t in fills)
    assert order.status == PARTIAL and order.left == D("0.01")
    # the book is depleted for the rest of the tick
    assert engine.book("BTCTRY").best_ask == book.asks[2].price
    assert_lock_invariant(engine)


def test_cancel_is_asynchronous_and_a_fill_can_still_happen() -> None:
    engine = make_engine()  # cancel_delay_s = 1.0
    order = engine.place_order(
        symbol="BTCTRY", side="buy", method="limit", quantity=D("0.05"), price=D("3800000")
    )
    engine.cancel_order(order.id)
    assert order.status == UNTOUCHED  # accepted, not final
    engine.set_price("BTCTRY", D("3700000"))  # fills part of it inside the delay
    assert order.status == PARTIAL
    engine.advance_to(START_MS + 999)
    assert order.is_open
    engine.advance_to(START_MS + 1000)
    assert order.status == CANCELED
    assert order.left > 0
    assert engine.accounts.locked("TRY") == 0
    assert_lock_invariant(engine)


def test_cancel_errors() -> None:
    engine = make_engine(cancel_delay_s=0)
    with pytest.raises(SimReject) as unknown:
        engine.cancel_order(123)
    assert (unknown.value.message, unknown.value.code) == ("NO_ORDER_MATCHES_YOUR_REQUEST", 1052)
    market = engine.place_order(symbol="BTCTRY", side="buy", method="market", quantity=D("1000"))
    with pytest.raises(SimReject) as closed:
        engine.cancel_order(market.id)
    assert closed.value.message == "ORDER_COULD_NOT_BE_CANCELED"
    limit = engine.place_order(
        symbol="BTCTRY", side="buy", method="limit", quantity=D("0.001"), price=D("3800000")
    )
    engine.cancel_order(limit.id)
    assert limit.status == CANCELED  # zero delay = immediate
    with pytest.raises(SimReject):
        engine.cancel_order(limit.id)
    with pytest.raises(SimReject) as missing:
        engine.get_order(42)
    assert (missing.value.message, missing.value.code) == ("Order not found", 1152)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"method": "limit", "quantity": "0.001", "price": "3800000.5"},
            ("FAILED_INVALID_PRICE_SCALE", 1126),
        ),
        (
            {"method": "limit", "quantity": "0.000000001", "price": "3800000"},
            ("FAILED_INVALID_QUANTITY_SCALE", 1127),
        ),
        ({"method": "limit", "quantity": "0.00002", "price": "3800000"}, ("FAILED_MIN_TOTAL_AMOUNT", 1123)),
        (
            {"method": "limit", "quantity": "0.001", "price": "39000010"},
            ("PRICE_MUST_BE_LESS_THAN_MAXPRICE", 1226),
        ),
        ({"method": "limit", "quantity": "1", "price": "380000"}, ("PRICE_MUST_BE_LESS_THAN_MINPRICE", 1227)),
        ({"method": "limit", "quantity": "1", "price": "3800000"}, ("BALANCE_NOT_ENOUGH", 1055)),
        ({"method": "market", "quantity": "100.123"}, ("FAILED_INVALID_QUANTITY_SCALE", 1127)),
        ({"method": "market", "quantity": "50"}, ("FAILED_MIN_TOTAL_AMOUNT", 1123)),
        ({"method": "stoplimit", "quantity": "1"}, ("ORDER_METHOD_NOT_SUPPORTED", 1134)),
    ],
)
def test_buy_validation_errors(kwargs: dict[str, str], expected: tuple[str, int]) -> None:
    engine = make_engine(balances={"TRY": D("1000000")})
    price = Decimal(kwargs["price"]) if "price" in kwargs else None
    with pytest.raises(SimReject) as exc:
        engine.place_order(
            symbol="BTCTRY", side="buy", method=kwargs["method"], quantity=D(kwargs["quantity"]), price=price
        )
    assert (exc.value.message, exc.value.code) == expected
    assert engine.orders == {}
    assert engine.accounts.free("TRY") == D("1000000")


def test_funds_tied_in_open_orders_give_1122() -> None:
    engine = make_engine(balances={"TRY": D("50000")})
    engine.place_order(symbol="BTCTRY", side="buy", method="limit", quantity=D("0.01"), price=D("3800000"))
    with pytest.raises(SimReject) as exc:
        engine.place_order(
            symbol="BTCTRY", side="buy", method="limit", quantity=D("0.01"), price=D("3800000")
        )
    assert (exc.value.message, exc.value.code) == ("FAILED_ORDER_WITH_OPEN_ORDERS", 1122)


def test_client_id_is_kept_or_generated_and_visibility_delay_hides_new_orders() -> None:
    engine = make_engine()
    mine = engine.place_order(
        symbol="BTC_TRY",
        side="buy",
        method="limit",
        quantity=D("0.001"),
        price=D("3800000"),
        client_id="abc-1",
    )
    generated = engine.place_order(
        symbol="BTCTRY",
        side="buy",
        method="limit",
        quantity=D("0.001"),
        price=D("3800000"),
        visible_delay_ms=5000,
    )
    assert mine.client_id == "abc-1"
    assert len(generated.client_id) == 36
    assert [o.id for o in engine.open_orders("BTCTRY")] == [mine.id]
    engine.advance_to(START_MS + 5000)
    assert {o.id for o in engine.open_orders("BTCTRY")} == {mine.id, generated.id}
