"""The backtester's cheap per-bar plumbing: merged bar streams, window views, lazy tickers, calendar.

Nothing here decides anything; it exists so that a bar where nothing happens costs little:

* :func:`merge_bars` walks the symbols' (possibly streamed) bars in open-time order, one group of
  bars per open time, holding one bar per symbol at a time;
* :class:`WindowView` is a read-only, zero-copy view of a symbol's sliding window (what
  ``MarketSnapshot.bars`` returns in a backtest);
* :class:`LastCloseTickers` builds the backtest ticker (last = bid = ask = last close) of a symbol
  only when a strategy reads it;
* :class:`RiskCalendar` gives the risk day and month keys of a bar close, converting time zones
  once per day instead of once per bar.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import overload
from zoneinfo import ZoneInfo

from btcbot.domain.market import Candle, Ticker

ZERO = Decimal(0)


def merge_bars(streams: Mapping[str, Iterable[Candle]]) -> Iterator[tuple[datetime, dict[str, Candle]]]:
    """``(open_time, {symbol: bar})`` in increasing open time, each symbol's bars sorted."""
    heads: dict[str, Candle] = {}
    iters: dict[str, Iterator[Candle]] = {}
    for symbol, bars in streams.items():
        it = iter(bars)
        first = next(it, None)
        if first is not None:
            heads[symbol] = first
            iters[symbol] = it
    while heads:
        opened = min([bar.open_time for bar in heads.values()])
        current: dict[str, Candle] = {}
        for symbol in list(heads):
            bar = heads[symbol]
            if bar.open_time == opened:
                current[symbol] = bar
                following = next(iters[symbol], None)
                if following is None:
                    del heads[symbol]
                elif following.open_time <= opened:
                    raise ValueError(f"candles of {symbol} are not strictly increasing at {opened.isoformat()}")
                else:
                    heads[symbol] = following
        yield opened, current


class WindowView(Sequence[Candle]):
    """A read-only view of a growing ``deque(maxlen=n)``: O(1) indexing at both ends, no copy.

    It shows the window as it is NOW: read it during the current bar's ``decide`` only.
    Slices come back as tuples.
    """

    __slots__ = ("_window",)

    def __init__(self, window: deque[Candle]) -> None:
        self._window = window

    def __len__(self) -> int:
        return len(self._window)

    @overload
    def __getitem__(self, index: int) -> Candle: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Candle, ...]: ...

    def __getitem__(self, index: int | slice) -> Candle | tuple[Candle, ...]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._window))
            if step == 1:
                return tuple(islice(self._window, start, max(start, stop)))
            return tuple(self._window)[index]
        return self._window[index]

    def __iter__(self) -> Iterator[Candle]:
        return iter(self._window)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class LastCloseTickers(Mapping[str, Ticker]):
    """``{symbol: Ticker}`` with last = bid = ask = the last close, built on first access."""

    __slots__ = ("_prices", "_seen", "_made")

    def __init__(self, prices: Mapping[str, Decimal], seen: Mapping[str, datetime]) -> None:
        self._prices = prices
        self._seen = seen
        self._made: dict[str, Ticker] = {}

    def __getitem__(self, symbol: str) -> Ticker:
        ticker = self._made.get(symbol)
        if ticker is None:
            c = self._prices[symbol]
            ticker = self._made[symbol] = Ticker(symbol, c, c, c, c, c, c, ZERO, self._seen[symbol])
        return ticker

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._prices))

    def __len__(self) -> int:
        return len(self._prices)


class RiskCalendar:
    """Risk day (ISO date) and month (``YYYY-MM``) of a UTC time in ``tz``, cached per local day.

    Same results as :func:`btcbot.services.risk.calendar.risk_day` / ``month_key``.
    """

    __slots__ = ("_zone", "_start", "_end", "_day", "_month")

    def __init__(self, tz: str) -> None:
        self._zone = ZoneInfo(tz)
        self._start = datetime.max.replace(tzinfo=UTC)
        self._end = self._start
        self._day = ""
        self._month = ""

    def keys(self, now: datetime) -> tuple[str, str]:
        if not self._start <= now < self._end:
            local = now.astimezone(self._zone)
            day: date = local.date()
            self._start = datetime.combine(day, time(0), tzinfo=self._zone).astimezone(UTC)
            self._end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self._zone).astimezone(UTC)
            self._day = day.isoformat()
            self._month = f"{local.year:04d}-{local.month:02d}"
        return self._day, self._month
