"""Offline candles from the simulator's price engine, for tests, benchmarks and demos.

The bars come from :class:`btcbot.sim.engine.pricepath.RandomWalkSource` (the same seeded
geometric random walk the simulator trades on), as 1-minute bars, aggregated to ``interval_s``
with the simulator's own :class:`~btcbot.sim.engine.candles.CandleSeries`. The walk is generated
backwards from the pair's reference price at ``end``; the same (symbols, interval, start, end,
seed) always give the same bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from btcbot.domain.market import Candle
from btcbot.sim.engine.candles import MINUTE_S, Bar, CandleSeries
from btcbot.sim.engine.instruments import KNOWN_PAIRS, normalize_symbol
from btcbot.sim.engine.pricepath import RandomWalkSource


def _epoch(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    return int(when.timestamp())


def _to_candle(symbol: str, interval_s: int, bar: Bar) -> Candle:
    return Candle(
        symbol=symbol,
        interval_s=interval_s,
        open_time=datetime.fromtimestamp(bar.open_time_s, tz=UTC),
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume,
    )


def generate_candles(
    symbols: Sequence[str], interval_s: int, start: datetime, end: datetime, seed: int
) -> dict[str, list[Candle]]:
    """Bars of ``interval_s`` whose open time lies in [start, end), per symbol, oldest first.

    ``interval_s`` must be a whole number of minutes; ``start``/``end`` are floored to it.
    Raises ValueError for a symbol the simulator does not know.
    """
    if interval_s <= 0 or interval_s % MINUTE_S:
        raise ValueError("interval_s must be a positive multiple of 60")
    first = _epoch(start) - _epoch(start) % interval_s
    stop = _epoch(end) - _epoch(end) % interval_s
    if stop <= first:
        return {normalize_symbol(s): [] for s in symbols}
    out: dict[str, list[Candle]] = {}
    for raw in symbols:
        symbol = normalize_symbol(raw)
        spec = KNOWN_PAIRS.get(symbol)
        if spec is None:
            raise ValueError(f"no synthetic price model for {raw!r}; known: {sorted(KNOWN_PAIRS)}")
        minutes = (stop - first) // MINUTE_S
        bars = RandomWalkSource(spec, seed, float(MINUTE_S)).history(stop, minutes)
        if interval_s != MINUTE_S:
            series = CandleSeries()
            series.load(bars)
            bars = series.bars(interval_s, first, stop - 1)
        out[symbol] = [_to_candle(symbol, interval_s, b) for b in bars]
    return out
