"""``download_candles``: fetch closed bars from the graph host into a candle store, resumably.

Per symbol, the download starts after the newest bar already stored (when that lies inside the
requested range), so an interrupted download continues where it stopped. Requests go in chunks
of ``chunk_bars`` bars; the client's own rate limiter paces them (graph host: 600 requests per
10 minutes), so a long download is slow but never gets the IP blocked. Every chunk is stored
before the next request: a crash loses at most one chunk of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from btcbot.contracts.exchange import MarketData
from btcbot.domain.market import Candle

#: Bars per request: about 17 hours of 1m bars; small enough for any graph host page.
DEFAULT_CHUNK_BARS = 1000


class WritableCandleStore(Protocol):
    def add(self, candles: Sequence[Candle]) -> int: ...

    def last_open_time(self, symbol: str, interval_s: int) -> datetime | None: ...


#: ``progress(symbol, bars_done, bars_total)`` after every chunk.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DownloadResult:
    symbol: str
    stored: int
    resumed_from: datetime | None


def _align_up(when: datetime, interval_s: int) -> datetime:
    epoch = int(when.timestamp())
    rest = epoch % interval_s
    return when if rest == 0 and when.microsecond == 0 else when + timedelta(seconds=interval_s - rest)


def download_candles(
    market: MarketData,
    store: WritableCandleStore,
    symbols: Sequence[str],
    interval_s: int,
    start: datetime,
    end: datetime,
    progress: Progress | None = None,
    now: datetime | None = None,
    chunk_bars: int = DEFAULT_CHUNK_BARS,
) -> list[DownloadResult]:
    """Download bars with open time in [start, end) for every symbol; returns what was stored.

    Only CLOSED bars are kept (``close_time <= now``, ``now`` defaulting to ``end``).
    """
    if chunk_bars < 1:
        raise ValueError("chunk_bars must be >= 1")
    step = timedelta(seconds=interval_s)
    cutoff = now if now is not None else end
    results: list[DownloadResult] = []
    for symbol in symbols:
        first = _align_up(start, interval_s)
        last_stored = store.last_open_time(symbol, interval_s)
        resumed = None
        if last_stored is not None and first <= last_stored < end:
            first = last_stored + step
            resumed = last_stored
        total = max(0, int((end - first) / step))
        stored = 0
        cursor = first
        while cursor < end:
            chunk_end = min(end - step, cursor + step * (chunk_bars - 1))
            if chunk_end < cursor:
                break
            bars = [
                c for c in market.candles(symbol, interval_s, cursor, chunk_end)
                if cursor <= c.open_time <= chunk_end and c.close_time <= cutoff
            ]
            if bars:
                stored += store.add(bars)
            wanted = int((chunk_end - cursor) / step) + 1
            # A host that returns fewer bars than asked (a page cap) is asked again from the last
            # bar it gave; a range with no bars at all (no trades, or not yet closed) is skipped.
            if bars and len(bars) < wanted and bars[-1].open_time < chunk_end:
                cursor = bars[-1].open_time + step
            else:
                cursor = chunk_end + step
            if progress is not None:
                progress(symbol, min(total, int((cursor - first) / step)), total)
        results.append(DownloadResult(symbol, stored, resumed))
    return results
