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
* time in market = share of bars whose exposure (quote value of held coins) is > 0; average
  exposure = mean of ``exposure_t / E_t``.
* trades = number of fills. Win rate is per round trip, FIFO matched per symbol: every SELL fill
  that closes some earlier bought quantity is one round trip; its PnL is
  ``sum(matched_qty * (sell_unit - buy_unit))`` where a unit price includes that fill's fee and
  tax spread over its quantity (buy: ``price + (fee+tax)/qty``, sell: ``price - (fee+tax)/qty``).
  A round trip with PnL > 0 is a win; sold quantity with no earlier buy is ignored.
* turnover = ``sum(|qty * price|) / mean(E)``: how many times the average equity was traded.

Every computation runs in one fixed decimal context (``_CALC``) so results never depend on the
caller's context; every rendered number goes through :func:`render_decimal` (the only rounding).
"""

from __future__ import annotations

import csv
import io
import json
from bisect import bisect_right
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path
from typing import Protocol

from btcbot.domain.enums import Side
from btcbot.domain.market import Candle

SECONDS_PER_YEAR = 365 * 86400
MIN_CAGR_DAYS = 30
REPORT_PLACES = 8
_CALC = Context(prec=34, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)
_ONE = Decimal(1)

EquityCurve = Sequence[tuple[datetime, Decimal]]


class TradeLike(Protocol):
    """What the report reads from a fill; ``domain.exchange_models.Fill`` satisfies it."""

    @property
    def timestamp(self) -> datetime: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def fee(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...


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


@dataclass(frozen=True, slots=True)
class BacktestReport:
    interval_s: int
    equity_curve: tuple[tuple[datetime, Decimal], ...]
    exposures: tuple[Decimal, ...]
    trades: tuple[TradeLike, ...]
    risk_denials: tuple[tuple[str, int], ...]
    benchmark_curve: tuple[tuple[datetime, Decimal], ...]
    strategy: Metrics
    benchmark: Metrics


def drawdowns(values: Sequence[Decimal]) -> list[Decimal]:
    """``(peak_t - E_t) / peak_t`` per point (0 while the running peak is not positive)."""
    out: list[Decimal] = []
    peak: Decimal | None = None
    with localcontext(_CALC):
        for value in values:
            peak = value if peak is None or value > peak else peak
            out.append((peak - value) / peak if peak > 0 else _ZERO)
    return out


def bar_returns(values: Sequence[Decimal]) -> list[Decimal]:
    """Simple returns between consecutive points; a step from a non-positive value counts as 0."""
    with localcontext(_CALC):
        return [(b / a - 1) if a > 0 else _ZERO for a, b in zip(values, values[1:], strict=False)]


def _sharpe_sortino(returns: Sequence[Decimal], interval_s: int) -> tuple[Decimal | None, Decimal | None]:
    if len(returns) < 2:
        return None, None
    with localcontext(_CALC):
        n = Decimal(len(returns))
        mean = sum(returns, _ZERO) / n
        annual = (Decimal(SECONDS_PER_YEAR) / Decimal(interval_s)).sqrt()
        variance = sum(((r - mean) ** 2 for r in returns), _ZERO) / (n - 1)
        sharpe = mean / variance.sqrt() * annual if variance > 0 else None
        downside = sum((min(r, _ZERO) ** 2 for r in returns), _ZERO) / n
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
    lots: dict[str, deque[list[Decimal]]] = {}
    count = wins = 0
    with localcontext(_CALC):
        for trade in trades:
            if trade.quantity <= 0:
                continue
            costs_per_unit = (trade.fee + trade.tax) / trade.quantity
            queue = lots.setdefault(trade.symbol, deque())
            if trade.side is Side.BUY:
                queue.append([trade.quantity, trade.price + costs_per_unit])
                continue
            remaining, pnl, matched = trade.quantity, _ZERO, _ZERO
            sell_unit = trade.price - costs_per_unit
            while remaining > 0 and queue:
                lot = queue[0]
                take = min(remaining, lot[0])
                pnl += take * (sell_unit - lot[1])
                matched += take
                remaining -= take
                lot[0] -= take
                if lot[0] == 0:
                    queue.popleft()
            if matched > 0:
                count += 1
                wins += 1 if pnl > 0 else 0
    return count, wins


def compute_metrics(
    curve: EquityCurve,
    interval_s: int,
    trades: Sequence[TradeLike] = (),
    exposures: Sequence[Decimal] | None = None,
) -> Metrics:
    """Metrics of one curve. ``exposures`` (quote value held, per point) must align with ``curve``."""
    if not curve:
        raise ValueError("equity curve is empty")
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    if exposures is not None and len(exposures) != len(curve):
        raise ValueError(f"exposures has {len(exposures)} points, equity curve {len(curve)}")
    values = [equity for _, equity in curve]
    sharpe, sortino = _sharpe_sortino(bar_returns(values), interval_s)
    trips, wins = round_trips(trades)
    with localcontext(_CALC):
        n = Decimal(len(values))
        mean_equity = sum(values, _ZERO) / n
        held = list(exposures) if exposures is not None else [_ZERO] * len(values)
        shares = [e / v for e, v in zip(held, values, strict=True) if v > 0]
        traded = sum((abs(t.quantity * t.price) for t in trades), _ZERO)
        return Metrics(
            start_equity=values[0],
            end_equity=values[-1],
            total_return=values[-1] / values[0] - 1 if values[0] > 0 else _ZERO,
            cagr=_cagr(curve),
            max_drawdown=max(drawdowns(values)),
            sharpe=sharpe,
            sortino=sortino,
            time_in_market=Decimal(sum(1 for e in held if e > 0)) / n,
            avg_exposure=sum(shares, _ZERO) / Decimal(len(shares)) if shares else _ZERO,
            trades=len(trades),
            round_trips=trips,
            wins=wins,
            win_rate=Decimal(wins) / Decimal(trips) if trips else None,
            fees=sum((t.fee for t in trades), _ZERO),
            taxes=sum((t.tax for t in trades), _ZERO),
            turnover=traded / mean_equity if mean_equity > 0 else _ZERO,
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
) -> BacktestReport:
    """Assemble the report; the benchmark usually comes from :func:`buy_and_hold`."""
    return BacktestReport(
        interval_s=interval_s,
        equity_curve=tuple(equity_curve),
        exposures=tuple(exposures),
        trades=tuple(trades),
        risk_denials=tuple(sorted((str(code), int(n)) for code, n in risk_denials.items())),
        benchmark_curve=tuple(benchmark_curve),
        strategy=compute_metrics(equity_curve, interval_s, trades, exposures),
        benchmark=compute_metrics(benchmark_curve, interval_s, benchmark_trades, benchmark_exposures),
    )


@dataclass(frozen=True, slots=True)
class Benchmark:
    """Buy-and-hold equal weight: its curve, its (initial) buys and its exposure per point."""

    curve: tuple[tuple[datetime, Decimal], ...]
    trades: tuple[TradeRecord, ...]
    exposures: tuple[Decimal, ...]


def buy_and_hold(
    candles: Mapping[str, Sequence[Candle]],
    initial_equity: Decimal,
    times: Sequence[datetime] | None = None,
    fee_bps: Decimal = _ZERO,
) -> Benchmark:
    """Equal-weight buy and hold of every symbol in ``candles``, valued at candle closes.

    A close is known at the candle's ``close_time``. The benchmark buys once, at the first moment
    every symbol has a closed candle (``initial_equity / N`` each, less ``fee_bps``), and then holds.
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
        quantities: dict[str, Decimal] = {}
        trades: list[TradeRecord] = []
        for symbol in symbols:
            price = _close_at(series[symbol], start)
            quantities[symbol] = (budget - fee) / price
            trades.append(TradeRecord(start, symbol, Side.BUY, quantities[symbol], price, fee))
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


# ---------------------------------------------------------------- rendering (deterministic)


def render_decimal(value: Decimal | None, places: int = REPORT_PLACES) -> str | None:
    """The one rounding of the report: ROUND_HALF_EVEN to ``places`` decimals, no exponent, no -0."""
    if value is None:
        return None
    # Enough digits for any magnitude, so quantize never fails on a large equity or ratio.
    context = Context(prec=max(34, value.adjusted() + places + 2), rounding=ROUND_HALF_EVEN)
    with localcontext(context):
        quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        if quantized.is_zero():
            quantized = abs(quantized)
    return f"{quantized:f}"


def _time(value: datetime) -> str:
    return value.isoformat()


def metrics_to_dict(metrics: Metrics) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in Metrics.__slots__:
        value = getattr(metrics, name)
        out[name] = value if isinstance(value, int) else render_decimal(value)
    return out


def report_to_dict(report: BacktestReport) -> dict[str, object]:
    curve = report.equity_curve
    return {
        "interval_s": report.interval_s,
        "bars": len(curve),
        "start": _time(curve[0][0]) if curve else None,
        "end": _time(curve[-1][0]) if curve else None,
        "strategy": metrics_to_dict(report.strategy),
        "benchmark": metrics_to_dict(report.benchmark),
        "risk_denials": dict(report.risk_denials),
        "risk_denials_total": sum(n for _, n in report.risk_denials),
    }


def report_to_json(report: BacktestReport) -> str:
    """Sorted keys, two-space indent, trailing newline: same report -> same bytes."""
    return json.dumps(report_to_dict(report), sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def equity_csv(report: BacktestReport) -> str:
    """One row per bar: time, equity, benchmark (blank if absent at that time), drawdown, exposure."""
    bench = dict(report.benchmark_curve)
    dds = drawdowns([e for _, e in report.equity_curve])
    rows = []
    for i, (when, equity) in enumerate(report.equity_curve):
        exposure = report.exposures[i] if i < len(report.exposures) else None
        rows.append(
            [
                _time(when),
                render_decimal(equity) or "",
                render_decimal(bench.get(when)) or "",
                render_decimal(dds[i]) or "",
                render_decimal(exposure) or "",
            ]
        )
    return _csv(["time", "equity", "benchmark", "drawdown", "exposure"], rows)


def trades_csv(report: BacktestReport) -> str:
    rows = [
        [
            _time(t.timestamp),
            t.symbol,
            str(t.side),
            render_decimal(t.quantity) or "",
            render_decimal(t.price) or "",
            render_decimal(t.quantity * t.price) or "",
            render_decimal(t.fee) or "",
            render_decimal(t.tax) or "",
        ]
        for t in report.trades
    ]
    return _csv(["time", "symbol", "side", "quantity", "price", "notional", "fee", "tax"], rows)


def write_report(report: BacktestReport, directory: Path) -> dict[str, Path]:
    """Write ``report.json``, ``equity.csv`` and ``trades.csv`` (UTF-8, ``\\n``) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "report.json": report_to_json(report),
        "equity.csv": equity_csv(report),
        "trades.csv": trades_csv(report),
    }
    written: dict[str, Path] = {}
    for name, text in files.items():
        path = directory / name
        path.write_bytes(text.encode("utf-8"))
        written[name] = path
    return written
