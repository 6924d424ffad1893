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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from btcbot.backtest.roundtrips import CALC, ZERO
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


def drawdown_tiers(values: Sequence[Decimal], tiers: Sequence[Decimal]) -> list[int]:
    """Per point, how many of ``tiers`` the drawdown from the running peak has reached."""
    out: list[int] = []
    peak: Decimal | None = None
    with localcontext(CALC):
        for value in values:
            peak = value if peak is None or value > peak else peak
            dd = ZERO if peak <= 0 else max(ZERO, 1 - value / peak)
            out.append(sum(1 for tier in tiers if dd >= tier))
    return out


def build_timeline(
    curve: Sequence[tuple[datetime, Decimal]],
    exposures: Sequence[Decimal],
    tiers: Sequence[Decimal],
    multipliers: Sequence[Decimal],
    state_changes: Sequence[StateChange] | None = None,
) -> Timeline:
    """Segments and risk stops of one run (``exposures`` aligned with ``curve``)."""
    if len(multipliers) != len(tiers) + 1:
        raise ValueError("need exactly one more drawdown multiplier than tiers")
    levels = drawdown_tiers([v for _, v in curve], tiers)
    changes = sorted(state_changes or (), key=lambda c: c[0])
    derived = state_changes is None
    rows: list[tuple[TradingState, tuple[str, ...], int, bool]] = []
    pointer, state = 0, TradingState.ACTIVE
    reasons: tuple[str, ...] = ()
    for index, (when, _) in enumerate(curve):
        tier = levels[index]
        if derived:
            stopped = multipliers[tier] == 0
            state = TradingState.REDUCING if stopped else TradingState.ACTIVE
            reasons = (DRAWDOWN_CODE,) if stopped else ()
        else:
            while pointer < len(changes) and changes[pointer][0] <= when:
                _, state, reasons = changes[pointer]
                pointer += 1
        exposure = exposures[index] if index < len(exposures) else ZERO
        rows.append((state, tuple(reasons), tier, exposure == 0))
    times = [when for when, _ in curve]
    segments = _segments(times, rows, multipliers)
    return Timeline(tuple(segments), tuple(_stops(times, rows)), tuple(tiers), derived)


def _end(times: Sequence[datetime], stop: int) -> tuple[datetime, bool]:
    """End time of a run that covers indexes < ``stop``, and whether it lasts to the end."""
    return (times[stop], False) if stop < len(times) else (times[-1], True)


def _segments(times: Sequence[datetime], rows: Sequence[tuple[TradingState, tuple[str, ...], int, bool]],
              multipliers: Sequence[Decimal]) -> list[Segment]:
    out: list[Segment] = []
    first = 0
    for index in range(1, len(rows) + 1):
        if index < len(rows) and rows[index][:3] == rows[first][:3]:
            continue
        state, reasons, tier, _ = rows[first]
        end, ongoing = _end(times, index)
        cash = sum(1 for row in rows[first:index] if row[3])
        out.append(Segment(times[first], end, index - first, cash, state, reasons, tier, multipliers[tier], ongoing))
        first = index
    return out


def _stops(times: Sequence[datetime], rows: Sequence[tuple[TradingState, tuple[str, ...], int, bool]]) -> list[RiskStop]:
    out: list[RiskStop] = []
    index = 0
    while index < len(rows):
        if rows[index][0] is TradingState.ACTIVE:
            index += 1
            continue
        first = index
        while index < len(rows) and rows[index][0] is not TradingState.ACTIVE:
            index += 1
        run = rows[first:index]
        states = tuple(dict.fromkeys(row[0] for row in run))
        reasons = tuple(dict.fromkeys(code for row in run for code in row[1]))
        end, ongoing = _end(times, index)
        out.append(RiskStop(times[first], end, index - first, sum(1 for row in run if row[3]), states, reasons,
                            max(row[2] for row in run), ongoing))
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
