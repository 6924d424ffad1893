"""Rendering of a :class:`~btcbot.backtest.report.BacktestReport`: report.json and the CSV files.

Deterministic: sorted JSON keys, two-space indent, trailing newline; CSV with ``\n`` line ends;
every number through :func:`render_decimal` (the report's one rounding); times ISO 8601.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from btcbot.backtest.analysis import TradeStats
from btcbot.backtest.roundtrips import CALC, ZERO, OpenPosition, RoundTrip
from btcbot.backtest.series import TimeSeries, times_of
from btcbot.backtest.timeline import RiskStop, Segment, Timeline

if TYPE_CHECKING:
    from btcbot.backtest.report import BacktestReport, Metrics

REPORT_PLACES = 8


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


def _value(value: object) -> object:
    """int as is, Decimal rendered, datetime as ISO 8601, None as null."""
    if isinstance(value, Decimal):
        return render_decimal(value)
    if isinstance(value, datetime):
        return _time(value)
    return value


def _fields(item: object) -> dict[str, object]:
    assert dataclasses.is_dataclass(item)
    return {f.name: _value(getattr(item, f.name)) for f in dataclasses.fields(item)}


def metrics_to_dict(metrics: Metrics) -> dict[str, object]:
    return _fields(metrics)


def stats_to_dict(stats: TradeStats) -> dict[str, object]:
    return _fields(stats)


def trip_to_dict(trip: RoundTrip | None) -> dict[str, object] | None:
    if trip is None:
        return None
    out = _fields(trip)
    out["return"] = render_decimal(trip.return_)
    out["duration_s"] = trip.duration_s
    return out


def position_to_dict(position: OpenPosition) -> dict[str, object]:
    out = _fields(position)
    out["average_cost"] = render_decimal(position.average_cost)
    out["value"] = render_decimal(position.value)
    out["unrealized_pnl"] = render_decimal(position.unrealized_pnl)
    return out


def segment_to_dict(segment: Segment) -> dict[str, object]:
    out = _fields(segment)
    out["reasons"] = list(segment.reasons)
    out["duration_s"] = segment.duration_s
    return out


def stop_to_dict(stop: RiskStop) -> dict[str, object]:
    out = _fields(stop)
    out["states"] = [str(s) for s in stop.states]
    out["reasons"] = list(stop.reasons)
    out["duration_s"] = stop.duration_s
    out["in_cash_share"] = render_decimal(stop.in_cash_share)
    return out


def timeline_to_dict(timeline: Timeline | None) -> dict[str, object] | None:
    if timeline is None:
        return None
    return {
        "derived": timeline.derived,
        "drawdown_tiers": [render_decimal(t) for t in timeline.tiers],
        "segments": [segment_to_dict(s) for s in timeline.segments],
    }


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
        # ---- the trader's report (issue 12), additive
        "pairs": {symbol: stats_to_dict(stats) for symbol, stats in report.pairs},
        "best_trade": trip_to_dict(report.best_trade),
        "worst_trade": trip_to_dict(report.worst_trade),
        "open_positions": [position_to_dict(p) for p in report.open_positions],
        "monthly_returns": [
            {"month": month, "strategy": render_decimal(s), "benchmark": render_decimal(b)}
            for month, s, b in report.monthly
        ],
        "timeline": timeline_to_dict(report.timeline),
        "risk_stops": [stop_to_dict(s) for s in report.timeline.stops] if report.timeline else [],
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


EQUITY_HEADER = ("time", "equity", "benchmark", "drawdown", "exposure")


def _benchmark_at(report: BacktestReport) -> Iterator[Decimal | None]:
    """Per equity point, the benchmark value at the same time (None if absent): the last
    benchmark point with that time. A merge of the two time-sorted curves (no per-point dict)."""
    bench = report.benchmark_curve
    time_at: Callable[[int], datetime] = (
        bench.time_at if isinstance(bench, TimeSeries) else [when for when, _ in bench].__getitem__)
    n = len(bench)
    if any(time_at(i) > time_at(i + 1) for i in range(n - 1)):  # unsorted: look each time up
        lookup = dict(bench)
        for when in times_of(report.equity_curve):
            yield lookup.get(when)
        return
    j = 0
    for when in times_of(report.equity_curve):
        while j < n and time_at(j) < when:
            j += 1
        found: Decimal | None = None
        while j < n and time_at(j) == when:
            found = bench[j][1]
            j += 1
        if found is None and j > 0 and time_at(j - 1) == when:
            found = bench[j - 1][1]
        yield found


def equity_rows(report: BacktestReport) -> Iterator[list[str]]:
    """The rows of ``equity.csv``, one per bar, computed as they are written (constant memory):
    time, equity, benchmark (blank if absent at that time), drawdown (as :func:`drawdowns`), exposure."""
    peak: Decimal | None = None
    exposures = report.exposures
    benchmark = _benchmark_at(report)
    for i, (when, equity) in enumerate(report.equity_curve):
        with localcontext(CALC):
            peak = equity if peak is None or equity > peak else peak
            dd = (peak - equity) / peak if peak > 0 else ZERO
        exposure = exposures[i] if i < len(exposures) else None
        yield [
            _time(when),
            render_decimal(equity) or "",
            render_decimal(next(benchmark)) or "",
            render_decimal(dd) or "",
            render_decimal(exposure) or "",
        ]


def equity_csv(report: BacktestReport) -> str:
    """``equity.csv`` as one string (:func:`write_report` streams it to the file instead)."""
    buffer = io.StringIO()
    _write_equity_csv(report, buffer)
    return buffer.getvalue()


def _write_equity_csv(report: BacktestReport, handle: TextIO) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(EQUITY_HEADER)
    writer.writerows(equity_rows(report))


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


def round_trips_csv(report: BacktestReport) -> str:
    """One row per round trip, in exit order."""
    rows = [
        [
            _time(t.entry_time),
            _time(t.exit_time),
            t.symbol,
            render_decimal(t.quantity) or "",
            render_decimal(t.cost) or "",
            render_decimal(t.proceeds) or "",
            render_decimal(t.pnl) or "",
            render_decimal(t.return_) or "",
            str(t.duration_s),
        ]
        for t in report.round_trips
    ]
    header = ["entry_time", "exit_time", "symbol", "quantity", "cost", "proceeds", "pnl", "return", "duration_s"]
    return _csv(header, rows)


def write_report(report: BacktestReport, directory: Path) -> dict[str, Path]:
    """Write ``report.json``, ``equity.csv``, ``trades.csv`` and ``round_trips.csv`` (UTF-8, ``\\n``)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "report.json": report_to_json(report),
        "trades.csv": trades_csv(report),
        "round_trips.csv": round_trips_csv(report),
    }
    written: dict[str, Path] = {}
    for name, text in files.items():
        path = directory / name
        path.write_bytes(text.encode("utf-8"))
        written[name] = path
    # One row per bar: streamed to the file (a year of minutes would be ~40 MB of text at once).
    path = directory / "equity.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        _write_equity_csv(report, handle)
    written["equity.csv"] = path
    return dict(sorted(written.items()))
