"""The constant-weight rebalancer: equal and custom weights, drift band, missing prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.domain.enums import Side
from btcbot.strategies.rebalance import RebalanceParams, RebalanceStrategy
from btcbot.strategies.sizing import SizingParams

from ._builders import portfolio, snapshot, ticker

D = Decimal
SYMBOLS = ["AAATRY", "BBBTRY", "CCCTRY", "DDDTRY", "EEETRY"]
PRICES = {s: ["10"] for s in SYMBOLS}


def test_equal_weight_targets() -> None:
    targets = RebalanceParams().targets_for(SYMBOLS + ["AAATRY"])
    assert targets == dict.fromkeys(SYMBOLS, D("0.19"))  # 95 % over 5 symbols


def test_from_cash_buys_equal_slices() -> None:
    strategy = RebalanceStrategy("rb", RebalanceParams(sizing=SizingParams(cash_buffer_bps=D(0))))
    intents = strategy.decide(snapshot(PRICES), portfolio("10000"), SYMBOLS)
    assert [(i.symbol, i.side, i.quantity) for i in intents] == [(s, Side.BUY, D(190)) for s in SYMBOLS]
    assert all(i.expected_edge_bps == D(50) and i.reason.startswith("rebalance") for i in intents)


def test_drift_band_then_rebalance() -> None:
    strategy = RebalanceStrategy("rb")  # band 5 %
    # AAA rallied from 10 to 12: 2280 / (500 + 4*1900 + 2280) = 22 % vs target 19 %: inside the band
    holdings = {s: ("190", "10") for s in SYMBOLS} | {"AAATRY": ("190", "12")}
    book = portfolio("500", holdings)
    series = PRICES | {"AAATRY": ["12"]}
    assert strategy.decide(snapshot(series), book, SYMBOLS) == []
    # AAA doubled to 20: 3800 / 11900 = 31.9 % -> 19 % of 11900 = 2261 TRY = 113.05 AAA: sell 76.95
    holdings = {s: ("190", "10") for s in SYMBOLS} | {"AAATRY": ("190", "20")}
    book = portfolio("500", holdings)
    intents = strategy.decide(snapshot(PRICES | {"AAATRY": ["20"]}), book, SYMBOLS)
    assert [(i.symbol, i.side, i.quantity) for i in intents] == [("AAATRY", Side.SELL, D("76.95"))]


def test_custom_weights_sell_unlisted_symbols() -> None:
    params = RebalanceParams(weights=(("BBBTRY", D("0.3")), ("AAATRY", D("0.5"))))
    assert params.weights == (("AAATRY", D("0.5")), ("BBBTRY", D("0.3")))  # stored sorted
    book = portfolio("9000", {"CCCTRY": ("100", "10")})  # equity 10000
    intents = RebalanceStrategy("rb", params).decide(snapshot(PRICES), book, ["AAATRY", "BBBTRY", "CCCTRY"])
    assert [(i.symbol, i.side) for i in intents] == [
        ("CCCTRY", Side.SELL),
        ("AAATRY", Side.BUY),
        ("BBBTRY", Side.BUY),
    ]
    assert intents[0].quantity == D(100)


def test_symbol_without_price_is_skipped_and_ticker_wins() -> None:
    strategy = RebalanceStrategy("rb", RebalanceParams(sizing=SizingParams(cash_buffer_bps=D(0))))
    snap = snapshot({"AAATRY": ["10"]}, tickers={"AAATRY": ticker("AAATRY", "20")})
    [buy] = strategy.decide(snap, portfolio("1000"), ["AAATRY", "BBBTRY"])
    # BBB has no price: skipped, but still counts in the equal split (47.5 % each)
    assert (buy.symbol, buy.reference_price, buy.quantity) == ("AAATRY", D(20), D("23.75"))
    assert strategy.required_history() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": (("AAATRY", D("0.7")), ("BBBTRY", D("0.4")))}, "sum"),
        ({"weights": (("AAATRY", D("-0.1")),)}, "lie in"),
        ({"weights": (("AAATRY", D("0.1")), ("AAATRY", D("0.2")))}, "twice"),
        ({"invested_fraction": D(0)}, "invested_fraction"),
    ],
)
def test_params_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RebalanceParams(**kwargs)  # type: ignore[arg-type]
