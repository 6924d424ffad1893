"""``ema_cross``: entries and exits on the crossing only, 500 TRY per entry, replay-safe state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from btcbot.contracts.strategy import BarFilter, MarketSnapshot, Strategy
from btcbot.data.synthetic import generate_candles
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import OrderIntent
from btcbot.domain.market import Candle, Ticker
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.ema_cross import EmaCrossParams, EmaCrossStrategy
from btcbot.strategies.registry import load_strategy
from btcbot.strategies.ta import ema_series

T0 = datetime(2025, 3, 1, tzinfo=UTC)
SMALL = EmaCrossParams(fast_period=3, slow_period=6, warmup_multiple=2)  # warmup 12, history 24


def candles(closes: list[str], symbol: str = "BTCTRY") -> list[Candle]:
    return [Candle(symbol, 60, T0 + timedelta(minutes=i), Decimal(c), Decimal(c), Decimal(c), Decimal(c), Decimal(1))
            for i, c in enumerate(closes)]


def snapshot(bars: list[Candle], tickers: bool = True) -> MarketSnapshot:
    now = bars[-1].close_time
    ticks = {b.symbol: Ticker(b.symbol, b.close, b.close, b.close, b.close, b.close, b.close, Decimal(0), now)
             for b in bars[-1:]} if tickers else {}
    return MarketSnapshot(now=now, interval_s=60, tickers=ticks, candles={bars[0].symbol: tuple(bars)})


def view(held: str = "0", state: TradingState = TradingState.ACTIVE) -> PortfolioView:
    positions = {"BTCTRY": Decimal(held)} if Decimal(held) else {}
    return PortfolioView("TRY", Decimal(100000), Decimal(100000), positions, {"BTCTRY": Decimal(100)},
                         Decimal(100000), Decimal(100000), Decimal(100000), trading_state=state)


def crossing_series() -> list[str]:
    # 30 bars falling, then rising: the fast EMA crosses above the slow one once, then falls back.
    down = [str(200 - i) for i in range(30)]
    up = [str(171 + 3 * i) for i in range(10)]
    again = [str(198 - 4 * i) for i in range(10)]
    return down + up + again


def run(strategy: EmaCrossStrategy, bars: list[Candle], held: str = "0",
        state: TradingState = TradingState.ACTIVE) -> dict[int, list[OrderIntent]]:
    history = strategy.required_history()
    out = {}
    for i in range(len(bars)):
        window = bars[max(0, i + 1 - history) : i + 1]
        intents = strategy.decide(snapshot(window), view(held, state), ["BTCTRY"])
        if intents:
            out[i] = intents
    return out


def test_is_a_registered_strategy_with_a_bar_filter() -> None:
    strategy = load_strategy("ema_cross", "s1")
    assert isinstance(strategy, Strategy) and isinstance(strategy, BarFilter)
    assert strategy.required_history() == 2 * 10 * 26


def test_buys_500_try_on_the_upward_crossing_only_and_when_flat() -> None:
    bars = candles(crossing_series())
    closes = [float(b.close) for b in bars]
    fast, slow = ema_series(closes, 3), ema_series(closes, 6)
    diff = [None if f is None or s is None else f - s for f, s in zip(fast, slow, strict=True)]
    ups = [i for i in range(1, len(diff)) if diff[i - 1] is not None and diff[i - 1] <= 0 < diff[i]]  # type: ignore[operator]
    assert ups, "the fixture must cross"
    decided = run(EmaCrossStrategy("s1", SMALL), bars)
    buys = {i: v for i, v in decided.items() if v[0].side is Side.BUY}
    assert sorted(buys) == ups
    [intent] = buys[ups[0]]
    price = bars[ups[0]].close
    assert intent.order_type is OrderType.MARKET and intent.reference_price == price
    assert intent.quantity == (Decimal(500) / price).quantize(Decimal("1E-8"), rounding="ROUND_DOWN")
    assert intent.quantity * price <= Decimal(500)
    assert intent.expected_edge_bps == Decimal(100)
    # already holding, or not ACTIVE: no entry
    assert not any(v[0].side is Side.BUY for v in run(EmaCrossStrategy("s1", SMALL), bars, held="1").values())
    assert run(EmaCrossStrategy("s1", SMALL), bars, state=TradingState.REDUCING) == {
        i: v for i, v in decided.items() if v[0].side is Side.SELL}


def test_sells_everything_on_the_downward_crossing_when_held() -> None:
    bars = candles(crossing_series())
    decided = run(EmaCrossStrategy("s1", SMALL), bars, held="2.5")
    sells = [v[0] for v in decided.values() if v[0].side is Side.SELL]
    assert sells and all(s.quantity == Decimal("2.5") for s in sells)
    assert not any(v[0].side is Side.SELL for v in run(EmaCrossStrategy("s1", SMALL), bars).values())


def test_not_warm_means_no_opinion() -> None:
    bars = candles(crossing_series())[:12]
    strategy = EmaCrossStrategy("s1", SMALL)
    assert run(strategy, bars) == {}
    assert not strategy.may_act(snapshot(bars), ["BTCTRY"])


@pytest.mark.parametrize("seed", [1, 2])
def test_replay_from_the_recorded_window_equals_the_incremental_live_state(seed: int) -> None:
    """What ``btcbot replay`` does: a FRESH strategy sees only the last required_history() bars.

    At every bar it must decide exactly what the long-running (incremental) instance decided,
    and ``may_act`` must be False whenever ``decide`` returns nothing.
    """
    bars = generate_candles(["ETHTRY"], 60, T0, T0 + timedelta(hours=10), seed=seed)["ETHTRY"]
    live = EmaCrossStrategy("s1", SMALL)
    history = live.required_history()
    acted = 0
    for i in range(len(bars)):
        window = bars[max(0, i + 1 - history) : i + 1]
        snap = snapshot(window)
        # live: a new list of equal (not identical) candles each cycle, as the market feed returns
        fresh_objects = [Candle(*(getattr(b, f) for f in b.__slots__)) for b in window]
        mine = live.decide(snapshot(fresh_objects), view(), ["ETHTRY"])
        replayed = EmaCrossStrategy("s1", SMALL).decide(snap, view(), ["ETHTRY"])
        assert mine == replayed, i
        if not EmaCrossStrategy("s1", SMALL).may_act(snap, ["ETHTRY"]):
            assert mine == [], i
        acted += bool(mine)
    assert acted > 3
