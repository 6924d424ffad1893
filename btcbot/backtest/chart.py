"""Equity and drawdown chart as a PNG, drawn with the standard library only (zlib + struct).

Two panels on a white background: on top the strategy equity (blue) and the benchmark (orange),
below the strategy drawdown (red line over a light red area, 0 at the panel's top edge). Each
panel has a grey frame. A built-in 3x5 pixel font labels the top panel's highest and lowest
value and the deepest drawdown (in %); everything else is in ``report.json``.

Pixel positions are computed with integers and Decimal (no float), and the PNG is encoded with a
fixed zlib level, so the same inputs always give the same bytes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from itertools import chain
from pathlib import Path

from btcbot.backtest.roundtrips import CALC, ZERO

Color = tuple[int, int, int]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BACKGROUND: Color = (255, 255, 255)
FRAME: Color = (128, 128, 128)
EQUITY: Color = (31, 90, 200)
BENCHMARK: Color = (240, 130, 20)
DRAWDOWN: Color = (200, 30, 30)
DRAWDOWN_FILL: Color = (248, 205, 205)
LABEL: Color = (40, 40, 40)
CHANNELS = 3  # RGB, 8 bits each


@dataclass(frozen=True, slots=True)
class ChartLayout:
    """Canvas size and margins in pixels; the top panel takes ``top_share`` of the plot height."""

    width: int = 800
    height: int = 480
    margin: int = 12
    gap: int = 16
    top_share: Decimal = Decimal("0.65")
    labels: bool = True
    font_scale: int = 2

    def __post_init__(self) -> None:
        if self.width < 4 * self.margin + 8 or self.height < 4 * self.margin + self.gap + 16:
            raise ValueError(f"chart {self.width}x{self.height} is too small for its margins")


# A 3x5 pixel font for numbers only: enough for the axis extremes, no font files needed.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    ".": ("000", "000", "000", "000", "010"),
    "-": ("000", "000", "111", "000", "000"),
    "%": ("101", "001", "010", "100", "101"),
}


def text_size(text: str, scale: int) -> tuple[int, int]:
    """Width and height in pixels of ``text`` drawn at ``scale`` (1 px gap between glyphs)."""
    return ((len(text) * 4 - 1) * scale if text else 0, 5 * scale)


def format_label(value: Decimal, places: int) -> str:
    """Number text for the chart: ROUND_HALF_EVEN to ``places`` decimals, plain notation."""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):f}"


class Canvas:
    """An RGB raster, row-major, origin top-left."""

    def __init__(self, width: int, height: int, background: Color) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(bytes(background) * (width * height))

    def set(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            offset = (y * self.width + x) * CHANNELS
            self.pixels[offset : offset + CHANNELS] = bytes(color)

    def get(self, x: int, y: int) -> Color:
        offset = (y * self.width + x) * CHANNELS
        r, g, b = self.pixels[offset : offset + CHANNELS]
        return (r, g, b)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Bresenham's line, both end points included."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        error = dx + dy
        while True:
            self.set(x0, y0, color)
            if x0 == x1 and y0 == y1:
                return
            doubled = 2 * error
            if doubled >= dy:
                error += dy
                x0 += sx
            if doubled <= dx:
                error += dx
                y0 += sy

    def fill(self, left: int, top: int, right: int, bottom: int, color: Color) -> None:
        for y in range(top, bottom + 1):
            for x in range(left, right + 1):
                self.set(x, y, color)

    def text(self, x: int, y: int, text: str, color: Color, scale: int = 1) -> None:
        """Draw ``text`` with the 3x5 font, top-left at (x, y), on a background-coloured box."""
        for index, char in enumerate(text):
            for row, bits in enumerate(_GLYPHS[char]):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        left = x + (index * 4 + col) * scale
                        self.fill(left, y + row * scale, left + scale - 1, y + row * scale + scale - 1, color)

    def rectangle(self, left: int, top: int, right: int, bottom: int, color: Color) -> None:
        self.line(left, top, right, top, color)
        self.line(right, top, right, bottom, color)
        self.line(right, bottom, left, bottom, color)
        self.line(left, bottom, left, top, color)


@dataclass(frozen=True, slots=True)
class _Panel:
    left: int
    top: int
    right: int
    bottom: int

    def x(self, index: int, count: int) -> int:
        """Spread ``count`` points evenly over the inner width (1 px inside the frame)."""
        span = self.right - self.left - 2
        return self.left + 1 + (index * span // (count - 1) if count > 1 else span // 2)

    def y(self, value: Decimal, low: Decimal, high: Decimal) -> int:
        """``high`` maps to the inner top, ``low`` to the inner bottom; a flat range is centred."""
        span = self.bottom - self.top - 2
        if high <= low:
            return self.top + 1 + span // 2
        offset = ((value - low) * span / (high - low)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return self.bottom - 1 - int(offset)


def _plot(
    canvas: Canvas, panel: _Panel, values: Iterable[Decimal], count: int, low: Decimal, high: Decimal, color: Color
) -> None:
    """The ``count`` values joined by lines (read once: a long curve is never held as points)."""
    points = ((panel.x(i, count), panel.y(v, low, high)) for i, v in enumerate(values))
    if count == 1:
        canvas.set(*next(points), color)
        return
    previous = next(points, None)
    for point in points:
        assert previous is not None
        canvas.line(previous[0], previous[1], point[0], point[1], color)
        previous = point


def _depths(equity: Iterable[Decimal]) -> Iterator[Decimal]:
    """``-drawdown`` per point, as :func:`~btcbot.backtest.analysis.drawdowns` computes it."""
    peak: Decimal | None = None
    for value in equity:
        with localcontext(CALC):
            peak = value if peak is None or value > peak else peak
            dd = (peak - value) / peak if peak > 0 else ZERO
        yield -dd  # negated in the caller's context, as ``-d for d in drawdowns(...)`` was


def draw_chart(
    equity: Sequence[Decimal], benchmark: Sequence[Decimal] = (), layout: ChartLayout | None = None
) -> Canvas:
    """Draw the two panels; ``benchmark`` (optional) is spread over the same width as ``equity``."""
    if not equity:
        raise ValueError("cannot chart an empty equity curve")
    layout = layout or ChartLayout()
    canvas = Canvas(layout.width, layout.height, BACKGROUND)
    inner_height = layout.height - 2 * layout.margin - layout.gap
    top_height = int((inner_height * layout.top_share).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    right = layout.width - 1 - layout.margin
    upper = _Panel(layout.margin, layout.margin, right, layout.margin + top_height)
    lower = _Panel(layout.margin, upper.bottom + layout.gap, right, layout.height - 1 - layout.margin)

    low, high = min(chain(equity, benchmark)), max(chain(equity, benchmark))
    if benchmark:
        _plot(canvas, upper, benchmark, len(benchmark), low, high, BENCHMARK)
    _plot(canvas, upper, equity, len(equity), low, high, EQUITY)  # drawn last: the strategy stays on top

    # Drawdown is 0 at the panel's top edge and grows downwards; the area above the line is shaded.
    # The depths are recomputed per pass (a long curve is never held as a list of them).
    lowest = min(_depths(equity))
    deepest = lowest if lowest < 0 else Decimal(-1)  # no drawdown: a flat line on top
    zero_y = lower.y(Decimal(0), deepest, Decimal(0))
    count = len(equity)
    points = ((lower.x(i, count), lower.y(d, deepest, Decimal(0))) for i, d in enumerate(_depths(equity)))
    previous = next(points)
    for x1, y1 in points:
        x0, y0 = previous
        for x in range(x0, x1 + 1):  # every column between two points, y interpolated in integers
            canvas.line(x, zero_y, x, y0 + (y1 - y0) * (x - x0) // max(x1 - x0, 1), DRAWDOWN_FILL)
        previous = (x1, y1)
    _plot(canvas, lower, _depths(equity), count, deepest, Decimal(0), DRAWDOWN)

    if layout.labels:
        scale = layout.font_scale
        _label(canvas, upper.left + 3, upper.top + 3, format_label(high, 2), scale)
        _label(canvas, upper.left + 3, upper.bottom - 3 - 5 * scale, format_label(low, 2), scale)
        deepest_text = format_label(lowest * 100, 1) + "%"
        _label(canvas, lower.left + 3, lower.bottom - 3 - 5 * scale, deepest_text, scale)

    canvas.rectangle(upper.left, upper.top, upper.right, upper.bottom, FRAME)
    canvas.rectangle(lower.left, lower.top, lower.right, lower.bottom, FRAME)
    return canvas


def _label(canvas: Canvas, x: int, y: int, text: str, scale: int) -> None:
    """Text on a white box (1 px padding) so lines under it do not make it unreadable."""
    width, height = text_size(text, scale)
    canvas.fill(x - 1, y - 1, x + width, y + height, BACKGROUND)
    canvas.text(x, y, text, LABEL, scale)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(canvas: Canvas) -> bytes:
    """8-bit RGB PNG, filter type 0 on every row, one IDAT chunk at zlib level 9."""
    stride = canvas.width * CHANNELS
    raw = bytearray()
    for row in range(canvas.height):
        raw.append(0)
        raw += canvas.pixels[row * stride : (row + 1) * stride]
    header = struct.pack(">IIBBBBB", canvas.width, canvas.height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def render_chart_png(
    equity: Sequence[Decimal], benchmark: Sequence[Decimal] = (), layout: ChartLayout | None = None
) -> bytes:
    return encode_png(draw_chart(equity, benchmark, layout))


def write_chart(
    path: Path,
    equity: Sequence[Decimal],
    benchmark: Sequence[Decimal] = (),
    layout: ChartLayout | None = None,
) -> Path:
    """Write the chart PNG to ``path`` (parent directories created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_chart_png(equity, benchmark, layout))
    return path
