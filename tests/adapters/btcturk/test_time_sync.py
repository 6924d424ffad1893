from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from btcbot.adapters.btcturk.time_sync import Instant, TimeSync
from btcbot.adapters.clock import ManualClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


def _measure(sync: TimeSync, clock: ManualClock, server_ms: int, round_trip_s: float = 0.0) -> None:
    sent = sync.mark()
    clock.advance(round_trip_s)
    sync.record(server_ms, sent, sync.mark())


def test_offset_uses_one_attempts_round_trip_midpoint() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock)
    _measure(sync, clock, server_ms=T0_MS + 2_500, round_trip_s=1.0)  # server stamped at T0 + 0.5 s
    assert sync.offset_ms == 2_000  # stamped at the midpoint (T0 + 0.5 s local) with T0 + 2.5 s
    assert sync.server_now() == T0 + timedelta(seconds=3)


def test_round_trip_acceptance_threshold() -> None:
    sync = TimeSync(ManualClock(T0), max_round_trip_s=1.0)
    assert sync.acceptable(Instant(0, 10.0), Instant(1000, 11.0))
    assert not sync.acceptable(Instant(0, 10.0), Instant(1001, 11.001))
    with pytest.raises(ValueError):
        TimeSync(ManualClock(T0), max_round_trip_s=0)


def test_stamp_is_exchange_time() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock)
    _measure(sync, clock, server_ms=T0_MS - 3_000)
    clock.advance(10)
    assert sync.next_stamp() == T0_MS + 10_000 - 3_000


def test_stamps_strictly_increase_when_clock_stands_still() -> None:
    sync = TimeSync(ManualClock(T0))
    stamps = [sync.next_stamp() for _ in range(5)]
    assert stamps == [T0_MS, T0_MS + 1, T0_MS + 2, T0_MS + 3, T0_MS + 4]


def test_stamps_never_go_back_when_offset_shrinks() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock)
    _measure(sync, clock, server_ms=T0_MS + 5_000)
    first = sync.next_stamp()
    _measure(sync, clock, server_ms=T0_MS)
    assert sync.next_stamp() == first + 1


def test_needs_sync_first_then_after_interval_and_after_invalidate() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock, resync_after_s=300)
    assert sync.needs_sync() and not sync.measured
    _measure(sync, clock, T0_MS)
    assert not sync.needs_sync()
    clock.advance(299)
    assert not sync.needs_sync()
    clock.advance(1)
    assert sync.needs_sync()
    _measure(sync, clock, T0_MS + 300_000)
    sync.invalidate()
    assert sync.needs_sync() and sync.measured


@pytest.mark.parametrize("jump_s", [-1800.0, 1800.0])
def test_a_wall_clock_jump_moves_neither_stamps_nor_exchange_time_and_asks_for_a_resync(jump_s: float) -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock)
    _measure(sync, clock, server_ms=T0_MS)
    clock.advance(10)
    clock.jump(jump_s)  # NTP step / operator / resumed VM: wall time only
    assert sync.jumped() and sync.needs_sync()
    assert sync.server_now() is None  # not trusted until re-measured
    assert sync.next_stamp() == T0_MS + 10_000  # stamps follow the monotonic clock meanwhile
    _measure(sync, clock, server_ms=T0_MS + 10_000)  # resync against the moved wall clock
    assert not sync.needs_sync()
    assert sync.server_now() == T0 + timedelta(seconds=10)
    assert sync.offset_ms == -int(jump_s * 1000)
