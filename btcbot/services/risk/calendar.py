"""Risk days and months: the calendar boundaries of the daily loss limit and of profit harvesting.

A risk day starts at midnight in the configured time zone (``risk.day_boundary_tz``, default
Europe/Istanbul, where BTC Turk's TRY market lives), not at UTC midnight. The same zone decides
when a month (harvesting's "month to date") starts. All functions are pure and refuse naive
datetimes, which would silently mean "local time of whatever machine runs the bot".
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=16)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _local(now: datetime, tz: str) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(_zone(tz))


# Pure functions of (instant, zone), called several times per cycle (and per backtest bar) with
# the same instant: cached. Equal instants give equal results whatever their tzinfo.
@lru_cache(maxsize=256)
def risk_day(now: datetime, tz: str) -> date:
    """The calendar date of ``now`` in ``tz``: the risk day the daily loss limit counts against.

    >>> from datetime import timezone
    >>> risk_day(datetime(2026, 11, 25, 21, 0, tzinfo=timezone.utc), "Europe/Istanbul")
    datetime.date(2026, 11, 26)
    """
    return _local(now, tz).date()


@lru_cache(maxsize=256)
def month_key(now: datetime, tz: str) -> str:
    """``YYYY-MM`` of ``now`` in ``tz``: the month realized PnL and harvesting are counted in.

    >>> from datetime import timezone
    >>> month_key(datetime(2026, 11, 30, 21, 30, tzinfo=timezone.utc), "Europe/Istanbul")
    '2026-12'
    """
    local = _local(now, tz)
    return f"{local.year:04d}-{local.month:02d}"
