"""Circuit breaker per endpoint group, as pure values (the cycle persists them between runs).

CLOSED: calls pass; ``threshold`` consecutive failures open it. OPEN: calls are refused until
``cooldown_s`` has passed since ``opened_at``, then the next call is let through as a probe
(HALF_OPEN). HALF_OPEN: ``half_open_probes`` successes close it, one failure re-opens it.
A maintenance answer opens it at once (``immediate=True``). Times are wall-clock datetimes,
not monotonic seconds, because state is shared by separate cron runs through the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from btcbot.domain.enums import EndpointGroup
from btcbot.domain.errors import CircuitOpen


class BreakerStatus(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """Mirrors ``ResilienceSettings`` breaker fields (domain cannot import config)."""

    threshold: int = 5
    cooldown_s: float = 60.0
    half_open_probes: int = 1

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.half_open_probes < 1 or self.cooldown_s <= 0:
            raise ValueError("breaker threshold and probes must be >= 1 and cooldown > 0")


@dataclass(frozen=True, slots=True)
class BreakerState:
    """One group's breaker. ``opened_at`` is set while OPEN or HALF_OPEN."""

    group: EndpointGroup
    state: BreakerStatus = BreakerStatus.CLOSED
    consecutive_failures: int = 0
    opened_at: datetime | None = None
    probes_ok: int = 0

    @classmethod
    def closed(cls, group: EndpointGroup) -> BreakerState:
        return cls(group=group)


def allow_request(state: BreakerState, now: datetime, settings: BreakerSettings) -> tuple[bool, BreakerState]:
    """Whether a call may go out now, and the state after asking (OPEN -> HALF_OPEN on cooldown)."""
    if state.state is BreakerStatus.OPEN:
        assert state.opened_at is not None
        if now - state.opened_at >= timedelta(seconds=settings.cooldown_s):
            return True, replace(state, state=BreakerStatus.HALF_OPEN, probes_ok=0)
        return False, state
    return True, state


def record_success(state: BreakerState, now: datetime, settings: BreakerSettings) -> BreakerState:
    """A call got a readable answer from the venue (business rejections count as success)."""
    if state.state is BreakerStatus.HALF_OPEN:
        probes = state.probes_ok + 1
        if probes >= settings.half_open_probes:
            return BreakerState.closed(state.group)
        return replace(state, probes_ok=probes)
    if state.state is BreakerStatus.OPEN:
        # A success while OPEN can only come from a call admitted before it opened; keep it open.
        return state
    return replace(state, consecutive_failures=0)


def record_failure(
    state: BreakerState, now: datetime, settings: BreakerSettings, *, immediate: bool = False
) -> BreakerState:
    """A call failed for a venue-health reason (timeout, 5xx, garbage, maintenance)."""
    failures = state.consecutive_failures + 1
    if immediate or state.state is BreakerStatus.HALF_OPEN or failures >= settings.threshold:
        return BreakerState(state.group, BreakerStatus.OPEN, failures, now, 0)
    return replace(state, consecutive_failures=failures)


class BreakerBoard:
    """The three group breakers of one client; a thin mutable holder over the pure functions."""

    def __init__(self, settings: BreakerSettings, states: Iterable[BreakerState] = ()) -> None:
        self.settings = settings
        self._states: dict[EndpointGroup, BreakerState] = {g: BreakerState.closed(g) for g in EndpointGroup}
        for s in states:
            self._states[s.group] = s

    @classmethod
    def load(cls, settings: BreakerSettings, states: Iterable[BreakerState]) -> BreakerBoard:
        """Rebuild from persisted states; groups not in ``states`` start CLOSED."""
        return cls(settings, states)

    def export(self) -> list[BreakerState]:
        """All three states, in EndpointGroup order, for persistence."""
        return [self._states[g] for g in EndpointGroup]

    def state(self, group: EndpointGroup) -> BreakerState:
        return self._states[group]

    def check(self, group: EndpointGroup, now: datetime) -> None:
        """Admit a call or raise CircuitOpen."""
        allowed, new = allow_request(self._states[group], now, self.settings)
        self._states[group] = new
        if not allowed:
            raise CircuitOpen(group.value)

    def success(self, group: EndpointGroup, now: datetime) -> None:
        self._states[group] = record_success(self._states[group], now, self.settings)

    def failure(self, group: EndpointGroup, now: datetime, *, immediate: bool = False) -> None:
        self._states[group] = record_failure(self._states[group], now, self.settings, immediate=immediate)
