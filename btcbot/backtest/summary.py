"""The terminal summary of a backtest: the few lines a trader reads before opening report.html.

It states the risk stops explicitly (when, how long, whether the bot sat in cash), so a return
that was earned (or lost) before a drawdown tier parked the bot is never mistaken for a strategy
that kept trading.
"""

from __future__ import annotations

from decimal import Decimal

from btcbot.backtest.report import BacktestReport, Metrics
from btcbot.backtest.roundtrips import RoundTrip
from btcbot.backtest.timeline import describe_stop

MAX_STOP_LINES = 5


def _pct(value: Decimal | None, places: int = 2) -> str:
    return "n/a" if value is None else f"{value * 100:.{places}f}%"


def _num(value: Decimal | None, places: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{places}f}"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    return f"{seconds / 3600:.1f}h"


def _costs(name: str, m: Metrics) -> str:
    return (f"{name} fees {_num(m.fees)} + taxes {_num(m.taxes)} + slippage {_num(m.slippage)} "
            f"= {_num(m.costs)}")


def _trip(trip: RoundTrip | None) -> str:
    if trip is None:
        return "n/a"
    return f"{trip.pnl:+,.2f} ({trip.symbol}, {_pct(trip.return_)}, closed {trip.exit_time:%Y-%m-%d})"


def pair_table(report: BacktestReport) -> list[str]:
    """Per-pair rows: trades, win rate, average and total profit, average duration."""
    header = f"{'pair':<10} {'trades':>6} {'win rate':>9} {'avg profit':>12} {'avg %':>8} {'total profit':>14} {'avg dur':>8}"
    rows = [header]
    for symbol, s in report.pairs:
        rows.append(
            f"{symbol:<10} {s.trips:>6} {_pct(s.win_rate, 1):>9} {_num(s.avg_profit):>12} "
            f"{_pct(s.avg_return):>8} {_num(s.total_profit):>14} {_duration(s.avg_duration_s):>8}"
        )
    return rows


def summary_lines(report: BacktestReport, quote: str = "TRY") -> list[str]:
    """Everything after the headline line, in reading order."""
    m, b = report.strategy, report.benchmark
    lines = [
        f"costs: {_costs('strategy', m)}; {_costs('buy-and-hold', b)} ({quote})",
        f"round trips {m.round_trips}, win rate {_pct(m.win_rate, 1)}, profit factor {_num(m.profit_factor)}, "
        f"expectancy {_num(m.expectancy)} {quote}/trade, longest losing streak {m.longest_losing_streak}",
        f"best trade {_trip(report.best_trade)}; worst trade {_trip(report.worst_trade)}",
    ]
    if m.max_drawdown_peak is not None and m.max_drawdown_trough is not None:
        recovered = (f"recovered {m.max_drawdown_recovery:%Y-%m-%d %H:%M}" if m.max_drawdown_recovery
                     else "not recovered by the end")
        lines.append(f"max drawdown {_pct(m.max_drawdown)}: peak {m.max_drawdown_peak:%Y-%m-%d %H:%M}, "
                     f"trough {m.max_drawdown_trough:%Y-%m-%d %H:%M}, {recovered}; "
                     f"Calmar {_num(m.calmar)}, Sharpe {_num(m.sharpe_daily)} daily ({_num(m.sharpe)} per bar), "
                     f"Sortino {_num(m.sortino_daily)} daily ({_num(m.sortino)} per bar)")
    lines.extend(pair_table(report))
    stops = report.timeline.stops if report.timeline else ()
    if not stops:
        lines.append("risk stops: none (no risk limit kept the bot out of the market)")
    else:
        tiers = report.timeline.tiers if report.timeline else ()
        longest = sorted(stops, key=lambda s: (-s.duration_s, s.start))[:MAX_STOP_LINES]
        for stop in sorted(longest, key=lambda s: s.start):
            lines.append(f"risk stop: {describe_stop(stop, tiers)}")
        if len(stops) > len(longest):
            lines.append(f"risk stops: {len(stops) - len(longest)} shorter ones not shown (report.json risk_stops)")
    if report.open_positions:
        held = ", ".join(
            f"{p.symbol} {p.quantity.normalize():f} (value {_num(p.value)}, unrealized {_num(p.unrealized_pnl)})"
            for p in report.open_positions
        )
        lines.append(f"open at the end: {held}")
    else:
        lines.append("open at the end: none")
    return lines
