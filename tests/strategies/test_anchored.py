"""Anchored folds: O(1) per bar, yet a pure function of the window (live = backtest = replay)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.domain.market import Candle
from btcbot.strategies.anchored import Anchored

T0 = datetime(2025, 1, 1, 0, 7, tzinfo=UTC)  # deliberately not on an anchor
IV = 60


class Trace:
    """A fold that remembers every close it saw (so values can be compared exactly)."""

    created = 0

    def __init__(self) -> None:
        Trace.created += 1
        self.seen: list[Decimal] = []

    def update(self, bar: Candle) -> None:
        self.seen.append(bar.close)


def bars(n: int, gaps: bool = False, seed: int = 3) -> list[Candle]:
    rng = random.Random(seed)
    out: list[Candle] = []
    t = T0
    for _ in range(n):
        if gaps and rng.random() < 0.05:
            t += timedelta(seconds=IV * rng.randint(1, 30))
        price = Decimal(rng.randint(100, 200))
        out.append(Candle("BTCTRY", IV, t, price, price, price, price, Decimal(1)))
        t += timedelta(seconds=IV)
    return out


def definition(window: list[Candle], warmup: int, restart: int) -> list[Decimal] | None:
    """The documented value: closes of the window's bars with open_time >= A(t), or None."""
    span = restart * IV
    t = int(window[-1].open_time.timestamp())
    anchor = (t - warmup * IV) // span * span
    first = int(window[0].open_time.timestamp())
    if first > anchor:
        return None
    return [b.close for b in window if int(b.open_time.timestamp()) >= anchor]


def check(series: list[Candle], warmup: int, restart: int) -> int:
    history = warmup + restart
    live = Anchored(Trace, warmup, restart)
    warm = 0
    for i in range(len(series)):
        window = series[max(0, i + 1 - history) : i + 1]
        fold = live.at(window, IV)
        fresh = Anchored(Trace, warmup, restart).at(window, IV)  # a replay / a restarted process
        longer = Anchored(Trace, warmup, restart).at(series[: i + 1], IV)  # a bigger window
        want = definition(window, warmup, restart)
        got = None if fold is None else fold.seen
        assert got == want, i
        assert (None if fresh is None else fresh.seen) == want, i
        assert (None if longer is None else longer.seen) == want, i
        if want is not None:
            assert len(want) >= warmup + 1 or any(
                b.open_time - a.open_time > timedelta(seconds=IV) for a, b in zip(window, window[1:], strict=False)
            )
            warm += 1
    return warm


def test_incremental_equals_rebuilt_equals_definition_on_contiguous_bars() -> None:
    assert check(bars(400), warmup=30, restart=30) > 300


def test_same_with_gaps_and_another_restart() -> None:
    assert check(bars(400, gaps=True, seed=5), warmup=20, restart=45) > 250


def test_each_bar_costs_at_most_two_chains_when_restart_equals_warmup() -> None:
    tracker = Anchored(Trace, 25)
    series = bars(1000)
    Trace.created = 0
    for i in range(len(series)):
        tracker.at(series[max(0, i - 49) : i + 1], IV)
        assert len(tracker._chains) <= 2
    # one chain per 25-bar span (+1 for the first, partial span): no rebuilds along the way
    assert Trace.created <= 1000 // 25 + 2


def test_missed_bars_are_caught_up_and_a_revised_bar_forces_a_rebuild() -> None:
    series = bars(200)
    tracker = Anchored(Trace, 20)
    tracker.at(series[:100], IV)
    fold = tracker.at(series[63:103], IV)  # three new bars at once
    assert fold is not None and fold.seen == definition(series[63:103], 20, 20)
    revised = list(series[63:104])
    last = revised[-1]
    revised[-1] = Candle(last.symbol, IV, last.open_time, last.open, last.high, last.low, Decimal(1), last.volume)
    tracker.at(series[64:104], IV)
    fold = tracker.at(revised, IV)
    assert fold is not None and fold.seen == definition(revised, 20, 20)


def test_a_short_history_is_not_warm() -> None:
    assert Anchored(Trace, 30).at(bars(20), IV) is None
    assert Anchored(Trace, 30).at([], IV) is None
