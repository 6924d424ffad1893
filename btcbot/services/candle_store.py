"""Where closed candles live between cycles, so a cycle fetches only bars that closed since the
last one (cron ``once`` runs included). The SQL implementation is in persistence; the in-memory
one serves ``run`` tests and the backtester."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from btcbot.domain.market import Candle


class CandleStore(Protocol):
    def latest(self, symbol: str, interval_s: int, count: int) -> list[Candle]:
        """The ``count`` newest stored bars, oldest first."""
        ...

    def add(self, candles: Sequence[Candle]) -> int:
        """Store bars (an existing (symbol, interval, open_time) is replaced); returns how many."""
        ...


class MemoryCandleStore:
    """Bounded in-memory store: keeps the newest ``keep`` bars per (symbol, interval)."""

    def __init__(self, keep: int = 2000) -> None:
        self._keep = keep
        self._bars: dict[tuple[str, int], dict[object, Candle]] = {}

    def latest(self, symbol: str, interval_s: int, count: int) -> list[Candle]:
        bars = self._bars.get((symbol, interval_s), {})
        ordered = [bars[k] for k in sorted(bars)]  # type: ignore[type-var]
        return ordered[-count:] if count > 0 else []

    def add(self, candles: Sequence[Candle]) -> int:
        for candle in candles:
            bucket = self._bars.setdefault((candle.symbol, candle.interval_s), {})
            bucket[candle.open_time] = candle
            if len(bucket) > self._keep:
                for key in sorted(bucket)[: len(bucket) - self._keep]:  # type: ignore[type-var]
                    del bucket[key]
        return len(candles)
