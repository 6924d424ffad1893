"""The only code that reads the real clock, tested with the real clock frozen (freezegun).

Everything else in btcbot takes an injected ``Clock`` (tests pass a ``ManualClock``); these two
classes are where wall and monotonic time enter, so they are the place where a test must control
the real clock rather than inject one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from btcbot.adapters.clock import SystemClock
from btcbot.sim.clock import WALL, SimClock


def test_system_clock_reads_the_real_wall_clock_in_utc() -> None:
    with freeze_time("2026-03-01 12:00:00") as frozen:
        clock = SystemClock()
        assert clock.now() == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        assert clock.now().tzinfo is UTC
        frozen.tick(timedelta(seconds=90))
        assert clock.now() == datetime(2026, 3, 1, 12, 1, 30, tzinfo=UTC)


def test_system_clock_monotonic_follows_real_time_and_zero_sleep_returns_at_once() -> None:
    with freeze_time("2026-03-01 12:00:00") as frozen:
        clock = SystemClock()
        before = clock.monotonic()
        frozen.tick(timedelta(seconds=5))
        assert clock.monotonic() - before == 5.0
        clock.sleep(0)  # must not block (frozen time would never let a real sleep matter)
        clock.sleep(-1)
        assert clock.monotonic() - before == 5.0


def test_sim_wall_clock_runs_at_its_speed_over_real_monotonic_time() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with freeze_time("2026-03-01 12:00:00") as frozen:
        clock = SimClock(start, mode=WALL, speed=5.0)
        frozen.tick(timedelta(seconds=10))
        assert clock.now() == start + timedelta(seconds=50)
        clock.advance(60)
        assert clock.now() == start + timedelta(seconds=110)
        assert clock.now_ms() == int((start + timedelta(seconds=110)).timestamp() * 1000)
