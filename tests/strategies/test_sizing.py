"""Target weights -> intents: drift band, sells first, cash budget, trading states, rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.strategies.sizing import SizingParams, TargetWeight, floor_quantity, plan_orders

from ._builders import portfolio

D = Decimal
NO_BUFFER = SizingParams(drift_band=D("0.02"), cash_buffer_bps=D(0))


def target(symbol: str, weight: str, edge: str = "40") -> TargetWeight:
    return TargetWeight(symbol, D(weight), D(edge), "test")


def test_drift_band_suppresses_small_trades() -> None:
    # 19 % held, target 20 %: a 1 % gap is inside the 2 % band
    book = portfolio("8100", {"BTCTRY": ("19", "100")})
    assert plan_orders("s1", [target("BTCTRY", "0.20")], book, {"BTCTRY": D(100)}, NO_BUFFER) == []
    # exactly on the band is still inside
    assert plan_orders("s1", [target("BTCTRY", "0.21")], book, {"BTCTRY": D(100)}, NO_BUFFER) == []
    # 25 %: 6 % gap -> buy 600 TRY = 6 BTC at 100
    [buy] = plan_orders("s1", [target("BTCTRY", "0.25")], book, {"BTCTRY": D(100)}, NO_BUFFER)
    assert (buy.side, buy.quantity, buy.order_type) == (Side.BUY, D(6), OrderType.MARKET)
    assert buy.reference_price == D(100) and buy.expected_edge_bps == D(40) and buy.strategy_id == "s1"
    assert buy.est_fee_bps == 0 and buy.est_slippage_bps == 0  # 0 = risk uses the configured costs


def test_shrink_sells_the_excess_and_zero_target_sells_everything() -> None:
    book = portfolio("4000", {"AAATRY": ("30", "100"), "BBBTRY": ("3", "1000")})  # equity 10000
    intents = plan_orders(
        "s1",
        [target("AAATRY", "0.10"), target("BBBTRY", "0")],
        book,
        {"AAATRY": D(100), "BBBTRY": D(1000)},
        NO_BUFFER,
    )
    assert [(i.symbol, i.side, i.quantity) for i in intents] == [
        ("AAATRY", Side.SELL, D(20)),  # 30 % -> 10 %: 2000 TRY
        ("BBBTRY", Side.SELL, D(3)),  # everything
    ]


def test_sells_come_first_then_buys_each_sorted_by_symbol() -> None:
    book = portfolio("1000", {"ZZZTRY": ("50", "100"), "AAATRY": ("0", "10")})  # equity 6000
    prices = {"AAATRY": D(10), "MMMTRY": D(10), "ZZZTRY": D(100)}
    intents = plan_orders(
        "s1",
        [target("MMMTRY", "0.2"), target("ZZZTRY", "0.2"), target("AAATRY", "0.2")],
        book,
        prices,
        NO_BUFFER,
    )
    assert [(i.side, i.symbol) for i in intents] == [
        (Side.SELL, "ZZZTRY"),
        (Side.BUY, "AAATRY"),
        (Side.BUY, "MMMTRY"),
    ]


def test_buys_are_scaled_to_cash_plus_sell_proceeds() -> None:
    book = portfolio("1000", {"ZZZTRY": ("10", "100")})  # equity 2000, cash 1000
    prices = {"AAATRY": D(10), "BBBTRY": D(10), "ZZZTRY": D(100)}
    targets = [target("AAATRY", "0.5"), target("BBBTRY", "0.5"), target("ZZZTRY", "0.25")]
    intents = plan_orders("s1", targets, book, prices, NO_BUFFER)
    # sell 500 TRY of ZZZ; buys want 1000 + 1000 but only 1500 is there: each scaled by 0.75
    assert [(i.symbol, i.side, i.quantity) for i in intents] == [
        ("ZZZTRY", Side.SELL, D(5)),
        ("AAATRY", Side.BUY, D(75)),
        ("BBBTRY", Side.BUY, D(75)),
    ]


def test_cash_buffer_leaves_room_for_fees() -> None:
    book = portfolio("1000")
    sizing = SizingParams(drift_band=D(0), cash_buffer_bps=D(100))  # 1 %
    [buy] = plan_orders("s1", [target("AAATRY", "1")], book, {"AAATRY": D(1)}, sizing)
    assert buy.quantity == floor_quantity(D(1000) / D("1.01"), 8)


def test_resting_buys_count_as_exposure() -> None:
    book = portfolio("1000", open_buy={"AAATRY": D(20)})  # 200 TRY already bid: 20 %
    assert plan_orders("s1", [target("AAATRY", "0.2")], book, {"AAATRY": D(10)}, NO_BUFFER) == []


def test_halted_trades_nothing_and_reducing_only_sells() -> None:
    holdings = {"AAATRY": ("50", "10")}
    targets = [target("AAATRY", "0"), target("BBBTRY", "0.5")]
    prices = {"AAATRY": D(10), "BBBTRY": D(10)}
    halted = portfolio("500", holdings, state=TradingState.HALTED)
    assert plan_orders("s1", targets, halted, prices, NO_BUFFER) == []
    reducing = portfolio("500", holdings, state=TradingState.REDUCING)
    assert [(i.side, i.symbol) for i in plan_orders("s1", targets, reducing, prices, NO_BUFFER)] == [
        (Side.SELL, "AAATRY")
    ]


def test_missing_price_or_empty_book_means_no_order() -> None:
    assert plan_orders("s1", [target("AAATRY", "0.5")], portfolio("1000"), {}, NO_BUFFER) == []
    assert plan_orders("s1", [target("AAATRY", "0.5")], portfolio("0"), {"AAATRY": D(1)}, NO_BUFFER) == []


def test_quantities_are_floored() -> None:
    [buy] = plan_orders("s1", [target("AAATRY", "0.5")], portfolio("1000"), {"AAATRY": D(3)}, NO_BUFFER)
    assert buy.quantity == D("166.66666666")  # 500 / 3 rounded DOWN
    assert floor_quantity(D("-1"), 8) == 0
    assert floor_quantity(D("1.239"), 2) == D("1.23")


def test_sizing_params_validation() -> None:
    with pytest.raises(ValueError, match="drift_band"):
        SizingParams(drift_band=D(1))
    with pytest.raises(ValueError, match="negative"):
        SizingParams(cash_buffer_bps=D(-1))
