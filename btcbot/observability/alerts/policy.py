"""Which alerts go out: deduplication and per-kind rate limiting, as a pure function.

``AlertPolicy.decide(state, alert, now) -> (Decision, new_state)`` reads no clock and does no I/O.
The state is small (pruned to the dedup window, one entry per kind) and round-trips through JSON,
so it can live in the database next to the alert outbox and be shared by separate cron runs.

Rules, in order:
1. an alert whose ``dedup_key`` was allowed within ``dedup_window_s`` is a DUPLICATE;
2. an alert of a kind allowed less than ``min_interval_s`` ago is RATE_LIMITED (counted), unless the
   kind is in ``unlimited_kinds`` (by default trading-state changes: each transition is rare and
   must be seen);
3. otherwise SEND; the decision carries how many same-kind alerts were suppressed since the last one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from btcbot.observability.alerts.model import Alert, AlertKind


class Verdict(StrEnum):
    SEND = "send"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    #: Same-kind alerts rate-limited since the previous one that was sent (set on SEND only).
    suppressed_before: int = 0

    @property
    def send(self) -> bool:
        return self.verdict is Verdict.SEND


def _ro(d: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True, slots=True)
class PolicyState:
    """History the policy needs: last send per kind, recent dedup keys, suppressed counts per kind."""

    last_sent: Mapping[str, datetime] = field(default_factory=dict)
    seen_keys: Mapping[str, datetime] = field(default_factory=dict)
    suppressed: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "last_sent", _ro(self.last_sent))
        object.__setattr__(self, "seen_keys", _ro(self.seen_keys))
        object.__setattr__(self, "suppressed", _ro(self.suppressed))

    def to_json(self) -> dict[str, dict[str, str] | dict[str, int]]:
        return {
            "last_sent": {k: v.isoformat() for k, v in sorted(self.last_sent.items())},
            "seen_keys": {k: v.isoformat() for k, v in sorted(self.seen_keys.items())},
            "suppressed": dict(sorted(self.suppressed.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, object]]) -> PolicyState:
        return cls(
            last_sent={k: datetime.fromisoformat(str(v)) for k, v in data.get("last_sent", {}).items()},
            seen_keys={k: datetime.fromisoformat(str(v)) for k, v in data.get("seen_keys", {}).items()},
            suppressed={k: int(str(v)) for k, v in data.get("suppressed", {}).items()},
        )


def _default_unlimited() -> frozenset[AlertKind]:
    return frozenset({AlertKind.TRADING_STATE_CHANGE})


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Pure send/suppress decisions. ``min_interval_s`` is ``observability.alert_min_interval_s``."""

    min_interval_s: float
    dedup_window_s: float = 86_400.0
    unlimited_kinds: frozenset[AlertKind] = field(default_factory=_default_unlimited)

    def __post_init__(self) -> None:
        if self.min_interval_s < 0 or self.dedup_window_s < 0:
            raise ValueError("alert intervals must be >= 0")

    def decide(self, state: PolicyState, alert: Alert, now: datetime) -> tuple[Decision, PolicyState]:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        horizon = now - timedelta(seconds=self.dedup_window_s)
        # Pruning keeps the state bounded by the number of alerts in one dedup window.
        seen = {k: t for k, t in state.seen_keys.items() if t > horizon}
        if alert.dedup_key in seen:
            return Decision(Verdict.DUPLICATE), PolicyState(state.last_sent, seen, state.suppressed)
        kind = alert.kind.value
        last = state.last_sent.get(kind)
        # A clock that went back counts as "interval not over": the safe side is fewer messages.
        if (
            alert.kind not in self.unlimited_kinds
            and last is not None
            and now - last < timedelta(seconds=self.min_interval_s)
        ):
            suppressed = {**state.suppressed, kind: state.suppressed.get(kind, 0) + 1}
            return Decision(Verdict.RATE_LIMITED), PolicyState(state.last_sent, seen, suppressed)
        before = state.suppressed.get(kind, 0)
        seen[alert.dedup_key] = now
        suppressed = {k: v for k, v in state.suppressed.items() if k != kind}
        return (
            Decision(Verdict.SEND, suppressed_before=before),
            PolicyState({**state.last_sent, kind: now}, seen, suppressed),
        )
