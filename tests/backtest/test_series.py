"""TimeSeries: the compact per-bar curve reads exactly like the list of pairs it replaces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from btcbot.backtest.series import TimeSeries, times_of

T0 = datetime(2025, 3, 30, 23, 59, 0, 250, tzinfo=UTC)


def points(n: int) -> list[tuple[datetime, Decimal]]:
    return [(T0 + timedelta(minutes=i), Decimal(i) / 7) for i in range(n)]


def test_reads_like_the_list_of_pairs() -> None:
    listed = points(50)
    series = TimeSeries(listed)
    assert len(series) == 50 and series == listed and listed == series
    assert list(series) == listed and series[0] == listed[0] and series[-1] == listed[-1]
    assert series[3:9] == tuple(listed[3:9]) and series[::-7] == tuple(listed[::-7])
    assert series[-1][0].tzinfo is UTC and series[-1][0].isoformat() == listed[-1][0].isoformat()
    assert list(times_of(series)) == [w for w, _ in listed] == list(times_of(listed))
    assert list(series.values) == [v for _, v in listed]
    assert series != listed[:-1] and series != TimeSeries(listed[:-1])
    with pytest.raises(IndexError):
        series[50]


def test_refuses_naive_and_mixed_zones() -> None:
    with pytest.raises(ValueError):
        TimeSeries([(datetime(2025, 1, 1), Decimal(1))])
    series = TimeSeries(points(1))
    with pytest.raises(ValueError):
        series.append((datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=3))), Decimal(1)))
