"""The HTML tables of ``report.html`` (standard library only; every text is escaped).

Numbers are the report's own Decimals formatted for reading (2 decimals for money, % for ratios);
the exact values are in ``report.json``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.backtest.report import BacktestReport, Metrics
from btcbot.backtest.roundtrips import RoundTrip
from btcbot.backtest.timeline import describe_stop

Cell = str | int | Decimal | datetime | None


def text(value: object) -> str:
    """Escaped text; ``://`` is written as an entity so no text can look like a URL reference."""
    return html.escape(str(value), quote=True).replace("://", ":&#47;&#47;")


def money(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def pct(value: Decimal | None, places: int = 2) -> str:
    return "n/a" if value is None else f"{value * 100:.{places}f}%"


def when(value: datetime | None) -> str:
    return "n/a" if value is None else f"{value:%Y-%m-%d %H:%M}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / 3600:.1f} hours"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], table_id: str) -> str:
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{text(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">none</td></tr>'
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def metrics_table(report: BacktestReport) -> str:
    s, b = report.strategy, report.benchmark
    rows: list[tuple[str, str, str]] = []

    def add(label: str, fmt: Callable[[Any], str], name: str) -> None:
        def cell(m: Metrics) -> str:
            value = getattr(m, name)
            return str(value) if isinstance(value, int) else fmt(value)

        rows.append((label, cell(s), cell(b)))

    add("start equity", money, "start_equity")
    add("end equity", money, "end_equity")
    add("total return", pct, "total_return")
    add("CAGR", pct, "cagr")
    add("max drawdown", pct, "max_drawdown")
    add("drawdown peak", when, "max_drawdown_peak")
    add("drawdown trough", when, "max_drawdown_trough")
    add("drawdown recovery", lambda v: "not recovered" if v is None else when(v), "max_drawdown_recovery")
    add("Sharpe (daily returns)", money, "sharpe_daily")
    add("Sortino (daily returns)", money, "sortino_daily")
    add("Sharpe (per bar)", money, "sharpe")
    add("Sortino (per bar)", money, "sortino")
    add("Calmar", money, "calmar")
    add("time in market", pct, "time_in_market")
    add("average exposure", pct, "avg_exposure")
    add("fills", str, "trades")
    add("round trips", str, "round_trips")
    add("win rate", pct, "win_rate")
    add("profit factor", money, "profit_factor")
    add("expectancy (per round trip)", money, "expectancy")
    add("longest losing streak", str, "longest_losing_streak")
    add("fees", money, "fees")
    add("taxes", money, "taxes")
    add("slippage", money, "slippage")
    add("costs (fees + taxes + slippage)", money, "costs")
    add("turnover", money, "turnover")
    return table(["metric", "strategy", "buy and hold"], rows, "metrics-table")


def pairs_table(report: BacktestReport) -> str:
    rows = [
        (symbol, str(st.trips), pct(st.win_rate, 1), money(st.avg_profit), pct(st.avg_return),
         money(st.total_profit), money(st.profit_factor), duration(st.avg_duration_s))
        for symbol, st in report.pairs
    ]
    headers = ["pair", "trades", "win rate", "avg profit", "avg return", "total profit", "profit factor",
               "avg duration"]
    return table(headers, rows, "pairs-table")


def _trip_row(label: str, trip: RoundTrip | None) -> tuple[str, ...]:
    if trip is None:
        return (label, "n/a", "", "", "", "", "")
    return (label, trip.symbol, when(trip.entry_time), when(trip.exit_time), money(trip.pnl), pct(trip.return_),
            duration(trip.duration_s))


def best_worst_table(report: BacktestReport) -> str:
    rows = [_trip_row("best", report.best_trade), _trip_row("worst", report.worst_trade)]
    return table(["", "pair", "entry", "exit", "profit", "return", "duration"], rows, "best-worst-table")


def monthly_table(report: BacktestReport) -> str:
    rows = [(month, pct(s), pct(b)) for month, s, b in report.monthly]
    return table(["month (UTC)", "strategy", "buy and hold"], rows, "monthly-table")


def open_positions_table(report: BacktestReport) -> str:
    rows = [
        (p.symbol, f"{p.quantity.normalize():f}", when(p.entry_time), money(p.average_cost), money(p.last_price),
         money(p.value), money(p.unrealized_pnl))
        for p in report.open_positions
    ]
    headers = ["pair", "quantity", "held since", "average cost", "last price", "value", "unrealized profit"]
    return table(headers, rows, "open-positions-table")


def risk_stops_table(report: BacktestReport) -> str:
    timeline = report.timeline
    stops = timeline.stops if timeline else ()
    tiers = timeline.tiers if timeline else ()
    rows = [
        (when(s.start), when(s.end), duration(s.duration_s), ", ".join(str(x) for x in s.states),
         ", ".join(s.reasons) or "-", str(s.tier), pct(s.in_cash_share, 0), describe_stop(s, tiers))
        for s in stops
    ]
    headers = ["from", "to", "duration", "state", "reasons", "deepest tier", "in cash", "what it meant"]
    return table(headers, rows, "risk-stops-table")


def timeline_table(report: BacktestReport) -> str:
    segments = report.timeline.segments if report.timeline else ()
    rows = [
        (when(s.start), when(s.end), duration(s.duration_s), str(s.state), str(s.tier), f"{s.m_dd}",
         ", ".join(s.reasons) or "-", f"{s.cash_bars} / {s.bars}")
        for s in segments
    ]
    headers = ["from", "to", "duration", "state", "drawdown tier", "size multiplier", "reasons", "bars in cash"]
    return table(headers, rows, "timeline-table")


def denials_table(report: BacktestReport) -> str:
    return table(["risk denial code", "count"], [(code, str(n)) for code, n in report.risk_denials], "denials-table")
