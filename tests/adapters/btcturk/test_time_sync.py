from __future__ import annotations

from datetime import UTC, datetime

from btcbot.adapters.btcturk.time_sync import TimeSync
from btcbot.adapters.clock import ManualClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


def test_offset_uses_round_trip_midpoint() -> None:
    sync = TimeSync(ManualClock(T0))
    sync.record(server_ms=T0_MS + 2_500, sent_wall_ms=T0_MS, received_wall_ms=T0_MS + 1_000)
    assert sync.offset_ms == 2_000


def test_stamp_is_clock_plus_offset() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock)
    sync.record(server_ms=T0_MS - 3_000, sent_wall_ms=T0_MS, received_wall_ms=T0_MS)
    clock.advance(10)
    assert sync.next_stamp() == T0_MS + 10_000 - 3_000


def test_stamps_strictly_increase_when_clock_stands_still() -> None:
    sync = TimeSync(ManualClock(T0))
    stamps = [sync.next_stamp() for _ in range(5)]
    assert stamps == [T0_MS, T0_MS + 1, T0_MS + 2, T0_MS + 3, T0_MS + 4]


def test_stamps_never_go_back_when_offset_shrinks() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock)
    sync.record(server_ms=T0_MS + 5_000, sent_wall_ms=T0_MS, received_wall_ms=T0_MS)
    first = sync.next_stamp()
    sync.record(server_ms=T0_MS, sent_wall_ms=T0_MS, received_wall_ms=T0_MS)
    assert sync.next_stamp() == first + 1


def test_needs_sync_first_then_after_interval_and_after_invalidate() -> None:
    clock = ManualClock(T0)
    sync = TimeSync(clock, resync_after_s=300)
    assert sync.needs_sync()
    sync.record(T0_MS, T0_MS, T0_MS)
    assert not sync.needs_sync()
    clock.advance(299)
    assert not sync.needs_sync()
    clock.advance(1)
    assert sync.needs_sync()
    sync.record(T0_MS, T0_MS, T0_MS)
    sync.invalidate()
    assert sync.needs_sync()
