"""The Strategy port: closed candles + tickers + a read-only portfolio in, order intents out.

A strategy is pure: no I/O, no clock, no randomness, no state that outlives a ``decide`` call
unless it is derived from the inputs. The live cycle, paper trading and the backtester call the
same ``decide`` with the same kind of :class:`MarketSnapshot`, which is what makes a backtest
meaningful.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from btcbot.domain.intents import OrderIntent
from btcbot.domain.market import Candle, Ticker
from btcbot.domain.portfolio import FrozenMap, PortfolioView

#: Per symbol: (raw bars, interval_s, latest open admitted, cleaned bars) of the last
#: :meth:`MarketSnapshot.build` that kept every raw bar. The live feed hands the same tuple of
#: closed bars to every cycle until a bar closes, so a steady cycle reuses the cleaning (~150 us of
#: CPU for 5 x 145 bars) instead of filtering and sorting them again. Only tuples (immutable) are
#: remembered, by identity, and only while the result cannot differ: same tuple, same interval,
#: ``now`` not earlier than when it was cleaned (a bar that was closed then is closed now).
_CLEANED: dict[str, tuple[tuple[Candle, ...], int, datetime, tuple[Candle, ...]]] = {}
#: Per symbol: (candles tuple, its closes) of the last :meth:`MarketSnapshot.closes` call.
_CLOSES: dict[str, tuple[tuple[Candle, ...], tuple[Decimal, ...]]] = {}
_MEMO_SYMBOLS = 64  # both memos are cleared past this many symbols (a bound, not a tuning knob)


def _clean(symbol: str, bars: Sequence[Candle], interval_s: int, latest_open: datetime) -> tuple[Candle, ...]:
    """``bars`` of ``interval_s`` opened at or before ``latest_open``, one per open time, oldest first."""
    memo = _CLEANED.get(symbol)
    if memo is not None and memo[0] is bars and memo[1] == interval_s and memo[2] <= latest_open:
        return memo[3]
    by_open = {b.open_time: b for b in bars if b.interval_s == interval_s and b.open_time <= latest_open}
    cleaned = tuple(by_open[t] for t in sorted(by_open))
    if type(bars) is tuple and len(cleaned) == len(bars):  # every bar kept: a later now keeps them all
        if len(_CLEANED) >= _MEMO_SYMBOLS:
            _CLEANED.clear()
        _CLEANED[symbol] = (bars, interval_s, latest_open, cleaned)
    return cleaned


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What a strategy may see at ``now``.

    ``candles[symbol]`` holds CLOSED candles only (``close_time <= now``), oldest first, all of
    length ``interval_s``; the bar still forming is never included, so a decision never depends
    on a price that can still change. ``tickers`` are the latest tickers (may be missing for a
    symbol). Construction validates this; use :meth:`build` to filter and sort raw candles.

    :meth:`bars` (added for O(1)-per-bar strategies) gives the same bars as ``candles[symbol]``
    without copying them: a tuple for snapshots built by the constructor, a read-only view of the
    backtester's window for snapshots made with :meth:`from_windows`. Read it during ``decide``;
    do not keep it.
    """

    now: datetime
    interval_s: int
    tickers: Mapping[str, Ticker]
    candles: Mapping[str, tuple[Candle, ...]]
    _windows: Mapping[str, Sequence[Candle]] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise ValueError("interval_s must be positive")
        object.__setattr__(self, "tickers", FrozenMap(self.tickers))
        object.__setattr__(self, "candles", FrozenMap({s: tuple(c) for s, c in self.candles.items()}))
        for symbol, bars in self.candles.items():
            for previous, bar in zip(bars, bars[1:], strict=False):
                if bar.open_time <= previous.open_time:
                    raise ValueError(f"candles for {symbol} are not strictly oldest first")
            for bar in bars:
                if bar.interval_s != self.interval_s:
                    raise ValueError(
                        f"candle of {symbol} has interval {bar.interval_s}, expected {self.interval_s}"
                    )
            # Open times strictly increase and every bar has the same length, so the newest bar
            # being closed proves they all are (one check instead of one per bar).
            for bar in bars[-1:]:
                if not bar.is_closed(self.now):
                    raise ValueError(
                        f"candle of {symbol} opened {bar.open_time.isoformat()} is not closed yet"
                    )

    @classmethod
    def build(
        cls,
        now: datetime,
        interval_s: int,
        tickers: Mapping[str, Ticker],
        candles: Mapping[str, Sequence[Candle]],
    ) -> MarketSnapshot:
        """Keep only closed candles of ``interval_s``, sorted oldest first, one per open time."""
        latest_open = now - timedelta(seconds=interval_s)  # closed <=> open_time + interval <= now
        cleaned = {symbol: _clean(symbol, bars, interval_s, latest_open) for symbol, bars in candles.items()}
        return cls(now=now, interval_s=interval_s, tickers=tickers, candles=cleaned)

    @classmethod
    def from_windows(
        cls,
        now: datetime,
        interval_s: int,
        tickers: Mapping[str, Ticker],
        windows: Mapping[str, Sequence[Candle]],
    ) -> MarketSnapshot:
        """A snapshot over windows the caller has ALREADY validated (closed, sorted, one interval).

        For producers that guarantee the invariants as they build the windows bar by bar (the
        backtester): it skips the O(bars) checks and copies. ``candles[symbol]`` still returns a
        tuple (materialized on first access); :meth:`bars` returns ``windows[symbol]`` as is.
        """
        snapshot = object.__new__(cls)
        object.__setattr__(snapshot, "now", now)
        object.__setattr__(snapshot, "interval_s", interval_s)
        object.__setattr__(snapshot, "tickers", tickers)
        object.__setattr__(snapshot, "candles", _TupleWindows(windows))
        object.__setattr__(snapshot, "_windows", windows)
        return snapshot

    def bars(self, symbol: str) -> Sequence[Candle]:
        """``candles[symbol]`` without a copy (empty if none); valid during the current decide."""
        windows = self._windows
        if windows is not None:
            return windows.get(symbol, ())
        return self.candles.get(symbol, ())

    def closes(self, symbol: str) -> tuple[Decimal, ...]:
        """Close prices of ``symbol``'s closed candles, oldest first (empty if none)."""
        bars = self.candles.get(symbol, ())
        memo = _CLOSES.get(symbol)
        if memo is not None and memo[0] is bars:  # the same (immutable) tuple as last time
            return memo[1]
        closes = tuple(c.close for c in bars)
        if len(_CLOSES) >= _MEMO_SYMBOLS:
            _CLOSES.clear()
        _CLOSES[symbol] = (bars, closes)
        return closes

    def last_price(self, symbol: str) -> Decimal | None:
        """The ticker's last trade price when positive, else the last closed candle's close."""
        ticker = self.tickers.get(symbol)
        if ticker is not None and ticker.last > 0:
            return ticker.last
        bars = self.candles.get(symbol, ())
        return bars[-1].close if bars else None


class _TupleWindows(Mapping[str, tuple[Candle, ...]]):
    """``candles`` of a :meth:`MarketSnapshot.from_windows` snapshot: tuples made on first access."""

    __slots__ = ("_windows", "_made")

    def __init__(self, windows: Mapping[str, Sequence[Candle]]) -> None:
        self._windows = windows
        self._made: dict[str, tuple[Candle, ...]] = {}

    def __getitem__(self, symbol: str) -> tuple[Candle, ...]:
        made = self._made.get(symbol)
        if made is None:
            window = self._windows[symbol]
            if not window:
                raise KeyError(symbol)
            made = self._made[symbol] = tuple(window)
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(s for s, w in self._windows.items() if w))

    def __len__(self) -> int:
        return sum(1 for w in self._windows.values() if w)


@runtime_checkable
class Strategy(Protocol):
    """A trading strategy. Implementations must be deterministic: same inputs, same intents.

    ``strategy_id`` is the short id put into every client order id (and on every intent).
    ``decide`` returns intents only for ``tradable_symbols``; an empty list means "hold".
    ``required_history`` is how many closed bars per symbol ``decide`` needs to form an opinion;
    the cycle and the backtester fetch/replay at least that many.
    """

    @property
    def strategy_id(self) -> str: ...

    def decide(
        self,
        snapshot: MarketSnapshot,
        portfolio: PortfolioView,
        tradable_symbols: Sequence[str],
    ) -> list[OrderIntent]: ...

    def required_history(self) -> int: ...


@runtime_checkable
class BarFilter(Protocol):
    """OPTIONAL extension of :class:`Strategy`: a cheap test that lets a caller skip quiet bars.

    ``may_act(snapshot, tradable_symbols)`` returns False only if ``decide`` would return ``[]``
    for this snapshot WHATEVER the portfolio. The backtester then skips the bar's portfolio view,
    risk checks and ``decide``; the live cycle ignores it and always calls ``decide``, so a wrong
    ``may_act`` shows up as a live/backtest difference in the parity test. Strategies without
    it are called on every bar, as before.
    """

    def may_act(self, snapshot: MarketSnapshot, tradable_symbols: Sequence[str]) -> bool: ...


class HoldCode(StrEnum):
    """The standard :attr:`HoldReason.code` values (a metric label: a small, fixed set).

    A strategy may use its own codes too (lower-case letters, digits and ``_``, at most 32
    characters; anything else is exported as ``other``); these are the ones the built-ins and
    the cycle use, in the order the cycle prefers them when symbols hold for different reasons.
    """

    WARMING_UP = "warming_up"  # fewer closed bars than the strategy needs
    NO_PRICE = "no_price"  # no ticker and no candle to price the symbol
    NOT_TRADING = "not_trading"  # HALTED, or REDUCING blocks the entry the strategy wants
    NO_SIGNAL = "no_signal"  # no entry or exit signal (no cross, no uptrend)
    POSITION_CAP = "position_cap"  # at the largest position the strategy takes
    AT_TARGET = "at_target"  # holdings within the drift band of the target weights
    NO_CASH = "no_cash"  # the wanted buy does not fit the free cash
    ORDER_TOO_SMALL = "order_too_small"  # the order rounds down to nothing
    EDGE_BELOW_MINIMUM = "edge_below_minimum"  # the cycle: every intent denied for too little edge
    RISK_DENIED = "risk_denied"  # the cycle: every intent denied by another risk rule
    NOT_REPORTED = "not_reported"  # the strategy has no hold_reason() (or it gave no reason)
    OTHER = "other"  # a free-text reason


@dataclass(frozen=True, slots=True)
class HoldReason:
    """Why a strategy returned no intents: ``code`` (see :class:`HoldCode`; the label of the
    ``strategy_holding`` metric) and ``detail``, one line for people, e.g.
    ``"warming up: 48 of 144 bars (BTCTRY, ETHTRY)"``."""

    code: str
    detail: str


@runtime_checkable
class ExplainsHold(Protocol):
    """OPTIONAL extension of :class:`Strategy`: say why ``decide`` returned ``[]``.

    ``hold_reason(snapshot, portfolio, tradable_symbols)`` is called only right after ``decide``
    returned no intents, with the same arguments, and must be as pure as ``decide``. It returns a
    :class:`HoldReason`, a plain string (reported with code ``other``) or None (``not_reported``).
    The cycle puts the reason into its log (``hold_reason``), ``btcbot status`` and the
    ``strategy_holding{reason}`` metric. Strategies without it keep working unchanged: their holds
    are reported as ``not_reported``.
    """

    def hold_reason(
        self,
        snapshot: MarketSnapshot,
        portfolio: PortfolioView,
        tradable_symbols: Sequence[str],
    ) -> HoldReason | str | None: ...
