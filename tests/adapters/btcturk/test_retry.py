from __future__ import annotations

import random

import pytest

from btcbot.adapters.btcturk.retry import RetryPolicy
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    ExchangeRejected,
    MaintenanceError,
    MalformedPayload,
    OrderNotFound,
    RateLimited,
    TransientError,
)


def test_only_get_is_retried() -> None:
    policy = RetryPolicy()
    for method in ("POST", "DELETE"):
        assert policy.next_delay(method, TransientError("x"), 1, random.Random(1)) is None
    assert policy.next_delay("GET", TransientError("x"), 1, random.Random(1)) is not None


def test_writes_cannot_be_made_retryable() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(retry_methods=frozenset({"GET", "POST"}))


@pytest.mark.parametrize(
    "error,retryable",
    [
        (TransientError("x"), True),
        (MalformedPayload("e", "f", "p"), True),
        (RateLimited("x", retry_after_s=5), True),
        (RateLimited("x", retry_after_s=500), False),
        (MaintenanceError("x"), False),
        (AuthError("x"), False),
        (ExchangeRejected("X"), True),  # an unrecognised answer to a GET: ask again
        (OrderNotFound("Order not found", code=1152), False),  # a definite answer
        (AmbiguousOutcome("x"), False),
    ],
)
def test_retryable_classes(error: Exception, retryable: bool) -> None:
    assert RetryPolicy().is_retryable("GET", error) is retryable  # type: ignore[arg-type]


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(0)
    assert policy.next_delay("GET", TransientError("x"), 2, rng) is not None
    assert policy.next_delay("GET", TransientError("x"), 3, rng) is None


def test_full_jitter_stays_under_capped_exponential() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0)
    rng = random.Random(42)
    for retry in range(1, 8):
        ceiling = min(3.0, 0.5 * 2 ** (retry - 1))
        draws = [policy.backoff_s(retry, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8  # jitter spans the range, not a constant


def test_same_seed_same_delays() -> None:
    policy = RetryPolicy()
    a = [policy.backoff_s(n, random.Random(7)) for n in range(1, 5)]
    b = [policy.backoff_s(n, random.Random(7)) for n in range(1, 5)]
    assert a == b


def test_from_settings() -> None:
    s = ResilienceSettings(retry_max_attempts=5, retry_base_delay_s=1, retry_max_delay_s=9, max_retry_after_s=20)
    assert RetryPolicy.from_settings(s) == RetryPolicy(5, 1.0, 9.0, 20.0)
