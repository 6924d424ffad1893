"""Backtest report: pure metrics over an equity curve and fills, rendered to JSON and CSV.

Definitions (``E_t`` = equity at bar t, ``n`` = number of points, ``r_t = E_t / E_{t-1} - 1``):

* total return = ``E_last / E_first - 1``
* CAGR = ``(E_last / E_first) ** (1 / years) - 1`` with ``years = (t_last - t_first) / 365 days``
  (crypto trades every day); ``None`` when the curve spans less than ``MIN_CAGR_DAYS`` (annualizing
  a few hours or days only amplifies noise, up to numbers too large to print); ``-1`` after ruin.
* max drawdown = ``max_t (peak_t - E_t) / peak_t`` with ``peak_t`` the running maximum (>= 0).
* Sharpe = ``mean(r) / stdev(r) * sqrt(P)``, stdev the sample (n-1) deviation, risk-free rate 0,
  ``P = 365 days / interval_s`` bars per year. ``None`` with fewer than 2 returns or zero deviation.
* Sortino = ``mean(r) / DD * sqrt(P)``, ``DD = sqrt(sum(min(r, 0)^2) / N)`` over all N returns
  (target 0). ``None`` when no return is negative.
* daily Sharpe / daily Sortino = the same two over the returns between daily closes (the
  first point, then the last point of each UTC day: :func:`btcbot.backtest.analysis.daily_closes`)
  with ``P = 365``: the definition freqtrade reports. The per-bar figures above depend on the
  bar length (the same run on 1-minute bars: -213 per bar, -129 daily for a strategy that loses a
  steady ~0.4 % a day to fees); the daily ones compare across bar lengths and with other tools.
  ``None`` for bars longer than a day.
* time in market = share of bars whose exposure (quote value of held coins) is > 0; average
  exposure = mean of ``exposure_t / E_t``.
* trades = number of fills. Win rate is per round trip, FIFO matched per symbol: every SELL fill
  that closes some earlier bought quantity is one round trip; its PnL is
  ``sum(matched_qty * (sell_unit - buy_unit))`` where a unit price includes that fill's fee and
  tax spread over its quantity (buy: ``price + (fee+tax)/qty``, sell: ``price - (fee+tax)/qty``).
  A round trip with PnL > 0 is a win; sold quantity with no earlier buy is ignored.
* turnover = ``sum(|qty * price|) / mean(E)``: how many times the average equity was traded.
* slippage = what the fills paid beyond the price the fill model starts from (the bar's open),
  passed in by the caller (:mod:`btcbot.backtest.run_report`); the benchmark's is its own.
* profit factor, expectancy, longest losing streak, Calmar and the drawdown period: see
  :mod:`btcbot.backtest.analysis`; round trips and open positions: :mod:`btcbot.backtest.roundtrips`;
  the trading-state timeline: :mod:`btcbot.backtest.timeline`.

Every computation runs in one fixed decimal context (``_CALC``) so results never depend on the
caller's context; every rendered number goes through :func:`render_decimal` (the only rounding).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from itertools import islice

from btcbot.backtest.analysis import (
    DAY_S,
    DrawdownPeriod,
    TradeStats,
    best_and_worst,
    calmar,
    daily_closes,
    drawdowns,
    max_drawdown_period,
    monthly_returns,
    per_pair,
    trade_stats,
)
from btcbot.backtest.report_render import (
    REPORT_PLACES,
    equity_csv,
    metrics_to_dict,
    render_decimal,
    report_to_dict,
    report_to_json,
    round_trips_csv,
    trades_csv,
    write_report,
)
from btcbot.backtest.roundtrips import FillLike, OpenPosition, Pairing, RoundTrip, pair_fills
from btcbot.backtest.series import TimeSeries
from btcbot.backtest.timeline import StateChange, Timeline, build_timeline
from btcbot.domain.enums import Side
from btcbot.domain.market import Candle

SECONDS_PER_YEAR = 365 * DAY_S
MIN_CAGR_DAYS = 30
_CALC = Context(prec=34, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)
_ONE = Decimal(1)

EquityCurve = Sequence[tuple[datetime, Decimal]]


#: What the report reads from a fill (the same members round-trip pairing reads).
TradeLike = FillLike


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One fill as the report sees it: base ``quantity``, quote ``fee`` and ``tax`` (>= 0)."""

    timestamp: datetime
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal = _ZERO
    tax: Decimal = _ZERO
    #: Quote paid beyond the reference price (the benchmark's slippage); not a TradeLike member.
    slippage: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class Metrics:
    """The figures of one equity curve (strategy or benchmark); ratios are fractions, not %."""

    start_equity: Decimal
    end_equity: Decimal
    total_return: Decimal
    cagr: Decimal | None
    max_drawdown: Decimal
    sharpe: Decimal | None
    sortino: Decimal | None
    time_in_market: Decimal
    avg_exposure: Decimal
    trades: int
    round_trips: int
    wins: int
    win_rate: Decimal | None
    fees: Decimal
    taxes: Decimal
    turnover: Decimal
    # ---- added with the trader's report (issue 12); every key below is additive in report.json
    slippage: Decimal = _ZERO
    costs: Decimal = _ZERO
    profit_factor: Decimal | None = None
    expectancy: Decimal | None = None
    calmar: Decimal | None = None
    longest_losing_streak: int = 0
    max_drawdown_peak: datetime | None = None
    max_drawdown_trough: datetime | None = None
    max_drawdown_recovery: datetime | None = None
    # ---- added later, additive in report.json as well
    sharpe_daily: Decimal | None = None
    sortino_daily: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the trader's report needs beyond curves and fills (all optional).

    ``symbols``: the traded universe (every one gets a per-pair row); ``last_prices``: closes at
    the end, to value open positions; ``drawdown_tiers``/``drawdown_multipliers``: the capital
    policy's; ``state_changes``: ``BacktestResult.state_changes`` (``None``: derive the states
    from the drawdown, see :mod:`btcbot.backtest.timeline`).
    """

    symbols: tuple[str, ...] = ()
    last_prices: Mapping[str, Decimal] = field(default_factory=dict)
    drawdown_tiers: tuple[Decimal, ...] = (Decimal("0.05"), Decimal("0.10"), Decimal("0.15"))
    drawdown_multipliers: tuple[Decimal, ...] = (Decimal("1.0"), Decimal("0.7"), Decimal("0.4"), Decimal("0.0"))
    state_changes: Sequence[StateChange] | None = None


@dataclass(frozen=True, slots=True)
class BacktestReport:
    interval_s: int
    #: A tuple, or the run's compact :class:`~btcbot.backtest.series.TimeSeries` (read-only).
    equity_curve: Sequence[tuple[datetime, Decimal]]
    exposures: tuple[Decimal, ...]
    trades: tuple[TradeLike, ...]
    risk_denials: tuple[tuple[str, int], ...]
    benchmark_curve: Sequence[tuple[datetime, Decimal]]
    strategy: Metrics
    benchmark: Metrics
    round_trips: tuple[RoundTrip, ...] = ()
    open_positions: tuple[OpenPosition, ...] = ()
    pairs: tuple[tuple[str, TradeStats], ...] = ()
    best_trade: RoundTrip | None = None
    worst_trade: RoundTrip | None = None
    monthly: tuple[tuple[str, Decimal | None, Decimal | None], ...] = ()
    timeline: Timeline | None = None


def _frozen(curve: EquityCurve) -> Sequence[tuple[datetime, Decimal]]:
    """The curve as the report keeps it: a TimeSeries or tuple as is (no per-point copy)."""
    return curve if isinstance(curve, TimeSeries | tuple) else tuple(curve)


def bar_returns(values: Sequence[Decimal]) -> list[Decimal]:
    """Simple returns between consecutive points; a step from a non-positive value counts as 0."""
    with localcontext(_CALC):
        return [(b / a - 1) if a > 0 else _ZERO for a, b in zip(values, values[1:], strict=False)]


def _iter_returns(values: Sequence[Decimal]) -> Iterator[Decimal]:
    """:func:`bar_returns` one at a time (call inside ``localcontext(_CALC)``)."""
    for a, b in zip(values, islice(values, 1, None), strict=False):
        yield (b / a - 1) if a > 0 else _ZERO


def _sharpe_sortino(values: Sequence[Decimal], interval_s: int) -> tuple[Decimal | None, Decimal | None]:
    """Sharpe and Sortino of the bar returns of ``values``. The returns are recomputed in each of
    the two passes instead of being held (a year of minutes is 525,600 of them); the same
    operations in the same order give the same sums as summing a list."""
    if len(values) - 1 < 2:
        return None, None
    with localcontext(_CALC):
        n = Decimal(len(values) - 1)
        mean = sum(_iter_returns(values), _ZERO) / n
        annual = (Decimal(SECONDS_PER_YEAR) / Decimal(interval_s)).sqrt()
        squares = _ZERO
        downside = _ZERO
        for r in _iter_returns(values):
            squares += (r - mean) ** 2
            downside += min(r, _ZERO) ** 2
        variance = squares / (n - 1)
        sharpe = mean / variance.sqrt() * annual if variance > 0 else None
        downside = downside / n
        sortino = mean / downside.sqrt() * annual if downside > 0 else None
    return sharpe, sortino


def _cagr(curve: EquityCurve) -> Decimal | None:
    (t0, e0), (t1, e1) = curve[0], curve[-1]
    seconds = Decimal((t1 - t0).total_seconds())
    if seconds < MIN_CAGR_DAYS * 86400 or e0 <= 0:
        return None
    with localcontext(_CALC):
        ratio = e1 / e0
        if ratio <= 0:
            return -_ONE
        return ratio ** (Decimal(SECONDS_PER_YEAR) / seconds) - 1


def round_trips(trades: Sequence[TradeLike]) -> tuple[int, int]:
    """(round trips, wins) by FIFO matching per symbol, trades taken in the given (execution) order."""
    trips = pair_fills(trades).trips
    return len(trips), sum(1 for t in trips if t.won)


def compute_metrics(
    curve: EquityCurve,
    interval_s: int,
    trades: Sequence[TradeLike] = (),
    exposures: Sequence[Decimal] | None = None,
    slippage: Decimal | None = None,
    pairing: Pairing | None = None,
) -> Metrics:
    """Metrics of one curve. ``exposures`` (quote value held, per point) must align with ``curve``.

    ``slippage`` defaults to the sum of the trades' ``slippage`` attributes (0 where absent);
    ``pairing`` to :func:`pair_fills` over ``trades``.
    """
    if not curve:
        raise ValueError("equity curve is empty")
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    if exposures is not None and len(exposures) != len(curve):
        raise ValueError(f"exposures has {len(exposures)} points, equity curve {len(curve)}")
    values = list(curve.values) if isinstance(curve, TimeSeries) else [equity for _, equity in curve]
    sharpe, sortino = _sharpe_sortino(values, interval_s)
    sharpe_daily, sortino_daily = (
        _sharpe_sortino(daily_closes(curve), DAY_S) if interval_s <= DAY_S else (None, None))
    paired = pairing if pairing is not None else pair_fills(trades)
    stats = trade_stats(paired.trips)
    period = max_drawdown_period(curve)
    cagr = _cagr(curve)
    slipped = slippage if slippage is not None else sum((getattr(t, "slippage", _ZERO) for t in trades), _ZERO)
    with localcontext(_CALC):
        n = Decimal(len(values))
        mean_equity = sum(values, _ZERO) / n
        held: Sequence[Decimal] = exposures if exposures is not None else [_ZERO] * len(values)
        # Mean of exposure / equity over the points with positive equity, summed as it goes.
        share_sum, share_count = _ZERO, 0
        for e, v in zip(held, values, strict=True):
            if v > 0:
                share_sum += e / v
                share_count += 1
        traded = sum((abs(t.quantity * t.price) for t in trades), _ZERO)
        fees = sum((t.fee for t in trades), _ZERO)
        taxes = sum((t.tax for t in trades), _ZERO)
        return Metrics(
            start_equity=values[0],
            end_equity=values[-1],
            total_return=values[-1] / values[0] - 1 if values[0] > 0 else _ZERO,
            cagr=cagr,
            max_drawdown=period.depth,
            sharpe=sharpe,
            sortino=sortino,
            time_in_market=Decimal(sum(1 for e in held if e > 0)) / n,
            avg_exposure=share_sum / Decimal(share_count) if share_count else _ZERO,
            trades=len(trades),
            round_trips=stats.trips,
            wins=stats.wins,
            win_rate=stats.win_rate,
            fees=fees,
            taxes=taxes,
            turnover=traded / mean_equity if mean_equity > 0 else _ZERO,
            slippage=slipped,
            costs=fees + taxes + slipped,
            profit_factor=stats.profit_factor,
            expectancy=stats.avg_profit,
            calmar=calmar(cagr, period.depth),
            longest_losing_streak=stats.longest_losing_streak,
            max_drawdown_peak=period.peak,
            max_drawdown_trough=period.trough,
            max_drawdown_recovery=period.recovery,
            sharpe_daily=sharpe_daily,
            sortino_daily=sortino_daily,
        )


def build_report(
    *,
    equity_curve: EquityCurve,
    interval_s: int,
    trades: Sequence[TradeLike],
    exposures: Sequence[Decimal],
    risk_denials: Mapping[str, int],
    benchmark_curve: EquityCurve,
    benchmark_trades: Sequence[TradeLike] = (),
    benchmark_exposures: Sequence[Decimal] | None = None,
    slippage: Decimal = _ZERO,
    context: RunContext | None = None,
) -> BacktestReport:
    """Assemble the report; the benchmark usually comes from :func:`buy_and_hold`.

    ``slippage``: the strategy's (the benchmark's comes from its ``TradeRecord.slippage``).
    """
    ctx = context or RunContext()
    pairing = pair_fills(trades, ctx.last_prices)
    best, worst = best_and_worst(pairing.trips)
    strategy_months = monthly_returns(equity_curve)
    bench_months = dict(monthly_returns(benchmark_curve))
    timeline = None
    if equity_curve:
        timeline = build_timeline(equity_curve, exposures, ctx.drawdown_tiers, ctx.drawdown_multipliers,
                                  ctx.state_changes)
    return BacktestReport(
        interval_s=interval_s,
        equity_curve=_frozen(equity_curve),
        exposures=tuple(exposures),
        trades=tuple(trades),
        risk_denials=tuple(sorted((str(code), int(n)) for code, n in risk_denials.items())),
        benchmark_curve=_frozen(benchmark_curve),
        strategy=compute_metrics(equity_curve, interval_s, trades, exposures, slippage, pairing),
        benchmark=compute_metrics(benchmark_curve, interval_s, benchmark_trades, benchmark_exposures),
        round_trips=pairing.trips,
        open_positions=pairing.open_positions,
        pairs=tuple(per_pair(pairing.trips, ctx.symbols).items()),
        best_trade=best,
        worst_trade=worst,
        monthly=tuple((month, value, bench_months.get(month)) for month, value in strategy_months),
        timeline=timeline,
    )


@dataclass(frozen=True, slots=True)
class Benchmark:
    """Buy-and-hold equal weight: its curve, its (initial) buys and its exposure per point."""

    curve: Sequence[tuple[datetime, Decimal]]  # a tuple, or a TimeSeries (streamed runs)
    trades: tuple[TradeRecord, ...]
    exposures: tuple[Decimal, ...]


def buy_and_hold(
    candles: Mapping[str, Sequence[Candle]],
    initial_equity: Decimal,
    times: Sequence[datetime] | None = None,
    fee_bps: Decimal = _ZERO,
    tax_ratio: Decimal = _ZERO,
    slippage_bps: Decimal = _ZERO,
) -> Benchmark:
    """Equal-weight buy and hold of every symbol in ``candles``, valued at candle closes.

    A close is known at the candle's ``close_time``. The benchmark buys once, at the first moment
    every symbol has a closed candle (``initial_equity / N`` each, less its costs), and then holds.
    Costs per symbol, each a ``TradeRecord`` field: ``fee = budget * fee_bps / 10000``,
    ``tax = fee * tax_ratio``, ``slippage = budget * slippage_bps / 10000``; the quantity is
    ``(budget - fee - tax - slippage) / close``.
    It is valued at each of ``times`` (default: every close time from the purchase on) with the
    latest close known at that time; before the purchase it is all cash.
    """
    if not candles:
        raise ValueError("buy_and_hold needs at least one symbol")
    symbols = sorted(candles)
    series: dict[str, tuple[list[datetime], list[Decimal]]] = {}
    for symbol in symbols:
        bars = sorted(candles[symbol], key=lambda c: c.open_time)
        if not bars:
            raise ValueError(f"no candles for {symbol}")
        series[symbol] = ([c.close_time for c in bars], [c.close for c in bars])
    start = max(close_times[0] for close_times, _ in series.values())
    if times is None:
        times = sorted({t for close_times, _ in series.values() for t in close_times if t >= start})
    with localcontext(_CALC):
        budget = initial_equity / Decimal(len(symbols))
        fee = budget * fee_bps / Decimal(10000)
        tax = fee * tax_ratio
        slip = budget * slippage_bps / Decimal(10000)
        quantities: dict[str, Decimal] = {}
        trades: list[TradeRecord] = []
        for symbol in symbols:
            price = _close_at(series[symbol], start)
            quantities[symbol] = (budget - fee - tax - slip) / price
            trades.append(TradeRecord(start, symbol, Side.BUY, quantities[symbol], price, fee, tax, slip))
        curve: list[tuple[datetime, Decimal]] = []
        exposures: list[Decimal] = []
        for when in times:
            if when < start:
                curve.append((when, initial_equity))
                exposures.append(_ZERO)
                continue
            held = sum((quantities[s] * _close_at(series[s], when) for s in symbols), _ZERO)
            curve.append((when, held))
            exposures.append(held)
    return Benchmark(tuple(curve), tuple(trades), tuple(exposures))


def _close_at(series: tuple[list[datetime], list[Decimal]], when: datetime) -> Decimal:
    """Latest close whose close time is <= ``when`` (close times sorted ascending)."""
    index = bisect_right(series[0], when)
    if index == 0:
        raise ValueError(f"no close known at {when.isoformat()}")
    return series[1][index - 1]


__all__ = [
    "REPORT_PLACES", "BacktestReport", "Benchmark", "DrawdownPeriod", "Metrics", "RunContext", "TradeLike",
    "TradeRecord", "bar_returns", "build_report", "buy_and_hold", "compute_metrics", "drawdowns",
    "equity_csv", "metrics_to_dict", "render_decimal", "report_to_dict", "report_to_json", "round_trips",
    "round_trips_csv", "trades_csv", "write_report",
]
