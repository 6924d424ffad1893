"""The trend strategy: hand-computed signal, crossover buy then sell, vol scaling, determinism."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.strategies.sizing import SizingParams
from btcbot.strategies.trend import TrendParams, TrendStrategy, trend_signal

from ._builders import DAY, portfolio, snapshot, ticker

D = Decimal
HOUR_S = 3600
TINY = TrendParams(fast_period=2, slow_period=3, vol_window=2, warmup_multiple=1)
# Fast enough to react on a dozen bars; a generous vol target so the weight sits at the cap.
SHORT = TrendParams(
    fast_period=3,
    slow_period=6,
    vol_window=5,
    warmup_multiple=2,
    target_vol_annual=D(100),
    max_weight=D("0.2"),
    sizing=SizingParams(drift_band=D("0.02"), cash_buffer_bps=D(0)),
)


def q(value: Decimal, places: int = 12) -> Decimal:
    return value.quantize(D(1).scaleb(-places))


def test_signal_hand_computed_long() -> None:
    # EMA2 (alpha 2/3): 100, 93.33.., 874/9; EMA3 (alpha 1/2): 100, 95, 97
    # returns -0.1, +0.1 -> sigma_bar = sqrt(0.02); daily bars -> sqrt(365) a year
    sig = trend_signal([D(100), D(90), D(99)], DAY, TINY)
    assert sig is not None
    assert q(sig.ema_fast) == q(D(874) / 9) and sig.ema_slow == D(97)
    assert sig.vol_bar == D("0.02").sqrt()
    assert q(sig.vol_annual) == q(D("0.02").sqrt() * D(365).sqrt())
    spread = (D(874) / 9 - 97) / 97  # = 1/873
    assert q(sig.z) == q(spread / D("0.02").sqrt())
    assert q(sig.weight) == q(D("0.10") / (D("0.02").sqrt() * D(365).sqrt()))  # below the 0.20 cap
    assert q(sig.edge_bps) == q(D(30) * sig.z)


def test_signal_flat_when_fast_below_slow() -> None:
    sig = trend_signal([D(100), D(110), D(99)], DAY, TINY)
    assert sig is not None and sig.weight == 0 and sig.z < 0
    assert sig.edge_bps == D(30) * abs(sig.z)  # exits carry the same |z| edge


def test_edge_is_capped() -> None:
    params = TrendParams(fast_period=2, slow_period=3, vol_window=2, warmup_multiple=1, max_z=D(2))
    sig = trend_signal([D(100), D(101), D("102.02")], DAY, params)  # steady rise, tiny noise
    assert sig is not None and sig.z > 2 and sig.edge_bps == D(60)
    flat_noise = trend_signal([D(100), D(110), D(121)], DAY, params)  # zero volatility: z = max_z
    assert flat_noise is not None and flat_noise.z == D(2) and flat_noise.weight == params.max_weight


def test_not_enough_history_means_no_signal() -> None:
    assert trend_signal([D(100), D(101)], DAY, TINY) is None
    assert TrendParams().history == 144  # 3 x 48
    assert TrendStrategy("s1").required_history() == 144


def test_only_the_required_history_is_used() -> None:
    closes = [D(100), D(90), D(99)]
    assert trend_signal([D(1), D(1000), *closes], DAY, TINY) == trend_signal(closes, DAY, TINY)


DOWN_THEN_UP = ["100", "99", "98", "97", "96", "95", "94", "93", "100", "107", "114", "121"]
UP_THEN_DOWN = ["93", "100", "107", "114", "121", "121", "110", "100", "90", "80", "75", "70"]


def test_crossover_buys_then_sells() -> None:
    strategy = TrendStrategy("s1", SHORT)
    assert strategy.required_history() == 12
    [buy] = strategy.decide(snapshot({"BTCTRY": DOWN_THEN_UP}), portfolio("10000"), ["BTCTRY"])
    assert (buy.side, buy.order_type, buy.symbol) == (Side.BUY, OrderType.MARKET, "BTCTRY")
    assert buy.reference_price == D(121)  # no ticker: the last close
    assert buy.quantity == (D(2000) / D(121)).quantize(D("1E-8"), rounding="ROUND_DOWN")
    assert buy.expected_edge_bps > 0 and buy.reason.startswith("trend ema3=")

    held = portfolio(D(10000) - buy.quantity * D(121), {"BTCTRY": (buy.quantity, "70")})
    [sell] = strategy.decide(snapshot({"BTCTRY": UP_THEN_DOWN}), held, ["BTCTRY"])
    assert (sell.side, sell.quantity, sell.reference_price) == (Side.SELL, buy.quantity, D(70))


def test_holding_at_target_inside_band_does_nothing() -> None:
    strategy = TrendStrategy("s1", SHORT)
    held = portfolio("8000", {"BTCTRY": (D(2000) / D(121), "121")})  # already 20 %
    assert strategy.decide(snapshot({"BTCTRY": DOWN_THEN_UP}), held, ["BTCTRY"]) == []


def test_ticker_last_is_the_reference_price() -> None:
    strategy = TrendStrategy("s1", SHORT)
    snap = snapshot({"BTCTRY": DOWN_THEN_UP}, tickers={"BTCTRY": ticker("BTCTRY", "125")})
    [buy] = strategy.decide(snap, portfolio("10000"), ["BTCTRY"])
    assert buy.reference_price == D(125)


def zigzag(amplitude: int) -> list[Decimal]:
    """An up-trend of 1 per bar with alternating noise of +-amplitude."""
    return [D(1000 + i + (amplitude if i % 2 else -amplitude)) for i in range(40)]


def test_weight_shrinks_as_volatility_rises() -> None:
    params = TrendParams(fast_period=4, slow_period=12, vol_window=20, warmup_multiple=2, max_weight=D(1))
    weights = []
    for amplitude in (1, 3, 9):
        sig = trend_signal(zigzag(amplitude), HOUR_S, params)
        assert sig is not None and sig.ema_fast > sig.ema_slow
        weights.append(sig.weight)
    assert weights[0] > weights[1] > weights[2] > 0


def test_weight_capped_at_max_weight_and_total_capped() -> None:
    params = TrendParams(
        fast_period=3,
        slow_period=6,
        vol_window=5,
        warmup_multiple=2,
        target_vol_annual=D(100),
        max_weight=D("0.5"),
        max_total_weight=D("0.6"),
        sizing=SizingParams(drift_band=D(0), cash_buffer_bps=D(0)),
    )
    snap = snapshot({"AAATRY": DOWN_THEN_UP, "BBBTRY": DOWN_THEN_UP})
    intents = TrendStrategy("s1", params).decide(snap, portfolio("10000"), ["BBBTRY", "AAATRY"])
    # each wants 0.5, together 1.0 > 0.6: scaled to 0.3 each = 3000 TRY at 121
    assert [(i.symbol, i.quantity) for i in intents] == [
        ("AAATRY", (D(3000) / D(121)).quantize(D("1E-8"), rounding="ROUND_DOWN")),
        ("BBBTRY", (D(3000) / D(121)).quantize(D("1E-8"), rounding="ROUND_DOWN")),
    ]


def test_only_tradable_symbols_are_traded_and_halted_trades_nothing() -> None:
    strategy = TrendStrategy("s1", SHORT)
    snap = snapshot({"AAATRY": DOWN_THEN_UP, "BBBTRY": DOWN_THEN_UP})
    assert [i.symbol for i in strategy.decide(snap, portfolio("10000"), ["BBBTRY"])] == ["BBBTRY"]
    assert strategy.decide(snap, portfolio("10000", state=TradingState.HALTED), ["BBBTRY"]) == []


def test_decisions_are_deterministic() -> None:
    strategy = TrendStrategy("s1", SHORT)
    series = {"AAATRY": DOWN_THEN_UP, "BBBTRY": DOWN_THEN_UP, "CCCTRY": UP_THEN_DOWN}
    book = portfolio("5000", {"CCCTRY": ("10", "70")})
    first = strategy.decide(snapshot(series), book, ["CCCTRY", "AAATRY", "BBBTRY"])
    second = TrendStrategy("s1", SHORT).decide(
        snapshot(dict(reversed(series.items()))), book, ["BBBTRY", "AAATRY", "CCCTRY"]
    )
    assert first == second and len(first) == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fast_period": 10, "slow_period": 10},
        {"vol_window": 1},
        {"target_vol_annual": D(0)},
        {"max_weight": D("1.5")},
        {"max_z": D(0)},
    ],
)
def test_params_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TrendParams(**kwargs)  # type: ignore[arg-type]
