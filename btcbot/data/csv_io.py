"""Candles as CSV: ``symbol,interval_s,open_time,open,high,low,close,volume``.

Times are ISO 8601 UTC (``2026-01-01T00:00:00+00:00``); prices and volume are exact decimal
strings (never an exponent), so export -> import round-trips bit for bit.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TextIO

from btcbot.domain.market import Candle

HEADER = ("symbol", "interval_s", "open_time", "open", "high", "low", "close", "volume")


class CsvFormatError(ValueError):
    """A CSV row that is not a valid candle (the message names the line)."""


def _plain(value: Decimal) -> str:
    return format(value, "f")


def write_candles_csv(candles: Iterable[Candle], out: TextIO) -> int:
    """Write the header and one row per candle; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for c in candles:
        writer.writerow(
            (
                c.symbol,
                c.interval_s,
                c.open_time.astimezone(UTC).isoformat(),
                _plain(c.open),
                _plain(c.high),
                _plain(c.low),
                _plain(c.close),
                _plain(c.volume),
            )
        )
        count += 1
    return count


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("open_time needs a UTC offset")
    return parsed.astimezone(UTC)


def read_candles_csv(source: TextIO) -> Iterator[Candle]:
    """Parse rows written by :func:`write_candles_csv` (header required); raises CsvFormatError."""
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise CsvFormatError(f"line 1: expected header {','.join(HEADER)}")
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(HEADER):
            raise CsvFormatError(f"line {line}: expected {len(HEADER)} fields, got {len(row)}")
        try:
            values = [Decimal(v.strip()) for v in row[3:]]
            if not all(v.is_finite() and v >= 0 for v in values):
                raise ValueError("prices and volume must be finite and >= 0")
            yield Candle(
                symbol=row[0].strip().upper(),
                interval_s=int(row[1]),
                open_time=_parse_time(row[2]),
                open=values[0],
                high=values[1],
                low=values[2],
                close=values[3],
                volume=values[4],
            )
        except (ValueError, InvalidOperation) as exc:
            raise CsvFormatError(f"line {line}: {exc}") from None
