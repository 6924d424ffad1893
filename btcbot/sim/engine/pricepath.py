"""Where prices come from: a seeded geometric random walk, or replayed 1m candles.

Both are deterministic: the same seed (or the same candles) and the same sequence of ``advance``
calls give the same prices, fills and candles. Random numbers are floats only as *shocks*; every
price is a Decimal on the pair's tick grid.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from btcbot.sim.engine.candles import MINUTE_S, Bar
from btcbot.sim.engine.instruments import PairSpec
from btcbot.sim.engine.money import nearest_tick, round_down_scale


class PriceSource(Protocol):
    """Produces the market's price and traded volume tick after tick."""

    def next_tick(self, end_ms: int, price: Decimal) -> tuple[Decimal, Decimal]:
        """Price at ``end_ms`` (end of the tick) given the previous price, and base volume traded."""
        ...

    def history(self, end_s: int, minutes: int) -> list[Bar]:
        """1m bars before ``end_s`` (newest ends at end_s), oldest first."""
        ...

    def initial_price(self, start_ms: int) -> Decimal:
        """Price at the simulator's start time."""
        ...


#: One history's prices: (open, high, low, close, volume, total) per minute, newest first.
_Walk = tuple[tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal], ...]

#: Generated history walks by (seed, pair, minutes), with the generator's state after each. A walk
#: depends on the seed, the pair's parameters and the number of minutes only (not on the start
#: time: the timestamps are laid on afterwards), so a simulator started again with the same
#: configuration (the test suite starts hundreds) reuses it instead of drawing ~70,000 bars again
#: (~1.4 s). Bounded: the oldest walk is dropped past ``_HISTORY_CACHE_SIZE``.
_HISTORY_CACHE: OrderedDict[tuple[object, ...], tuple[_Walk, tuple[Any, ...]]] = OrderedDict()
_HISTORY_CACHE_SIZE = 32


def _factor(rng: random.Random, sigma: float) -> Decimal:
    """A lognormal step exp(sigma*z - sigma^2/2) as a Decimal (12 significant digits)."""
    z = rng.gauss(0.0, 1.0)
    return Decimal(repr(round(math.exp(sigma * z - 0.5 * sigma * sigma), 12)))


class RandomWalkSource:
    """Geometric random walk on the tick grid, seeded per pair (``f"{seed}:{symbol}"``)."""

    def __init__(self, spec: PairSpec, seed: int, tick_seconds: float) -> None:
        self._spec = spec
        self._rng = random.Random(f"{seed}:{spec.symbol}:live")  # noqa: S311 - simulation
        self._hist_seed = f"{seed}:{spec.symbol}:history"
        self._hist_rng = random.Random(self._hist_seed)  # noqa: S311 - simulation
        self._hist_fresh = True  # no history drawn from _hist_rng yet (the cache applies)
        daily = float(spec.daily_volatility)
        self._sigma_tick = daily * math.sqrt(tick_seconds / 86_400)
        self._sigma_minute = daily * math.sqrt(60 / 86_400)
        # Base volume per tick is about one book level's worth, so fills are thin.
        self._typical_volume = spec.level_notional / spec.initial_price

    def initial_price(self, start_ms: int) -> Decimal:
        return self._spec.initial_price

    def _volume(self, rng: random.Random) -> Decimal:
        share = Decimal(repr(round(rng.uniform(0.2, 1.8), 6)))
        return round_down_scale(self._typical_volume * share, self._spec.numerator_scale)

    def _on_grid(self, price: Decimal) -> Decimal:
        stepped = nearest_tick(price, self._spec.tick_size)
        return max(stepped, self._spec.tick_size)

    def next_tick(self, end_ms: int, price: Decimal) -> tuple[Decimal, Decimal]:
        new_price = self._on_grid(price * _factor(self._rng, self._sigma_tick))
        return new_price, self._volume(self._rng)

    def history(self, end_s: int, minutes: int) -> list[Bar]:
        walk = self._walk(minutes)
        bars = [Bar(end_s - (i + 1) * MINUTE_S, *prices) for i, prices in enumerate(walk)]
        bars.reverse()
        return bars

    def _walk(self, minutes: int) -> _Walk:
        """The history's prices, newest first; the same as drawing them now (see _HISTORY_CACHE)."""
        fresh, self._hist_fresh = self._hist_fresh, False
        key = (self._hist_seed, self._spec, minutes)
        if fresh and key in _HISTORY_CACHE:
            walk, state = _HISTORY_CACHE[key]
            _HISTORY_CACHE.move_to_end(key)
            self._hist_rng.setstate(state)
            return walk
        walk = self._draw(minutes)
        if fresh:
            _HISTORY_CACHE[key] = (walk, self._hist_rng.getstate())
            while len(_HISTORY_CACHE) > _HISTORY_CACHE_SIZE:
                _HISTORY_CACHE.popitem(last=False)
        return walk

    def _draw(self, minutes: int) -> _Walk:
        # Walk backwards from the start price so history joins the live path without a gap.
        prices = []
        close = self._spec.initial_price
        rng = self._hist_rng
        for _ in range(minutes):
            open_ = self._on_grid(close / _factor(rng, self._sigma_minute))
            wick = Decimal(repr(round(abs(rng.gauss(0.0, self._sigma_minute)) / 2, 12)))
            high = self._on_grid(max(open_, close) * (1 + wick))
            low = self._on_grid(min(open_, close) * (1 - wick))
            volume = self._volume(rng) * 6
            prices.append((open_, high, low, close, volume, volume * (open_ + close) / 2))
            close = open_
        return tuple(prices)


class ReplaySource:
    """Replays given 1m bars: within a bar the price goes open -> high -> low -> close.

    Bars at or after the simulator start drive the live path; earlier bars become history. After
    the last bar the price stays at its close (volume continues so resting orders can fill).
    """

    def __init__(self, spec: PairSpec, bars: Sequence[Bar]) -> None:
        if not bars:
            raise ValueError("replay needs at least one bar")
        self._spec = spec
        self._bars = sorted(bars, key=lambda b: b.open_time_s)
        self._by_time = {b.open_time_s: b for b in self._bars}

    def _bar_at(self, time_s: int) -> Bar:
        start = time_s - time_s % MINUTE_S
        bar = self._by_time.get(start)
        if bar is not None:
            return bar
        before = [b for b in self._bars if b.open_time_s <= start]
        last = before[-1] if before else self._bars[0]
        return Bar(start, last.close, last.close, last.close, last.close, last.volume, last.total)

    def initial_price(self, start_ms: int) -> Decimal:
        return self._bar_at(start_ms // 1000).open

    def next_tick(self, end_ms: int, price: Decimal) -> tuple[Decimal, Decimal]:
        bar = self._bar_at((end_ms - 1) // 1000)
        frac = ((end_ms - 1) // 1000 % MINUTE_S) / MINUTE_S
        path = (bar.open, bar.high, bar.low, bar.close)
        pos = min(int(frac * 3), 2)
        local = Decimal(repr(round(frac * 3 - pos, 6)))
        value = path[pos] + (path[pos + 1] - path[pos]) * local
        volume = round_down_scale(bar.volume / 6, self._spec.numerator_scale)
        return nearest_tick(value, self._spec.tick_size), volume

    def history(self, end_s: int, minutes: int) -> list[Bar]:
        return [b for b in self._bars if end_s - minutes * MINUTE_S <= b.open_time_s < end_s]
