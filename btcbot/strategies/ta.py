"""Incremental technical indicators: each ``update`` costs O(1), in float (signals, not money).

Every indicator is a small state object: ``update(...)`` folds in ONE new closed bar and returns
the current value, or ``None`` while it is still warming up. The ``*_series`` functions run the
same object over a whole series (so a vectorised backtest and a bar-by-bar live cycle compute
the very same floats). Conventions follow TA-Lib, the de-facto reference, except where noted:

* ``Sma(n)``: mean of the last ``n`` values; first value at the n-th input.
* ``Ema(n)``: ``k = 2 / (n + 1)``, SEEDED WITH THE SMA OF THE FIRST ``n`` VALUES (TA-Lib's
  default), then ``e = (x - e) * k + e``; first value at the n-th input.
* ``Rsi(n)`` (Wilder): the first ``n`` changes are averaged plainly, then Wilder-smoothed
  ``avg = (avg * (n - 1) + x) / n``; ``RSI = 100 * gain / (gain + loss)``; first value at input
  ``n + 1``. Deviation from TA-Lib: a perfectly flat market gives 50 (TA-Lib gives 0).
* ``Atr(n)`` (Wilder): true range ``max(h - l, |h - c_prev|, |l - c_prev|)`` from the second bar
  on; seeded with the mean of the first ``n`` true ranges, then Wilder-smoothed; first value at
  bar ``n + 1`` (TA-Lib's ATR).
* ``Bollinger(n, k)``: middle = SMA(n), bands = middle +- k * POPULATION standard deviation of
  the last ``n`` values (TA-Lib's BBANDS with ``nbdev = k``).
* ``Macd(fast, slow, signal)``: line = EMA_fast - EMA_slow (each seeded as ``Ema``), signal =
  EMA(signal) of the line, histogram = line - signal; the line exists from input ``slow``, the
  signal from input ``slow + signal - 1``. Deviation from TA-Lib: TA-Lib seeds the fast EMA on a
  later window so both EMAs start together; the difference decays like the EMA seed itself.

Why float: indicators decide WHEN to trade, never how much money moves (amounts and prices in
intents stay Decimal). IEEE-754 double arithmetic in a fixed order is deterministic: the same
closes give bit-identical values in a live cycle, a replay and a backtest on every platform
CPython runs on (no fused multiply-add, no x87 extended precision on x86-64). ``float(Decimal)``
is correctly rounded, so the conversion is deterministic too.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def _period(n: int, what: str = "period") -> int:
    if n < 1:
        raise ValueError(f"{what} must be >= 1")
    return n


class Sma:
    """Simple moving average of the last ``period`` values.

    A running sum (O(1) per update) that is re-added exactly with ``math.fsum`` once every
    ``period`` updates (amortised O(1)), so rounding drift never accumulates past one window.
    """

    __slots__ = ("period", "_ring", "_sum", "_since", "value")

    def __init__(self, period: int) -> None:
        self.period = _period(period)
        self._ring: deque[float] = deque()
        self._sum = 0.0
        self._since = 0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        ring = self._ring
        ring.append(x)
        if len(ring) > self.period:
            old = ring.popleft()
            self._since += 1
            if self._since >= self.period:
                self._since = 0
                self._sum = math.fsum(ring)
            else:
                self._sum += x - old
        else:
            self._sum += x
        if len(ring) == self.period:
            self.value = self._sum / self.period
        return self.value


class Ema:
    """Exponential moving average, TA-Lib convention (seeded with the SMA of the first ``period``)."""

    __slots__ = ("period", "k", "_n", "_seed", "value")

    def __init__(self, period: int) -> None:
        self.period = _period(period)
        self.k = 2.0 / (period + 1)
        self._n = 0
        self._seed = 0.0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        value = self.value
        if value is not None:
            value = (x - value) * self.k + value
            self.value = value
            return value
        self._n += 1
        self._seed += x
        if self._n == self.period:
            self.value = self._seed / self.period
        return self.value


class Rsi:
    """Wilder's relative strength index (0..100)."""

    __slots__ = ("period", "_prev", "_n", "_gain", "_loss", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period)
        self._prev: float | None = None
        self._n = 0
        self._gain = 0.0
        self._loss = 0.0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        prev = self._prev
        self._prev = x
        if prev is None:
            return None
        change = x - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        n = self.period
        if self._n < n:
            self._n += 1
            self._gain += gain
            self._loss += loss
            if self._n < n:
                return None
            self._gain /= n
            self._loss /= n
        else:
            self._gain = (self._gain * (n - 1) + gain) / n
            self._loss = (self._loss * (n - 1) + loss) / n
        total = self._gain + self._loss
        self.value = 100.0 * self._gain / total if total > 0 else 50.0
        return self.value


class Atr:
    """Wilder's average true range over ``period`` bars."""

    __slots__ = ("period", "_prev_close", "_n", "_sum", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period)
        self._prev_close: float | None = None
        self._n = 0
        self._sum = 0.0
        self.value: float | None = None

    def update(self, high: float, low: float, close: float) -> float | None:
        prev = self._prev_close
        self._prev_close = close
        if prev is None:
            return None
        tr = max(high - low, abs(high - prev), abs(low - prev))
        n = self.period
        if self.value is None:
            self._n += 1
            self._sum += tr
            if self._n == n:
                self.value = self._sum / n
            return self.value
        self.value = (self.value * (n - 1) + tr) / n
        return self.value


@dataclass(frozen=True, slots=True)
class Band:
    lower: float
    middle: float
    upper: float


class Bollinger:
    """Bollinger bands: SMA(period) +- ``k`` population standard deviations of the last ``period``."""

    __slots__ = ("period", "k", "_ring", "value")

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        self.period = _period(period)
        self.k = k
        self._ring: deque[float] = deque(maxlen=period)
        self.value: Band | None = None

    def update(self, x: float) -> Band | None:
        ring = self._ring
        ring.append(x)
        if len(ring) < self.period:
            return None
        # O(period) per bar, but exact: fsum keeps the mean and variance a pure function of the
        # window (a running sum of squares loses digits to cancellation on flat prices).
        n = self.period
        mean = math.fsum(ring) / n
        variance = math.fsum((v - mean) * (v - mean) for v in ring) / n
        width = self.k * math.sqrt(variance)
        self.value = Band(mean - width, mean, mean + width)
        return self.value


@dataclass(frozen=True, slots=True)
class MacdValue:
    line: float
    signal: float | None
    histogram: float | None


class Macd:
    """MACD line, signal and histogram (see the module docstring for the seeding)."""

    __slots__ = ("_fast", "_slow", "_signal", "value")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        if not 1 <= fast < slow:
            raise ValueError("need 1 <= fast < slow")
        self._fast = Ema(fast)
        self._slow = Ema(slow)
        self._signal = Ema(_period(signal, "signal period"))
        self.value: MacdValue | None = None

    def update(self, x: float) -> MacdValue | None:
        fast = self._fast.update(x)
        slow = self._slow.update(x)
        if fast is None or slow is None:
            return None
        line = fast - slow
        signal = self._signal.update(line)
        self.value = MacdValue(line, signal, None if signal is None else line - signal)
        return self.value


# ---- whole series (the same objects, run over a list) ----------------------------------------


def sma_series(values: Iterable[float], period: int) -> list[float | None]:
    state = Sma(period)
    return [state.update(x) for x in values]


def ema_series(values: Iterable[float], period: int) -> list[float | None]:
    state = Ema(period)
    return [state.update(x) for x in values]


def rsi_series(values: Iterable[float], period: int = 14) -> list[float | None]:
    state = Rsi(period)
    return [state.update(x) for x in values]


def atr_series(
    highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 14
) -> list[float | None]:
    if not len(highs) == len(lows) == len(closes):
        raise ValueError("highs, lows and closes must have the same length")
    state = Atr(period)
    return [state.update(h, lo, c) for h, lo, c in zip(highs, lows, closes, strict=True)]


def bollinger_series(values: Iterable[float], period: int = 20, k: float = 2.0) -> list[Band | None]:
    state = Bollinger(period, k)
    return [state.update(x) for x in values]


def macd_series(
    values: Iterable[float], fast: int = 12, slow: int = 26, signal: int = 9
) -> list[MacdValue | None]:
    state = Macd(fast, slow, signal)
    return [state.update(x) for x in values]
