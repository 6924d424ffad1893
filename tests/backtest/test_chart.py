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
