"""Indicator state that costs O(1) per closed bar AND stays a pure function of the snapshot.

The problem: a recursive indicator (EMA, RSI, ATR, MACD) depends on every bar since it started.
A live bot started on Monday, a backtest started in January and ``btcbot replay`` (which sees
only the recorded window of ``required_history()`` bars) would each start it elsewhere and get
different values. Recomputing it over the window at every bar gives equal values but costs
O(window) per bar.

The definition used here (an "anchored" fold)::

    span   = restart * interval_s                       # anchors every `restart` bars (epoch-aligned)
    A(t)   = floor((open_time(t) - warmup * interval_s) / span) * span
    value  = fold(update, bars with open_time >= A(t))  # None while the window does not reach A(t)

``A(t)`` lies between ``warmup`` and ``warmup + restart - 1`` bars before ``t``, so every value
has at least ``warmup`` bars behind it, and a window of ``required_history = warmup + restart``
bars always reaches it. The value depends only on the bars of the snapshot, never on when the
process started, so live, paper, backtest and replay agree bit for bit.

It is computed incrementally: a fold ("chain") starts at every anchor and is fed every new bar;
the value at ``t`` is read from the chain anchored at ``A(t)`` and older chains are dropped. With
``restart == warmup`` (the default) at most two chains are alive: each bar costs two updates.
When the new snapshot is not the previous one plus one (or a few) bars - the first call, a
restart of the process, a replay, a revised bar - the chains are rebuilt from the window, once.

A chain is *complete* when a bar before its first bar was seen or its first bar opens exactly on
its anchor; an incomplete chain (the data starts inside its span) is never read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from btcbot.domain.market import Candle

#: How far back a continuation is looked for before the chains are rebuilt from the window.
CATCH_UP_BARS = 16


class BarFold(Protocol):
    def update(self, bar: Candle) -> object: ...


F = TypeVar("F", bound=BarFold)


class _Chain(Generic[F]):
    __slots__ = ("anchor", "complete", "fold")

    def __init__(self, anchor: int, complete: bool, fold: F) -> None:
        self.anchor = anchor
        self.complete = complete
        self.fold = fold


class Anchored(Generic[F]):
    """Anchored folds of one symbol's closed bars (see the module docstring)."""

    __slots__ = ("factory", "warmup", "restart", "_interval", "_span", "_lag", "_last", "_chains", "_read_anchor")

    def __init__(self, factory: Callable[[], F], warmup: int, restart: int | None = None) -> None:
        if warmup < 1:
            raise ValueError("warmup must be >= 1")
        self.factory = factory
        self.warmup = warmup
        self.restart = restart if restart is not None else warmup
        if self.restart < 1:
            raise ValueError("restart must be >= 1")
        self._interval = 0
        self._span = 0
        self._lag = 0
        self._last: Candle | None = None
        self._chains: list[_Chain[F]] = []
        self._read_anchor = 0

    @property
    def history(self) -> int:
        """Bars a window must hold so that it always reaches the anchor."""
        return self.warmup + self.restart

    def at(self, bars: Sequence[Candle], interval_s: int) -> F | None:
        """The fold for the newest bar of ``bars`` (closed bars, oldest first), None if not warm."""
        # The per-bar hot path of a backtest (every symbol, every bar): indexing instead of
        # len() (a window view's __len__ is a Python call); one new bar is fed and read in one
        # call (_feed returns the read).
        try:
            newest = bars[-1]
        except IndexError:
            return None
        last = self._last
        if last is not newest:
            if interval_s != self._interval:
                self._reset(interval_s)
                self._rebuild(bars)
                return self._read()
            try:
                before = bars[-2]
            except IndexError:
                before = None
            if last is not None and before is last:
                return self._feed(newest)
            if last is None or newest != last:
                self._catch_up(bars)
        return self._read()

    # ---- internals ---------------------------------------------------------------------------

    def _reset(self, interval_s: int) -> None:
        self._interval = interval_s
        self._span = self.restart * interval_s
        self._lag = self.warmup * interval_s
        self._last = None
        self._chains = []

    def _catch_up(self, bars: Sequence[Candle]) -> None:
        last = self._last
        if last is not None:
            depth = min(len(bars) - 1, CATCH_UP_BARS)
            for back in range(2, depth + 2):
                if bars[-back] == last:
                    for bar in bars[len(bars) - back + 1 :]:
                        self._feed(bar)
                    return
        self._rebuild(bars)

    def _rebuild(self, bars: Sequence[Candle]) -> None:
        self._last = None
        self._chains = []
        for bar in bars:
            self._feed(bar)

    def _feed(self, bar: Candle) -> F | None:
        """Fold ``bar`` into the chains; returns what :meth:`_read` would then return."""
        t = int(bar.open_time.timestamp())
        span = self._span
        anchor = t - t % span
        chains = self._chains
        if not chains or anchor > chains[-1].anchor:
            chains.append(_Chain(anchor, self._last is not None or t == anchor, self.factory()))
        for chain in chains:
            chain.fold.update(bar)
        self._last = bar
        read = t - self._lag
        read -= read % span
        self._read_anchor = read
        while len(chains) > 1 and chains[0].anchor < read:
            del chains[0]
        chain = chains[0]
        return None if chain.anchor < read or not chain.complete else chain.fold

    def _read(self) -> F | None:
        last = self._last
        if last is None or not self._chains:
            return None
        read = self._read_anchor
        chain = self._chains[0]
        if chain.anchor < read or not chain.complete:
            return None
        return chain.fold
