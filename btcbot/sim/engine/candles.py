"""One-minute bars per pair and their aggregation to the resolutions the graph host serves.

The simulator stores only 1m bars (built from the same price path that fills orders) and
aggregates on request, so every resolution is consistent with every other and with the fills.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

MINUTE_S = 60
DAY_S = 86_400
WEEK_S = 7 * DAY_S
#: 1970-01-01 was a Thursday; weekly bars start on Monday 00:00 UTC.
_MONDAY_OFFSET_S = 4 * DAY_S

_RESOLUTIONS: dict[str, int] = {
    "1": 60,
    "5": 300,
    "15": 900,
    "30": 1800,
    "60": 3600,
    "240": 14_400,
    "1440": DAY_S,
    "1D": DAY_S,
    "D": DAY_S,
    "1 D": DAY_S,
    "1W": WEEK_S,
    "W": WEEK_S,
    "1 W": WEEK_S,
}


def parse_resolution(raw: str) -> int:
    """Resolution string (``1``..``240``, ``1D``/``1 d``, ``1W``) -> bar length in seconds."""
    key = raw.strip().upper()
    if key not in _RESOLUTIONS:
        raise ValueError(f"unsupported resolution {raw!r}")
    return _RESOLUTIONS[key]


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``volume`` in base units, ``total`` in quote units; time = bar open (s)."""

    open_time_s: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    total: Decimal

    def merge(self, later: Bar) -> Bar:
        """This bar extended by a later one (same bucket)."""
        return Bar(
            self.open_time_s,
            self.open,
            max(self.high, later.high),
            min(self.low, later.low),
            later.close,
            self.volume + later.volume,
            self.total + later.total,
        )


def bucket_start(time_s: int, length_s: int) -> int:
    """Start of the bucket containing ``time_s`` (weeks align to Monday, others to the epoch)."""
    if length_s == WEEK_S:
        return time_s - (time_s - _MONDAY_OFFSET_S) % WEEK_S
    return time_s - time_s % length_s


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Aggregate of the 1m bars in a window (the ticker's 24 h figures)."""

    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    total: Decimal


class CandleSeries:
    """Append-mostly store of 1m bars for one pair."""

    def __init__(self) -> None:
        self._times: list[int] = []
        self._bars: dict[int, Bar] = {}
        self._revision = 0
        self._stats_key: tuple[int, int, int] | None = None
        self._stats: WindowStats | None = None

    def load(self, bars: Iterable[Bar]) -> None:
        """Add pre-built (history) bars; any order, duplicates replace."""
        for bar in bars:
            if bar.open_time_s % MINUTE_S:
                raise ValueError("history bars must start on a minute")
            self._bars[bar.open_time_s] = bar
        self._times = sorted(self._bars)
        self._revision += 1

    def record(self, time_s: int, price: Decimal, volume: Decimal) -> None:
        """Fold one trade print into its minute bar (time only moves forward here)."""
        start = time_s - time_s % MINUTE_S
        self._revision += 1
        current = self._bars.get(start)
        tick = Bar(start, price, price, price, price, volume, volume * price)
        if current is None:
            self._bars[start] = tick
            if self._times and start < self._times[-1]:
                self._times.insert(bisect_left(self._times, start), start)
            else:
                self._times.append(start)
        else:
            self._bars[start] = current.merge(tick)

    def minute_bars(self, from_s: int, to_s: int) -> list[Bar]:
        """1m bars whose open time is in [from_s, to_s]."""
        lo = bisect_left(self._times, from_s)
        hi = bisect_right(self._times, to_s)
        return [self._bars[t] for t in self._times[lo:hi]]

    def bars(self, length_s: int, from_s: int, to_s: int) -> list[Bar]:
        """Bars of ``length_s`` whose open time is in [from_s, to_s], built from 1m bars."""
        first = bucket_start(from_s, length_s)
        if first < from_s:
            first += length_s
        out: list[Bar] = []
        for bar in self.minute_bars(first, to_s + length_s - 1):
            start = bucket_start(bar.open_time_s, length_s)
            if start > to_s or start < first:
                continue
            if out and out[-1].open_time_s == start:
                out[-1] = out[-1].merge(bar)
            else:
                out.append(Bar(start, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.total))
        return out

    def window_stats(self, from_s: int, to_s: int) -> WindowStats | None:
        """Open/high/low/volume/total of the 1m bars opening in [from_s, to_s] (cached: the
        ticker asks for the same 24 h window on every call until a print or a minute passes)."""
        key = (self._revision, bisect_left(self._times, from_s), bisect_right(self._times, to_s))
        if key != self._stats_key:
            bars = self.minute_bars(from_s, to_s)
            self._stats = (
                WindowStats(
                    bars[0].open,
                    max(b.high for b in bars),
                    min(b.low for b in bars),
                    sum((b.volume for b in bars), Decimal(0)),
                    sum((b.total for b in bars), Decimal(0)),
                )
                if bars
                else None
            )
            self._stats_key = key
        return self._stats

    def last_close(self) -> Decimal | None:
        """Close of the newest bar, if any."""
        return self._bars[self._times[-1]].close if self._times else None
