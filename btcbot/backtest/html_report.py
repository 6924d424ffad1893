"""``report.html``: one self-contained page with interactive plotly charts and the report's tables.

* Opens offline: plotly.js is embedded inline (no CDN, no network). The bundle and plotly's
  figure JSON contain URL strings (SVG namespaces, map tile servers, license links); each
  ``http://``/``https://`` inside the page's scripts is written ``http:\\/\\/`` (the same string to
  JavaScript: ``\\/`` is ``/`` in a string literal), so the file holds no URL at all and cannot
  reference a remote resource. Text outside scripts is HTML-escaped with ``://`` as entities.
* Charts, each with a title, a legend and a UTC time axis: equity vs buy-and-hold (risk stops
  shaded), drawdown of both, and per symbol the close with the strategy's buys and sells marked.
  Long curves are thinned to at most ``MAX_POINTS`` points per line, keeping each bucket's
  lowest and highest value so peaks and troughs survive.
* Deterministic: fixed element ids, no timestamps; the same report gives the same bytes.
* plotly is an optional extra (``pip install 'btcbot[charts]'``) imported only here, inside
  :func:`render_html`: ``once`` and ``run`` never load it. Without it
  :class:`ChartsUnavailable` is raised and the caller keeps the JSON/CSV report.

Floats appear only here, for drawing; every number in a table comes from the Decimal report.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from btcbot.backtest import html_tables as t
from btcbot.backtest.report import BacktestReport, TradeLike
from btcbot.backtest.roundtrips import CALC, ZERO
from btcbot.backtest.summary import summary_lines
from btcbot.domain.enums import Side

MAX_POINTS = 4000
INSTALL_HINT = "install the charts extra: pip install 'btcbot[charts]' (./run.sh installs it)"
PricePoints = Sequence[tuple[datetime, Decimal]]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.stop{background:#fff3cd;border:1px solid #e0c36c;padding:8px;margin:4px 0}
pre{background:#f8f8f8;padding:8px;overflow-x:auto}
"""


class ChartsUnavailable(RuntimeError):
    """plotly is not installed: the HTML report is skipped; install the ``charts`` extra."""


def _plotly() -> tuple[Any, Any]:
    try:
        go = importlib.import_module("plotly.graph_objects")
        offline = importlib.import_module("plotly.offline")
    except ImportError as exc:
        raise ChartsUnavailable(f"report.html needs plotly: {INSTALL_HINT}") from exc
    return go, offline


def neutralize_urls(script: str) -> str:
    """Write every ``http(s)://`` in JavaScript as ``http(s):\\/\\/`` (same string at run time)."""
    return script.replace("https://", "https:\\/\\/").replace("http://", "http:\\/\\/")


def _x(value: datetime) -> str:
    """Plotly's date format, in UTC (plotly.js does not read UTC offsets)."""
    return f"{value:%Y-%m-%d %H:%M:%S}"


def thin(points: Sequence[tuple[datetime, float]], limit: int = MAX_POINTS) -> list[tuple[datetime, float]]:
    """At most ~``limit`` points: per bucket the lowest and highest, in time order; ends kept."""
    return thin_stream(iter(points), len(points), limit)


def thin_stream(points: Iterator[tuple[datetime, float]], count: int,
                limit: int = MAX_POINTS) -> list[tuple[datetime, float]]:
    """:func:`thin` over ``count`` points read once (never all held): buckets of
    ``ceil(2 * count / limit)`` consecutive points, each giving its first lowest and first
    highest point in time order; the first and last points are always kept."""
    if count <= limit:
        return list(points)
    size = -(-count * 2 // limit)  # two points per bucket
    out: list[tuple[datetime, float]] = []
    first: tuple[datetime, float] | None = None
    last: tuple[datetime, float] | None = None
    low = high = None
    low_at = high_at = 0
    for index, point in enumerate(points):
        if first is None:
            first = point
        last = point
        offset = index % size
        if offset == 0:
            low, high, low_at, high_at = point, point, 0, 0
        else:
            assert low is not None and high is not None
            if point[1] < low[1]:
                low, low_at = point, offset
            if point[1] > high[1]:
                high, high_at = point, offset
        if offset == size - 1 or index == count - 1:
            assert low is not None and high is not None
            out.extend([low] if low_at == high_at else ([low, high] if low_at < high_at else [high, low]))
    if first is None or last is None:
        return out
    if out[-1] != last:
        out.append(last)
    if out[0] != first:
        out.insert(0, first)
    return out


def _line(go: Any, points: Sequence[tuple[datetime, float]], name: str, **style: Any) -> Any:
    return _trace(go, thin(points), name, **style)


def _trace(go: Any, kept: Sequence[tuple[datetime, float]], name: str, **style: Any) -> Any:
    return go.Scatter(x=[_x(w) for w, _ in kept], y=[v for _, v in kept], name=name, mode="lines", **style)


def _curve_points(curve: Sequence[tuple[datetime, Decimal]]) -> Iterator[tuple[datetime, float]]:
    return ((w, float(v)) for w, v in curve)


def _drawdown_points(curve: Sequence[tuple[datetime, Decimal]]) -> Iterator[tuple[datetime, float]]:
    """``(time, -drawdown %)`` per point, drawdown as :func:`~btcbot.backtest.analysis.drawdowns`."""
    peak: Decimal | None = None
    for when, value in curve:
        with localcontext(CALC):
            peak = value if peak is None or value > peak else peak
            dd = (peak - value) / peak if peak > 0 else ZERO
        yield when, -float(dd) * 100


def _layout(title: str, y_title: str, height: int = 460) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "height": height,
        "template": "plotly_white",
        "xaxis": {"title": {"text": "time (UTC)"}, "type": "date"},
        "yaxis": {"title": {"text": y_title}},
        "legend": {"orientation": "h", "y": -0.2},
        "margin": {"l": 70, "r": 20, "t": 60, "b": 40},
        "hovermode": "x unified",
    }


def _div(fig: Any, div_id: str) -> str:
    markup = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, default_height="460px",
                         config={"displaylogo": False, "responsive": True})
    return neutralize_urls(str(markup))


def equity_figure(go: Any, report: BacktestReport, quote: str) -> Any:
    fig = go.Figure()
    bench, curve = report.benchmark_curve, report.equity_curve
    fig.add_trace(_trace(go, thin_stream(_curve_points(bench), len(bench)), "buy and hold (equal weight)",
                         line={"color": "#ff7f0e"}))
    fig.add_trace(_trace(go, thin_stream(_curve_points(curve), len(curve)), "strategy", line={"color": "#1f77b4"}))
    stops = report.timeline.stops if report.timeline else ()
    for stop in stops:
        fig.add_vrect(x0=_x(stop.start), x1=_x(stop.end), fillcolor="#e0c36c", opacity=0.25, line_width=0)
    if stops:  # a legend entry for the shaded spans
        fig.add_trace(go.Scatter(x=[_x(stops[0].start)], y=[None], name="risk stop (no new risk)", mode="markers",
                                 marker={"symbol": "square", "size": 12, "color": "#e0c36c"}))
    fig.update_layout(**_layout("Equity: strategy vs buy and hold", f"equity ({quote})"))
    return fig


def drawdown_figure(go: Any, report: BacktestReport) -> Any:
    fig = go.Figure()
    for name, curve, color in (("strategy", report.equity_curve, "#d62728"),
                               ("buy and hold", report.benchmark_curve, "#ff7f0e")):
        fill = "tozeroy" if name == "strategy" else None
        kept = thin_stream(_drawdown_points(curve), len(curve))
        fig.add_trace(_trace(go, kept, f"{name} drawdown", line={"color": color}, fill=fill))
    fig.update_layout(**_layout("Drawdown from the running peak", "drawdown (%)", height=360))
    return fig


def price_figure(go: Any, symbol: str, prices: PricePoints, trades: Sequence[TradeLike], quote: str) -> Any:
    fig = go.Figure()
    fig.add_trace(_line(go, [(w, float(v)) for w, v in prices], f"{symbol} close", line={"color": "#555"}))
    for side, name, marker in (
        (Side.BUY, "buy", {"symbol": "triangle-up", "size": 10, "color": "#2ca02c"}),
        (Side.SELL, "sell", {"symbol": "triangle-down", "size": 10, "color": "#d62728"}),
    ):
        fills = [f for f in trades if f.symbol == symbol and f.side is side]
        fig.add_trace(go.Scatter(
            x=[_x(f.timestamp) for f in fills], y=[float(f.price) for f in fills], name=name, mode="markers",
            marker=marker, text=[f"{name} {f.quantity.normalize():f} @ {f.price:f}, fee {f.fee:f}" for f in fills],
            hoverinfo="text+x",
        ))
    fig.update_layout(**_layout(f"{symbol}: price with the strategy's trades", f"price ({quote})", height=400))
    return fig


def _section(section_id: str, title: str, *parts: str) -> str:
    return f'<section id="{section_id}"><h2>{t.text(title)}</h2>{"".join(parts)}</section>\n'


def render_html(
    report: BacktestReport,
    prices: Mapping[str, PricePoints],
    title: str,
    quote: str = "TRY",
    run_lines: Sequence[str] = (),
) -> str:
    """The whole page as text (raises :class:`ChartsUnavailable` without plotly)."""
    go, offline = _plotly()
    bundle = neutralize_urls(str(offline.get_plotlyjs()))
    stops_text = [line for line in summary_lines(report, quote) if line.startswith("risk stop")]
    price_divs = [
        _div(price_figure(go, symbol, prices[symbol], report.trades, quote), f"price-{index}")
        for index, symbol in enumerate(sorted(prices))
    ]
    body = "".join([
        _section("summary", "Summary",
                 "".join(f'<p class="stop">{t.text(line)}</p>' for line in stops_text),
                 "<pre>" + t.text("\n".join(run_lines)) + "</pre>"),
        _section("metrics", "Strategy vs buy and hold", t.metrics_table(report)),
        _section("equity", "Equity", _div(equity_figure(go, report, quote), "equity-chart")),
        _section("drawdown", "Drawdown", _div(drawdown_figure(go, report), "drawdown-chart")),
        _section("prices", "Prices and trades", *price_divs),
        _section("pairs", "Per pair (round trips, FIFO)", t.pairs_table(report)),
        _section("best-worst", "Best and worst trade", t.best_worst_table(report)),
        _section("monthly", "Monthly returns", t.monthly_table(report)),
        _section("risk-stops", "Risk stops (no new risk allowed)", t.risk_stops_table(report)),
        _section("timeline", "Trading-state timeline", t.timeline_table(report)),
        _section("open-positions", "Positions still open at the end", t.open_positions_table(report)),
        _section("denials", "Risk denials", t.denials_table(report)),
    ])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{t.text(title)}</title>\n<style>{_STYLE}</style>\n"
        '<script type="text/javascript">/* plotly.js, embedded so this file works offline */\n'
        f"{bundle}\n</script>\n</head>\n<body>\n<h1>{t.text(title)}</h1>\n{body}</body>\n</html>\n"
    )


def write_html_report(
    path: Path,
    report: BacktestReport,
    prices: Mapping[str, PricePoints],
    title: str,
    quote: str = "TRY",
    run_lines: Sequence[str] = (),
) -> Path:
    """Write ``report.html`` (UTF-8); raises :class:`ChartsUnavailable` without plotly."""
    page = render_html(report, prices, title, quote, run_lines)
    path.write_bytes(page.encode("utf-8"))
    return path
