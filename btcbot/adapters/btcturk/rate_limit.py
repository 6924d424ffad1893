"""Client-side rate limiter: BTC Turk's published per-endpoint fixed windows (btcturk_api.md 7).

A window starts with the first call and allows ``limit`` calls until ``period_s`` has passed;
exceeding it gets a block as long as the window, so we wait instead. Order POST/DELETE and the
single-order GET have two windows (per second and per minute) and must fit both. Endpoints not
in the table share a configurable conservative default. A 429's Retry-After blocks the key for
that long. Waiting uses the injected clock; a wait longer than ``max_wait_s`` raises RateLimited
instead of stalling the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from btcbot.contracts.clock import Clock
from btcbot.domain.errors import RateLimited


@dataclass(frozen=True, slots=True)
class WindowSpec:
    limit: int
    period_s: float


#: Graph host: one bucket for all paths, 600 per 10 minutes.
GRAPH_KEY = "graph"

PUBLISHED_LIMITS: Mapping[str, tuple[WindowSpec, ...]] = {
    "GET /api/v1/users/balances": (WindowSpec(120, 60),),
    "POST /api/v1/order": (WindowSpec(300, 60), WindowSpec(10, 1)),
    "DELETE /api/v1/order": (WindowSpec(300, 60), WindowSpec(10, 1)),
    "GET /api/v1/order/{id}": (WindowSpec(900, 60), WindowSpec(30, 1)),
    "GET /api/v1/openOrders": (WindowSpec(300, 60),),
    "GET /api/v1/allOrders": (WindowSpec(300, 60),),
    "GET /api/v1/users/transactions/trade": (WindowSpec(120, 60),),
    "GET /api/v2/ticker": (WindowSpec(600, 60),),
    "GET /api/v2/orderbook": (WindowSpec(180, 60),),
    GRAPH_KEY: (WindowSpec(600, 600),),
}

#: Unlisted endpoints (server time, exchangeinfo): limits unpublished, 2020 users hit 429 on time.
DEFAULT_LIMIT: tuple[WindowSpec, ...] = (WindowSpec(60, 60),)


@dataclass(slots=True)
class _Window:
    spec: WindowSpec
    start: float | None = None
    count: int = 0


@dataclass(slots=True)
class _Bucket:
    windows: list[_Window]
    blocked_until: float = 0.0
    taken: int = field(default=0)


class RateLimiter:
    """Plain state: one bucket per endpoint key. Not thread-safe (the trading path has no threads)."""

    def __init__(
        self,
        clock: Clock,
        *,
        limits: Mapping[str, Sequence[WindowSpec]] = PUBLISHED_LIMITS,
        default: Sequence[WindowSpec] = DEFAULT_LIMIT,
        max_wait_s: float = 30.0,
    ) -> None:
        self._clock = clock
        self._limits = dict(limits)
        self._default = tuple(default)
        self.max_wait_s = max_wait_s
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            specs = self._limits.get(key, self._default)
            bucket = _Bucket([_Window(s) for s in specs])
            self._buckets[key] = bucket
        return bucket

    def wait_needed(self, key: str) -> float:
        """Seconds until one more call to ``key`` is allowed (0 = now)."""
        bucket = self._bucket(key)
        now = self._clock.monotonic()
        wait = max(0.0, bucket.blocked_until - now)
        for w in bucket.windows:
            if w.start is not None and now < w.start + w.spec.period_s and w.count >= w.spec.limit:
                wait = max(wait, w.start + w.spec.period_s - now)
        return wait

    def acquire(self, key: str) -> float:
        """Take a slot for ``key``, sleeping on the clock if needed; returns the seconds waited."""
        waited = 0.0
        for _ in range(1000):  # each sleep ends a window or a block, so this ends quickly
            wait = self.wait_needed(key)
            if wait <= 0:
                self._take(key)
                return waited
            if waited + wait > self.max_wait_s:
                raise RateLimited("local rate limit", endpoint=key, retry_after_s=wait)
            self._clock.sleep(wait)
            waited += wait
        raise RateLimited("local rate limit (clock does not advance)", endpoint=key, retry_after_s=self.max_wait_s)

    def _take(self, key: str) -> None:
        bucket = self._bucket(key)
        now = self._clock.monotonic()
        for w in bucket.windows:
            if w.start is None or now >= w.start + w.spec.period_s:
                w.start, w.count = now, 0
            w.count += 1
        bucket.taken += 1

    def block(self, key: str, seconds: float) -> None:
        """The venue answered 429: no call to ``key`` for ``seconds``."""
        bucket = self._bucket(key)
        bucket.blocked_until = max(bucket.blocked_until, self._clock.monotonic() + max(0.0, seconds))

    def taken(self, key: str) -> int:
        """Slots handed out for ``key`` so far (tests, benchmarks)."""
        return self._bucket(key).taken
