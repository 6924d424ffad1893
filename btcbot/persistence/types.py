"""Column types that keep money exact and time zone-aware on every database.

``ExactDecimal`` stores a Decimal as its plain decimal string (``format(d, "f")``: no exponent,
every digit kept) in a VARCHAR. Strings round-trip exactly on SQLite and PostgreSQL alike, which
NUMERIC does not on SQLite (it has no decimal type and may fall back to a float). The ledger
never sums in SQL: running balances live in ``ledger_balances`` and are updated in Python.

``UtcDateTime`` refuses naive datetimes, stores UTC (timestamptz on PostgreSQL, a fixed-width
ISO string on SQLite so that ordering and range queries work) and always returns aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

DECIMAL_STRING_LENGTH = 80


class ExactDecimal(TypeDecorator[Decimal]):
    """Decimal <-> canonical decimal string. Floats and non-finite values are refused."""

    impl = String(DECIMAL_STRING_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal needs a Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError("ExactDecimal refuses NaN and infinity")
        text = format(value, "f")
        if len(text) > DECIMAL_STRING_LENGTH:
            raise ValueError("decimal too long to store exactly")
        return text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetime in, aware UTC datetime out; naive datetimes raise ValueError."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: pass a timezone-aware UTC datetime")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite has no time zone type: store naive UTC, re-attached on load.
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
