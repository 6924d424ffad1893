"""Trade and curve statistics of a backtest: per pair, per month, the deepest drawdown's dates.

Pure functions over round trips (:mod:`btcbot.backtest.roundtrips`) and equity curves, in one
fixed decimal context. Definitions (documented for users in ``docs/backtest_report.md``):

* profit factor = gross profit / gross loss over round trips (``None`` without a losing trip)
* expectancy = mean round-trip PnL in the quote asset (``None`` without round trips)
* longest losing streak = most consecutive round trips (in exit order) with ``pnl <= 0``
* drawdown period: ``peak`` = the last time equity stood at its running maximum before the
  deepest trough, ``trough`` = the time of the deepest drawdown, ``recovery`` = the first time
  after the trough equity is back at or above the peak (``None`` when it never is)
* monthly return = equity at the last point of a calendar month (UTC) / equity at the last
  point before that month (the first point for the first month) - 1; a point stamped 00:00 on
  the 1st (a bar's close) counts for the month before
* daily closes = the first point's equity, then the equity at the last point of every UTC day
  after it (the same rule per day: a point stamped 00:00 closes the day before); the daily
  Sharpe and Sortino of :mod:`btcbot.backtest.report` are taken over the returns between them
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from itertools import islice

from btcbot.backtest.roundtrips import CALC, ZERO, RoundTrip


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Statistics of a set of round trips (all of them, or one pair's)."""

    trips: int
    wins: int
    losses: int
    win_rate: Decimal | None
    total_profit: Decimal
    avg_profit: Decimal | None
    avg_return: Decimal | None
    avg_duration_s: int | None
    gross_profit: Decimal
    gross_loss: Decimal
    profit_factor: Decimal | None
    longest_losing_streak: int


def trade_stats(trips: Sequence[RoundTrip]) -> TradeStats:
    with localcontext(CALC):
        n = len(trips)
        wins = sum(1 for t in trips if t.won)
        gross_profit = sum((t.pnl for t in trips if t.pnl > 0), ZERO)
        gross_loss = -sum((t.pnl for t in trips if t.pnl < 0), ZERO)
        total = sum((t.pnl for t in trips), ZERO)
        streak = longest = 0
        for trip in trips:
            streak = 0 if trip.won else streak + 1
            longest = max(longest, streak)
        return TradeStats(
            trips=n,
            wins=wins,
            losses=n - wins,
            win_rate=Decimal(wins) / Decimal(n) if n else None,
            total_profit=total,
            avg_profit=total / Decimal(n) if n else None,
            avg_return=sum((t.return_ for t in trips), ZERO) / Decimal(n) if n else None,
            # Whole seconds, rounded half-even by integer division of the exact total.
            avg_duration_s=_round_div(sum(t.duration_s for t in trips), n) if n else None,
            gross_profit=gross_profit,
            gross_loss=gross_loss,
            profit_factor=gross_profit / gross_loss if gross_loss > 0 else None,
            longest_losing_streak=longest,
        )


def _round_div(total: int, n: int) -> int:
    with localcontext(CALC):
        return int((Decimal(total) / Decimal(n)).to_integral_value())


def per_pair(trips: Sequence[RoundTrip], symbols: Sequence[str] = ()) -> dict[str, TradeStats]:
    """Stats per symbol, for every symbol traded or listed in ``symbols`` (sorted)."""
    names = sorted(set(symbols) | {t.symbol for t in trips})
    return {s: trade_stats([t for t in trips if t.symbol == s]) for s in names}


def best_and_worst(trips: Sequence[RoundTrip]) -> tuple[RoundTrip | None, RoundTrip | None]:
    """Highest and lowest PnL (the earliest one on a tie)."""
    if not trips:
        return None, None
    best = worst = trips[0]
    for trip in trips[1:]:
        if trip.pnl > best.pnl:
            best = trip
        if trip.pnl < worst.pnl:
            worst = trip
    return best, worst


@dataclass(frozen=True, slots=True)
class DrawdownPeriod:
    depth: Decimal
    peak: datetime | None
    trough: datetime | None
    recovery: datetime | None


def max_drawdown_period(curve: Sequence[tuple[datetime, Decimal]]) -> DrawdownPeriod:
    """The deepest drawdown (first one on a tie) with its peak, trough and recovery times."""
    depth = ZERO
    peak_value: Decimal | None = None
    peak_time: datetime | None = None
    best: tuple[datetime, datetime, Decimal] | None = None  # (peak time, trough time, peak value)
    with localcontext(CALC):
        for when, value in curve:
            if peak_value is None or value >= peak_value:
                peak_value, peak_time = value, when
                continue
            dd = (peak_value - value) / peak_value if peak_value > 0 else ZERO
            if dd > depth and peak_time is not None:
                depth, best = dd, (peak_time, when, peak_value)
    if best is None:
        return DrawdownPeriod(ZERO, None, None, None)
    peak_at, trough_at, level = best
    recovery = next((when for when, value in curve if when > trough_at and value >= level), None)
    return DrawdownPeriod(depth, peak_at, trough_at, recovery)


def month_key(when: datetime) -> str:
    """``YYYY-MM`` of the span a point closes: a bar closing at 00:00 on the 1st belongs to the
    month before (equity points are stamped with their bar's close time)."""
    covered = when - timedelta(microseconds=1)
    return f"{covered.year:04d}-{covered.month:02d}"


def monthly_returns(curve: Sequence[tuple[datetime, Decimal]]) -> list[tuple[str, Decimal | None]]:
    """(``YYYY-MM``, return) per calendar month the curve touches, in order."""
    if not curve:
        return []
    out: list[tuple[str, Decimal | None]] = []
    base = last = curve[0][1]
    # The first point is the starting equity, the base of the first month (never a month alone).
    month = month_key(curve[1][0] if len(curve) > 1 else curve[0][0])
    with localcontext(CALC):
        for when, value in islice(curve, 1, None):
            key = month_key(when)
            if key != month:
                out.append((month, last / base - 1 if base > 0 else None))
                base, month = last, key
            last = value
        out.append((month, last / base - 1 if base > 0 else None))
    return out


#: Seconds of a (UTC) day.
DAY_S = 86400


def daily_closes(curve: Sequence[tuple[datetime, Decimal]]) -> list[Decimal]:
    """The first point's equity, then the equity at the last point of each UTC day after it.

    A point at exactly 00:00 UTC (the close of a bar that ended at midnight) closes the day
    before, as in :func:`monthly_returns`. A day without a point has no close (with bars of a
    day or shorter every day has one)."""
    if not curve:
        return []
    closes = [curve[0][1]]
    day: int | None = None
    last = closes[0]
    for when, value in islice(curve, 1, None):
        key = -(-int(when.timestamp()) // DAY_S)  # the day a point closes: 00:00 counts for the day before
        if key != day:
            if day is not None:
                closes.append(last)
            day = key
        last = value
    if day is not None:
        closes.append(last)
    return closes


def calmar(cagr: Decimal | None, max_drawdown: Decimal) -> Decimal | None:
    """CAGR / max drawdown; ``None`` without a CAGR or without a drawdown."""
    if cagr is None or max_drawdown <= 0:
        return None
    with localcontext(CALC):
        return cagr / max_drawdown


def drawdowns(values: Sequence[Decimal]) -> list[Decimal]:
    """``(peak_t - E_t) / peak_t`` per point (0 while the running peak is not positive)."""
    out: list[Decimal] = []
    peak: Decimal | None = None
    with localcontext(CALC):
        for value in values:
            peak = value if peak is None or value > peak else peak
            out.append((peak - value) / peak if peak > 0 else ZERO)
    return out
