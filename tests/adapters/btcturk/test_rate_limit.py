from __future__ import annotations

import pytest

from btcbot.adapters.btcturk.rate_limit import PUBLISHED_LIMITS, RateLimiter, WindowSpec
from btcbot.adapters.clock import ManualClock
from btcbot.domain.errors import RateLimited

ORDER_POST = "POST /api/v1/order"


def test_published_table_has_both_windows_for_orders() -> None:
    assert PUBLISHED_LIMITS[ORDER_POST] == (WindowSpec(300, 60), WindowSpec(10, 1))
    assert PUBLISHED_LIMITS["GET /api/v1/order/{id}"] == (WindowSpec(900, 60), WindowSpec(30, 1))
    assert PUBLISHED_LIMITS["GET /api/v1/users/balances"] == (WindowSpec(120, 60),)


def test_within_limit_no_wait() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock)
    start = clock.monotonic()
    for _ in range(10):
        assert limiter.acquire(ORDER_POST) == 0.0
    assert clock.monotonic() == start


def test_eleventh_order_in_a_second_waits_for_window_end() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock)
    start = clock.monotonic()
    for _ in range(10):
        limiter.acquire(ORDER_POST)
    clock.advance(0.25)
    waited = limiter.acquire(ORDER_POST)
    assert waited == pytest.approx(0.75)
    assert clock.monotonic() == pytest.approx(start + 1.0)


def test_minute_window_also_binds() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock, limits={"k": (WindowSpec(3, 60), WindowSpec(2, 1))}, max_wait_s=120)
    start = clock.monotonic()
    limiter.acquire("k")
    limiter.acquire("k")
    limiter.acquire("k")  # second window forces a 1 s wait
    assert clock.monotonic() == pytest.approx(start + 1)
    limiter.acquire("k")  # minute window (3/60 s) exhausted: wait until start + 60
    assert clock.monotonic() == pytest.approx(start + 60)


def test_unlisted_endpoint_uses_configurable_default() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock, default=(WindowSpec(1, 5),))
    start = clock.monotonic()
    limiter.acquire("GET /api/v2/server/time")
    limiter.acquire("GET /api/v2/server/time")
    assert clock.monotonic() == pytest.approx(start + 5)


def test_keys_are_independent() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock, limits={"a": (WindowSpec(1, 10),), "b": (WindowSpec(1, 10),)})
    limiter.acquire("a")
    assert limiter.wait_needed("b") == 0
    assert limiter.wait_needed("a") == pytest.approx(10)


def test_retry_after_blocks_the_key() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock)
    start = clock.monotonic()
    limiter.block("GET /api/v2/ticker", 7)
    assert limiter.wait_needed("GET /api/v2/ticker") == pytest.approx(7)
    limiter.acquire("GET /api/v2/ticker")
    assert clock.monotonic() == pytest.approx(start + 7)


def test_wait_longer_than_max_raises_instead_of_stalling() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock, max_wait_s=5)
    start = clock.monotonic()
    limiter.block("k", 60)
    with pytest.raises(RateLimited) as info:
        limiter.acquire("k")
    assert info.value.retry_after_s == pytest.approx(60)
    assert clock.monotonic() == start
    assert limiter.taken("k") == 0


def test_fixed_window_restarts_at_first_call_after_expiry() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock, limits={"k": (WindowSpec(2, 10),)})
    limiter.acquire("k")
    clock.advance(15)
    limiter.acquire("k")  # new window starts here
    clock.advance(9)
    limiter.acquire("k")  # still room: 2 per window
    assert limiter.wait_needed("k") == pytest.approx(1)
