"""Where closed candles live between cycles, so a cycle fetches only bars that closed since the
last one (cron ``once`` runs included). The SQL implementation is in persistence; the in-memory
one serves ``run`` tests and the backtester.

:func:`fetch_closed` asks the graph host for a range of bars in pages of at most ``PAGE_BARS``
(the market feed after a gap, the start-up backfill of ``btcbot.app.backfill``): a host that caps
a page is asked again from the last bar it gave; the client's rate limiter paces the requests.

A bar slot the host leaves out while it has bars after it (a minute in which nothing traded: UDF
klines have no bar for it) is filled with a flat bar at the previous close and volume 0, as
freqtrade fills missing candles: otherwise one quiet minute inside the window would keep a
strategy "warming up: 143 of 144 bars" until the hole slid out of the window, and make the feed
fetch the whole window again every bar. Only holes with a real bar on both sides are filled (the
bar before ``start`` counts when the caller passes it as ``previous`` and it is the slot right
before ``start``); a missing newest bar is not: the host may not have published it yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from btcbot.contracts.exchange import MarketData
from btcbot.domain.market import Candle

#: Bars per klines request (about 17 hours of 1m bars), as ``download-data`` pages.
PAGE_BARS = 1000


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


@dataclass(frozen=True)
class Fetched:
    """Closed bars with open time in the asked range, oldest first, and the requests it took."""

    bars: list[Candle]
    requests: int


def fill_gaps(bars: Sequence[Candle], previous: Candle | None = None) -> list[Candle]:
    """``bars`` (one symbol and interval, oldest first) with every missing slot between two real
    bars filled by a flat bar at the earlier close and volume 0; ``previous`` (the bar before the
    first one, when known) fills the slots before the first bar too. Nothing is added after the
    last bar."""
    out: list[Candle] = []
    last = previous
    for bar in bars:
        if last is not None:
            step = timedelta(seconds=bar.interval_s)
            slot = last.open_time + step
            while slot < bar.open_time:
                out.append(Candle(bar.symbol, bar.interval_s, slot, last.close, last.close, last.close,
                                  last.close, Decimal(0)))
                slot += step
        out.append(bar)
        last = bar
    return out


def fetch_closed(
    market: MarketData, symbol: str, interval_s: int, start: datetime, end: datetime, now: datetime,
    page_bars: int = PAGE_BARS, previous: Candle | None = None,
) -> Fetched:
    """Bars of ``symbol`` with open time in [start, end] that are closed at ``now``, in pages of
    ``page_bars`` (see the module docstring), holes between real bars filled (:func:`fill_gaps`;
    ``previous`` is used only when it is the bar right before ``start``). Exchange errors
    propagate (bars of earlier pages are lost with them: the caller stores nothing of a failed
    fetch)."""
    if page_bars < 1:
        raise ValueError("page_bars must be >= 1")
    step = timedelta(seconds=interval_s)
    bars: dict[datetime, Candle] = {}
    requests = 0
    cursor = start
    while cursor <= end:
        page_end = min(end, cursor + step * (page_bars - 1))
        answered = market.candles(symbol, interval_s, cursor, page_end)
        requests += 1
        page = sorted((c for c in answered if cursor <= c.open_time <= page_end and c.is_closed(now)),
                      key=lambda c: c.open_time)
        bars.update((c.open_time, c) for c in page)
        # A capped page (fewer bars than asked, ending early) is continued from its last bar;
        # an empty or complete page moves on to the next range. The cursor always advances.
        if page and page[-1].open_time < page_end and len(page) < int((page_end - cursor) / step) + 1:
            cursor = page[-1].open_time + step
        else:
            cursor = page_end + step
    before = previous if previous is not None and previous.open_time == start - step else None
    return Fetched(fill_gaps([bars[t] for t in sorted(bars)], before), requests)
