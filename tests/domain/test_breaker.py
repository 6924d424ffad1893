from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.domain.breaker import (
    BreakerBoard,
    BreakerSettings,
    BreakerState,
    BreakerStatus,
    allow_request,
    record_failure,
    record_success,
)
from btcbot.domain.enums import EndpointGroup
from btcbot.domain.errors import CircuitOpen

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = BreakerSettings(threshold=3, cooldown_s=60, half_open_probes=2)
G = EndpointGroup.ORDERS


def test_opens_after_threshold_consecutive_failures() -> None:
    s = BreakerState.closed(G)
    s = record_failure(s, T0, S)
    s = record_failure(s, T0, S)
    assert s.state is BreakerStatus.CLOSED and s.consecutive_failures == 2
    s = record_failure(s, T0, S)
    assert s.state is BreakerStatus.OPEN and s.opened_at == T0


def test_success_resets_the_count() -> None:
    s = record_failure(record_failure(BreakerState.closed(G), T0, S), T0, S)
    s = record_success(s, T0, S)
    assert s.consecutive_failures == 0
    s = record_failure(s, T0, S)
    assert s.state is BreakerStatus.CLOSED


def test_maintenance_opens_immediately() -> None:
    s = record_failure(BreakerState.closed(G), T0, S, immediate=True)
    assert s.state is BreakerStatus.OPEN


def test_open_refuses_until_cooldown_then_half_open_probe() -> None:
    s = record_failure(BreakerState.closed(G), T0, S, immediate=True)
    allowed, s2 = allow_request(s, T0 + timedelta(seconds=59), S)
    assert not allowed and s2 == s
    allowed, s3 = allow_request(s, T0 + timedelta(seconds=60), S)
    assert allowed and s3.state is BreakerStatus.HALF_OPEN


def test_half_open_needs_probes_to_close_and_one_failure_reopens() -> None:
    _, half = allow_request(record_failure(BreakerState.closed(G), T0, S, immediate=True), T0 + timedelta(minutes=2), S)
    one = record_success(half, T0, S)
    assert one.state is BreakerStatus.HALF_OPEN and one.probes_ok == 1
    closed = record_success(one, T0, S)
    assert closed == BreakerState.closed(G)
    later = T0 + timedelta(minutes=3)
    reopened = record_failure(one, later, S)
    assert reopened.state is BreakerStatus.OPEN and reopened.opened_at == later


def test_board_raises_circuit_open_and_round_trips() -> None:
    board = BreakerBoard(S)
    board.failure(G, T0, immediate=True)
    with pytest.raises(CircuitOpen) as info:
        board.check(G, T0)
    assert info.value.group == "orders"
    board.check(EndpointGroup.MARKET_DATA, T0)  # other groups unaffected
    exported = board.export()
    assert [s.group for s in exported] == list(EndpointGroup)
    loaded = BreakerBoard.load(S, exported)
    assert loaded.export() == exported
    with pytest.raises(CircuitOpen):
        loaded.check(G, T0 + timedelta(seconds=1))
    loaded.check(G, T0 + timedelta(seconds=61))
    assert loaded.state(G).state is BreakerStatus.HALF_OPEN


def test_load_fills_missing_groups_closed() -> None:
    board = BreakerBoard.load(S, [])
    assert all(s.state is BreakerStatus.CLOSED for s in board.export())


def test_settings_validated() -> None:
    with pytest.raises(ValueError):
        BreakerSettings(threshold=0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ok", "fail", "maint", "ask"]), st.integers(0, 120)), max_size=40))
def test_invariants_hold_for_any_event_sequence(events: list[tuple[str, int]]) -> None:
    s = BreakerState.closed(G)
    now = T0
    for kind, dt in events:
        now += timedelta(seconds=dt)
        if kind == "ok":
            s = record_success(s, now, S)
        elif kind == "fail":
            s = record_failure(s, now, S)
        elif kind == "maint":
            s = record_failure(s, now, S, immediate=True)
        else:
            allowed, s = allow_request(s, now, S)
            assert allowed or s.state is BreakerStatus.OPEN
        assert (s.opened_at is None) == (s.state is BreakerStatus.CLOSED)
        assert s.consecutive_failures >= 0 and 0 <= s.probes_ok < S.half_open_probes
        if s.state is BreakerStatus.CLOSED:
            assert s.consecutive_failures < S.threshold
