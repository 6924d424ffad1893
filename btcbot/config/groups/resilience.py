"""resilience: retries, circuit breakers, safe-mode thresholds."""

from __future__ import annotations

from pydantic import Field

from btcbot.config.groups._base import Group


class ResilienceSettings(Group):
    retry_max_attempts: int = Field(3, ge=1, le=10, description="Attempts for an idempotent read (first try included).")
    retry_base_delay_s: float = Field(0.25, ge=0, le=10, description="Backoff base; delay = uniform(0, min(cap, base*2^n)).")
    retry_max_delay_s: float = Field(4.0, ge=0, le=60, description="Backoff cap per retry.")
    max_retry_after_s: float = Field(30.0, ge=0, le=600, description="Longest Retry-After a cycle waits for; longer means skip the call.")
    breaker_threshold: int = Field(5, ge=1, le=100, description="Consecutive failures that open an endpoint group's breaker.")
    breaker_cooldown_s: float = Field(60.0, ge=1, le=3600, description="Seconds a breaker stays open before a probe.")
    breaker_half_open_probes: int = Field(1, ge=1, le=10, description="Successful probes needed to close a half-open breaker.")
    time_sync_max_round_trip_s: float = Field(1.0, gt=0, le=4, description="Longest server-time round trip whose midpoint is trusted; slower syncs are measured again.")
