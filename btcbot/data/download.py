"""``download_candles``: fetch closed bars from the graph host into a candle store, resumably.

Per symbol, the download starts after the newest bar already stored (when that lies inside the
requested range), so an interrupted download continues where it stopped. Requests go in chunks
of ``chunk_bars`` bars; the client's own rate limiter paces them (graph host: 600 requests per
10 minutes), so a long download is slow but never gets the IP blocked. Every chunk is stored
before the next request: a crash loses at most one chunk of work.

A bar slot the host leaves out between two bars it has (nothing traded in it) is stored as a
flat bar at the previous close with volume 0, as the live bot's feed does
(``services.candle_store.fill_gaps``): a backtest sees the same windows as the live bot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from btcbot.contracts.exchange import MarketData
from btcbot.domain.market import Candle
from btcbot.services.candle_store import fill_gaps

#: Bars per request: about 17 hours of 1m bars; small enough for any graph host page.
DEFAULT_CHUNK_BARS = 1000


class WritableCandleStore(Protocol):
    def add(self, candles: Sequence[Candle]) -> int: ...

    def last_open_time(self, symbol: str, interval_s: int) -> datetime | None: ...


#: ``progress(symbol, bars_done, bars_total)`` after every chunk.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DownloadResult:
    """What one symbol's download did. ``requests``: candle requests sent; ``received``: bars the
    host returned inside the asked range; ``not_closed``: of those, bars dropped as still open."""

    symbol: str
    stored: int
    resumed_from: datetime | None
    requests: int = 0
    received: int = 0
    not_closed: int = 0

    def empty_reason(self, interval_s: int, start: datetime, end: datetime) -> str | None:
        """Why nothing was stored, as one sentence; ``None`` when bars were stored or the range
        was already complete in the store (a resumed download with nothing left to fetch)."""
        if self.stored > 0:
            return None
        span = f"{self.symbol} {interval_s}s bars between {start.isoformat()} and {end.isoformat()}"
        if self.requests == 0:
            if self.resumed_from is not None:
                return None
            return f"no closed {span}: the range has not closed yet (it lies in the future)"
        if self.received == 0:
            return (f"the host returned no {span}: no trading then, a range before the pair's listing, "
                    "or older than the history the host keeps (the bundled simulator serves only its "
                    "own recent history)")
        return f"all {self.received} bars the host returned for {span} are still open (not closed yet)"


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
        stored = requests = received = not_closed = 0
        cursor = first
        previous: Candle | None = None  # the last bar stored by this download (fills holes across chunks)
        while cursor < end:
            chunk_end = min(end - step, cursor + step * (chunk_bars - 1))
            if chunk_end < cursor:
                break
            answered = [c for c in market.candles(symbol, interval_s, cursor, chunk_end)
                        if cursor <= c.open_time <= chunk_end]
            requests += 1
            received += len(answered)
            closed = sorted((c for c in answered if c.close_time <= cutoff), key=lambda c: c.open_time)
            not_closed += len(answered) - len(closed)
            bars = fill_gaps(closed, previous)
            if bars:
                stored += store.add(bars)
                previous = bars[-1]
            wanted = int((chunk_end - cursor) / step) + 1
            # A host that returns fewer bars than asked (a page cap) is asked again from the last
            # bar it gave; a range with no bars at all (no trades, or not yet closed) is skipped.
            if closed and len(closed) < wanted and closed[-1].open_time < chunk_end:
                cursor = closed[-1].open_time + step
            else:
                cursor = chunk_end + step
            if progress is not None:
                progress(symbol, min(total, int((cursor - first) / step)), total)
        results.append(DownloadResult(symbol, stored, resumed, requests, received, not_closed))
    return results
