"""The stdlib PNG chart: valid file structure, right size, decodable, the series actually drawn."""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.backtest.chart import (
    BENCHMARK,
    DRAWDOWN,
    DRAWDOWN_FILL,
    EQUITY,
    FRAME,
    LABEL,
    PNG_SIGNATURE,
    Canvas,
    ChartLayout,
    format_label,
    render_chart_png,
    text_size,
    write_chart,
)

D = Decimal
EQUITY_VALUES = [D(v) for v in ("100", "104", "101", "95", "99", "110", "108", "115")]
BENCH_VALUES = [D(v) for v in ("100", "101", "102", "100", "97", "99", "103", "104")]


def decode(png: bytes) -> tuple[int, int, list[bytes]]:
    """Minimal PNG reader for what encode_png writes: checks CRCs, returns width, height, rows."""
    assert png.startswith(PNG_SIGNATURE)
    pos, chunks = len(PNG_SIGNATURE), []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks.append((kind, data))
        pos += 12 + length
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color_type, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color_type) == (8, 2)
    raw = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    stride = 1 + width * 3
    assert len(raw) == height * stride
    rows = [raw[r * stride : (r + 1) * stride] for r in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter type None
    return width, height, [row[1:] for row in rows]


def count(rows: list[bytes], color: tuple[int, int, int]) -> int:
    target = bytes(color)
    return sum(1 for row in rows for i in range(0, len(row), 3) if row[i : i + 3] == target)


def test_png_structure_and_dimensions() -> None:
    png = render_chart_png(EQUITY_VALUES, BENCH_VALUES, ChartLayout(width=320, height=200))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (320, 200)
    width, height, rows = decode(png)
    assert (width, height) == (320, 200) and len(rows) == 200


def test_all_series_and_frames_are_drawn() -> None:
    _, _, rows = decode(render_chart_png(EQUITY_VALUES, BENCH_VALUES, ChartLayout(width=320, height=200)))
    for color in (EQUITY, BENCHMARK, DRAWDOWN, DRAWDOWN_FILL, FRAME):
        assert count(rows, color) > 0, color
    # the equity line spans the plot: at least one pixel per inner column of the top panel
    assert count(rows, EQUITY) >= 320 - 2 * 12 - 2


def test_equity_extremes_touch_the_panel_edges() -> None:
    layout = ChartLayout(width=200, height=160)
    _, _, rows = decode(render_chart_png(EQUITY_VALUES, (), layout))
    top_inner_row = rows[layout.margin + 1]
    assert bytes(EQUITY) in [top_inner_row[i : i + 3] for i in range(0, len(top_inner_row), 3)]
    assert count(rows, BENCHMARK) == 0


def test_bytes_are_deterministic(tmp_path: Path) -> None:
    a = write_chart(tmp_path / "a" / "chart.png", EQUITY_VALUES, BENCH_VALUES)
    b = write_chart(tmp_path / "b" / "chart.png", list(EQUITY_VALUES), list(BENCH_VALUES))
    assert a.read_bytes() == b.read_bytes()
    assert decode(a.read_bytes())[:2] == (800, 480)


@pytest.mark.parametrize("values", [[D(100)], [D(5), D(5), D(5)]])
def test_degenerate_curves_still_render(values: list[Decimal]) -> None:
    _, _, rows = decode(render_chart_png(values, (), ChartLayout(width=100, height=100)))
    assert count(rows, EQUITY) >= 1


def test_empty_curve_and_tiny_canvas_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        render_chart_png([])
    with pytest.raises(ValueError, match="too small"):
        ChartLayout(width=20, height=20)


def test_bresenham_line_includes_both_ends() -> None:
    canvas = Canvas(10, 10, (0, 0, 0))
    canvas.line(1, 8, 7, 2, (9, 9, 9))
    assert canvas.get(1, 8) == (9, 9, 9) and canvas.get(7, 2) == (9, 9, 9)
    assert sum(1 for x in range(10) for y in range(10) if canvas.get(x, y) == (9, 9, 9)) == 7


def test_labels_are_drawn_only_when_enabled() -> None:
    with_labels = decode(render_chart_png(EQUITY_VALUES, BENCH_VALUES, ChartLayout(width=320, height=200)))[2]
    without = decode(
        render_chart_png(EQUITY_VALUES, BENCH_VALUES, ChartLayout(width=320, height=200, labels=False))
    )[2]
    assert count(with_labels, LABEL) > 0
    assert count(without, LABEL) == 0


def test_font_renders_glyph_bitmaps() -> None:
    canvas = Canvas(12, 7, (255, 255, 255))
    canvas.text(1, 1, "-1", (0, 0, 0))
    drawn = {(x, y) for x in range(12) for y in range(7) if canvas.get(x, y) == (0, 0, 0)}
    minus = {(1, 3), (2, 3), (3, 3)}
    one = {(6, 1), (5, 2), (6, 2), (6, 3), (6, 4), (5, 5), (6, 5), (7, 5)}
    assert drawn == minus | one
    assert text_size("-1", 2) == (14, 10)


def test_label_number_format() -> None:
    assert format_label(D("109267.425"), 2) == "109267.42"  # half even
    assert format_label(D("-1.45"), 1) == "-1.4"


# ---------------------------------------------------------------- report.html (plotly, offline)

import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

from btcbot.backtest.html_report import (  # noqa: E402
    ChartsUnavailable,
    neutralize_urls,
    render_html,
    thin,
    write_html_report,
)
from btcbot.backtest.report import BacktestReport, RunContext, TradeRecord, build_report  # noqa: E402
from btcbot.domain.enums import Side, TradingState  # noqa: E402

T0 = datetime(2025, 9, 1, tzinfo=UTC)
SECTIONS = ["summary", "metrics", "equity", "drawdown", "prices", "pairs", "best-worst", "monthly", "risk-stops",
            "timeline", "open-positions", "denials"]


def html_report() -> tuple[BacktestReport, dict[str, list[tuple[datetime, Decimal]]]]:
    times = [T0 + timedelta(days=i) for i in range(8)]
    equity = list(zip(times, EQUITY_VALUES, strict=True))
    bench = list(zip(times, BENCH_VALUES, strict=True))
    trades = [TradeRecord(times[1], "BTCTRY", Side.BUY, D(1), D(100), D("0.1")),
              TradeRecord(times[5], "BTCTRY", Side.SELL, D(1), D(110), D("0.1"))]
    changes = [(times[0], TradingState.ACTIVE, ()), (times[3], TradingState.REDUCING, ("RISK_DAILY_LOSS_LIMIT",)),
               (times[4], TradingState.ACTIVE, ())]
    report = build_report(
        equity_curve=equity, interval_s=86400, trades=trades, exposures=[D(0)] * 8,
        risk_denials={"ALPHA_EDGE_BELOW_MINIMUM": 2}, benchmark_curve=bench,
        context=RunContext(symbols=("BTCTRY",), state_changes=changes),
    )
    prices = {"BTCTRY": [(t, D(100) + i) for i, t in enumerate(times)]}
    return report, prices


class Page(HTMLParser):
    """Collects section ids, h2 titles, element ids and every src/href attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.ids: list[str] = []
        self.resources: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.sections.append(values.get("id") or "")
        if tag == "script":
            self.scripts += 1
        if values.get("id"):
            self.ids.append(values["id"] or "")
        self.resources.extend(v or "" for k, v in attrs if k in ("src", "href", "data", "srcset"))


def check_offline_page(text: str) -> Page:
    assert "http://" not in text and "https://" not in text
    page = Page()
    page.feed(text)
    assert page.sections == SECTIONS
    assert page.resources == []  # nothing is loaded from anywhere: plotly.js is inline
    for chart in ("equity-chart", "drawdown-chart", "price-0"):
        assert chart in page.ids
    assert "Plotly.newPlot" in text and "plotly.js" in text
    return page


def test_html_report_is_offline_with_every_section(tmp_path: Path) -> None:
    report, prices = html_report()
    path = write_html_report(tmp_path / "report.html", report, prices, "btcbot backtest: trend", "TRY",
                             ["headline line"])
    text = path.read_text(encoding="utf-8")
    check_offline_page(text)
    assert "Equity: strategy vs buy and hold" in text and "time (UTC)" in text  # title and time axis
    assert '"name":"buy"' in text and '"name":"sell"' in text  # the trades marked on the price chart
    # the risk stop, said plainly
    assert "RISK_DAILY_LOSS_LIMIT kept the bot in cash from 2025-09-04 00:00 to 2025-09-05 00:00 (1 day)" in text
    assert '<table id="pairs-table">' in text and "<td>BTCTRY</td>" in text
    assert "<td>Sharpe (daily returns)</td>" in text and "<td>Sharpe (per bar)</td>" in text
    assert "headline line" in text


def test_html_report_is_deterministic() -> None:
    report, prices = html_report()
    assert render_html(report, prices, "t") == render_html(report, prices, "t")


def test_urls_in_scripts_become_escaped_slashes_and_text_is_escaped() -> None:
    assert neutralize_urls('a="http://x/y";b=\'https://z\'') == 'a="http:\\/\\/x/y";b=\'https:\\/\\/z\''
    report, prices = html_report()
    text = render_html(report, prices, "see https://example.org <b>")
    assert "see https:&#47;&#47;example.org &lt;b&gt;" in text


def test_thin_keeps_ends_and_extremes() -> None:
    points = [(T0 + timedelta(minutes=i), float(i % 100)) for i in range(10_000)]
    points[5_555] = (points[5_555][0], 1_000.0)
    kept = thin(points, limit=400)
    assert len(kept) <= 402 and kept[0] == points[0] and kept[-1] == points[-1]
    assert (points[5_555] in kept) and [p[0] for p in kept] == sorted(p[0] for p in kept)
    assert thin(points[:10], limit=400) == points[:10]


def test_without_plotly_the_html_report_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    report, prices = html_report()
    with pytest.raises(ChartsUnavailable, match=r"btcbot\[charts\]"):
        render_html(report, prices, "t")


def test_once_and_run_never_import_plotly_or_dask() -> None:
    code = (
        "import sys\n"
        "import btcbot.app.wiring, btcbot.app.runner, btcbot.app.cycle, btcbot.cli.main\n"
        "import btcbot.cli.commands.trading\n"
        "from btcbot.cli.main import cli\n"
        "import click\n"
        "ctx = click.Context(cli)\n"
        "for name in ('once', 'run'):\n"
        "    assert cli.get_command(ctx, name) is not None\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('plotly', 'dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: JavaScript syntax not checked")
def test_neutralized_plotly_bundle_is_still_valid_javascript(tmp_path: Path) -> None:
    from plotly.offline import get_plotlyjs

    script = tmp_path / "bundle.js"
    script.write_text(neutralize_urls(get_plotlyjs()), encoding="utf-8")
    done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no Chromium installed: report.html not rendered in a browser "
                                              "(Debian: apt-get install chromium)")
def test_report_html_renders_every_chart_in_a_real_browser_with_the_network_blocked(tmp_path: Path) -> None:
    """Headless Chromium opens the report from disk with every host name unresolvable and a dead
    proxy: plotly (inline) must still draw each chart, with its legend and time axis."""
    report, prices = html_report()
    path = write_html_report(tmp_path / "report.html", report, prices, "btcbot backtest: trend", "TRY", ["h"])
    browser = _chromium()
    assert browser is not None
    done = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
         path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # plotly replaces each chart's empty div with its own SVG only when its script ran
    assert dom.count('class="main-svg"') >= 2 * 3, dom[-2000:]  # equity, drawdown, price (2 layers each)
    # ... and its titles, axis titles and legend entries as SVG text (``data-unformatted``)
    drawn = set(re.findall(r'data-unformatted="([^"]*)"', dom))
    for text in ("Equity: strategy vs buy and hold", "Drawdown from the running peak", "time (UTC)",
                 "equity (TRY)", "strategy", "buy and hold (equal weight)", "strategy drawdown", "buy", "sell"):
        assert text in drawn, (text, sorted(drawn))
