"""The timeline of trading states over a backtest, and the risk stops that kept the bot out.

Per bar (equity curve point) the timeline knows:

* ``state``: the post-trade trading state (ACTIVE / REDUCING / HALTED) the engine recorded in
  ``BacktestResult.state_changes``, with the reason codes behind it. Without recorded changes it
  is derived from the drawdown alone (REDUCING with ``RISK_DRAWDOWN_DERISK_ACTIVE`` where the
  drawdown multiplier is 0, as ``RiskEngine.post_trade`` decides it), ACTIVE elsewhere.
* ``tier``: the drawdown tier, ``k`` = how many of ``capital.drawdown_tiers`` the drawdown
  ``1 - E_t / max(E_0..E_t)`` has reached (0 = none), and ``m_dd = drawdown_multipliers[k]``.
  The risk engine's high-water mark is that running maximum of the same equity.
* ``in cash``: the bar's exposure (quote value of coins held) is 0.

A **segment** is a maximal run of bars with the same (state, reasons, tier). A **risk stop** is a
maximal run of bars whose state is not ACTIVE: only risk-reducing orders were allowed, so the bot
could not enter the market. A backtest has no exchange, so safe mode (breakers, stale data) never
occurs in it. Times: a segment or stop starts at its first bar's close and ends at the close of
the first bar after it, or at the last bar's close when it lasts to the end (``ongoing``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from btcbot.backtest.roundtrips import CALC, ZERO
from btcbot.backtest.series import TimeSeries, times_of
from btcbot.domain.enums import TradingState

StateChange = tuple[datetime, TradingState, tuple[str, ...]]
DRAWDOWN_CODE = "RISK_DRAWDOWN_DERISK_ACTIVE"


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime
    end: datetime
    bars: int
    cash_bars: int
    state: TradingState
    reasons: tuple[str, ...]
    tier: int
    m_dd: Decimal
    ongoing: bool

    @property
    def duration_s(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True, slots=True)
class RiskStop:
    """A run of non-ACTIVE bars; ``reasons`` in order of first appearance, ``tier`` the deepest."""

    start: datetime
    end: datetime
    bars: int
    cash_bars: int
    states: tuple[TradingState, ...]
    reasons: tuple[str, ...]
    tier: int
    ongoing: bool

    @property
    def duration_s(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def in_cash_share(self) -> Decimal:
        with localcontext(CALC):
            return Decimal(self.cash_bars) / Decimal(self.bars)


@dataclass(frozen=True, slots=True)
class Timeline:
    segments: tuple[Segment, ...]
    stops: tuple[RiskStop, ...]
    tiers: tuple[Decimal, ...]
    derived: bool


def _iter_tiers(values: Iterable[Decimal], tiers: Sequence[Decimal]) -> Iterator[int]:
    peak: Decimal | None = None
    for value in values:
        with localcontext(CALC):
            peak = value if peak is None or value > peak else peak
            dd = ZERO if peak <= 0 else max(ZERO, 1 - value / peak)
        yield sum(1 for tier in tiers if dd >= tier)


def drawdown_tiers(values: Sequence[Decimal], tiers: Sequence[Decimal]) -> list[int]:
    """Per point, how many of ``tiers`` the drawdown from the running peak has reached."""
    return list(_iter_tiers(values, tiers))


#: One run of consecutive bars with the same row: [state, reasons, tier, in_cash, first index, bars].
_Run = list[Any]


def build_timeline(
    curve: Sequence[tuple[datetime, Decimal]],
    exposures: Sequence[Decimal],
    tiers: Sequence[Decimal],
    multipliers: Sequence[Decimal],
    state_changes: Sequence[StateChange] | None = None,
) -> Timeline:
    """Segments and risk stops of one run (``exposures`` aligned with ``curve``).

    The bars are read once and kept as runs of equal (state, reasons, tier, in cash) rows, so a
    year of minutes costs a few thousand runs, not a row per bar.
    """
    if len(multipliers) != len(tiers) + 1:
        raise ValueError("need exactly one more drawdown multiplier than tiers")
    values = curve.values if isinstance(curve, TimeSeries) else [v for _, v in curve]
    changes = sorted(state_changes or (), key=lambda c: c[0])
    derived = state_changes is None
    runs: list[_Run] = []
    pointer, state = 0, TradingState.ACTIVE
    reasons: tuple[str, ...] = ()
    levels = _iter_tiers(values, tiers)
    for index, when in enumerate(times_of(curve)):
        tier = next(levels)
        if derived:
            stopped = multipliers[tier] == 0
            state = TradingState.REDUCING if stopped else TradingState.ACTIVE
            reasons = (DRAWDOWN_CODE,) if stopped else ()
        else:
            while pointer < len(changes) and changes[pointer][0] <= when:
                _, state, reasons = changes[pointer]
                pointer += 1
        exposure = exposures[index] if index < len(exposures) else ZERO
        row = (state, tuple(reasons), tier, exposure == 0)
        last = runs[-1] if runs else None
        if last is not None and (last[0], last[1], last[2], last[3]) == row:
            last[5] += 1
        else:
            runs.append([*row, index, 1])

    def time_at(index: int) -> datetime:
        return curve.time_at(index) if isinstance(curve, TimeSeries) else curve[index][0]

    count = len(curve)
    segments = _segments(time_at, count, runs, multipliers)
    return Timeline(tuple(segments), tuple(_stops(time_at, count, runs)), tuple(tiers), derived)


def _end(time_at: Callable[[int], datetime], count: int, stop: int) -> tuple[datetime, bool]:
    """End time of a run that covers indexes < ``stop``, and whether it lasts to the end."""
    return (time_at(stop), False) if stop < count else (time_at(count - 1), True)


def _segments(time_at: Callable[[int], datetime], count: int, runs: Sequence[_Run],
              multipliers: Sequence[Decimal]) -> list[Segment]:
    """Maximal groups of consecutive bars with the same (state, reasons, tier)."""
    out: list[Segment] = []
    start = 0
    while start < len(runs):
        state, reasons, tier, _, first, _ = runs[start]
        stop = start
        while stop + 1 < len(runs) and runs[stop + 1][:3] == runs[start][:3]:
            stop += 1
        group = runs[start : stop + 1]
        end_index = group[-1][4] + group[-1][5]
        end, ongoing = _end(time_at, count, end_index)
        cash = sum(run[5] for run in group if run[3])
        out.append(Segment(time_at(first), end, end_index - first, cash, state, reasons, tier, multipliers[tier],
                           ongoing))
        start = stop + 1
    return out


def _stops(time_at: Callable[[int], datetime], count: int, runs: Sequence[_Run]) -> list[RiskStop]:
    """Maximal groups of consecutive bars whose state is not ACTIVE."""
    out: list[RiskStop] = []
    index = 0
    while index < len(runs):
        if runs[index][0] is TradingState.ACTIVE:
            index += 1
            continue
        start = index
        while index < len(runs) and runs[index][0] is not TradingState.ACTIVE:
            index += 1
        group = runs[start:index]
        first = group[0][4]
        end_index = group[-1][4] + group[-1][5]
        states = tuple(dict.fromkeys(run[0] for run in group))
        reasons = tuple(dict.fromkeys(code for run in group for code in run[1]))
        end, ongoing = _end(time_at, count, end_index)
        out.append(RiskStop(time_at(first), end, end_index - first, sum(run[5] for run in group if run[3]), states,
                            reasons, max(run[2] for run in group), ongoing))
    return out


def describe_stop(stop: RiskStop, tiers: Sequence[Decimal]) -> str:
    """One line for the terminal, e.g. ``drawdown tier 3 (drawdown >= 15%, no new risk) kept the
    bot in cash from 2025-09-01 to 2025-12-31 (122 days)``."""
    causes: list[str] = []
    if TradingState.HALTED in stop.states:
        causes.append("HALTED")
    if DRAWDOWN_CODE in stop.reasons and stop.tier > 0:
        causes.append(f"drawdown tier {stop.tier} (drawdown >= {_pct(tiers[stop.tier - 1])}, no new risk)")
    causes.extend(code for code in stop.reasons if code != DRAWDOWN_CODE)
    cause = " + ".join(causes) or "REDUCING"
    days = _days(stop.duration_s)
    if stop.cash_bars == stop.bars:
        where = "in cash"
    else:
        where = f"out of new positions ({_pct(stop.in_cash_share)} of the time in cash)"
    tail = ", still in force at the end" if stop.ongoing else ""
    return (f"{cause} kept the bot {where} from {stop.start:%Y-%m-%d %H:%M} to {stop.end:%Y-%m-%d %H:%M} "
            f"({days}{tail})")


def _pct(value: Decimal) -> str:
    with localcontext(CALC):
        text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _days(seconds: int) -> str:
    if seconds >= 86400:
        days = round(seconds / 86400, 1)
        return f"{days:g} days" if days != 1 else "1 day"
    hours = round(seconds / 3600, 1)
    return f"{hours:g} hours" if hours != 1 else "1 hour"
