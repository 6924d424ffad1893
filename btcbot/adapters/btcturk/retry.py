"""Immutable retry policy: bounded exponential backoff with full jitter, idempotent reads only.

Like urllib3's Retry, the defaults never replay a non-idempotent request: POST (submit) and
DELETE (cancel) are never retried, because an unanswered write is an AmbiguousOutcome that is
resolved by lookup, not by sending again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.domain.errors import (
    ExchangeError,
    ExchangeRejected,
    MalformedPayload,
    OrderNotFound,
    RateLimited,
    TransientError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` counts the first try. Delay before retry n (1-based) is
    ``uniform(0, min(max_delay_s, base_delay_s * 2**(n-1)))``."""

    max_attempts: int = 3
    base_delay_s: float = 0.25
    max_delay_s: float = 4.0
    max_retry_after_s: float = 30.0
    retry_methods: frozenset[str] = frozenset({"GET"})

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("retry policy needs max_attempts >= 1 and non-negative delays")
        if self.retry_methods - {"GET", "HEAD"}:
            raise ValueError("only idempotent reads may be retried")

    @classmethod
    def from_settings(cls, settings: ResilienceSettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.retry_max_attempts,
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
            max_retry_after_s=settings.max_retry_after_s,
        )

    def is_retryable(self, method: str, error: ExchangeError) -> bool:
        """Reads are tried again on anything but a definite answer: an outage, an unreadable body
        and also an unrecognised business answer (a 4xx or a 2xx with ``success:false`` on a GET
        is usually a garbled reply; asking again is harmless). Never on OrderNotFound (a definite
        "no such order"), maintenance (the breaker opens), or 401 (the transport resyncs)."""
        if method.upper() not in self.retry_methods:
            return False
        if isinstance(error, RateLimited):
            return error.retry_after_s <= self.max_retry_after_s
        if isinstance(error, OrderNotFound):
            return False
        return isinstance(error, TransientError | MalformedPayload | ExchangeRejected)

    def backoff_s(self, retry_number: int, rng: random.Random) -> float:
        """Full jitter: a uniform draw below the capped exponential."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** max(retry_number - 1, 0)))
        return rng.uniform(0.0, ceiling)

    def next_delay(self, method: str, error: ExchangeError, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up and raise."""
        if attempt >= self.max_attempts or not self.is_retryable(method, error):
            return None
        if isinstance(error, RateLimited):
            return 0.0  # the rate limiter is blocked for Retry-After and waits on its own
        return self.backoff_s(attempt, rng)
