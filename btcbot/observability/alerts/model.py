"""Alert values: what happened (kind), how bad (severity), and structured details.

An alert carries no free-form blobs: the text sent to a webhook is built by the formatters from
``kind``, ``severity``, ``summary`` and the ``details`` mapping (string keys and values), so a secret
can only leak if a caller puts one into a field on purpose (and known secret-like keys are masked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class AlertKind(StrEnum):
    STALE_FEED = "stale_feed"
    REPEATED_RETRIES = "repeated_retries"
    BREAKER_OPEN = "breaker_open"
    RISK_REJECT_SPIKE = "risk_reject_spike"
    BALANCE_DRIFT = "balance_drift"
    TRADING_STATE_CHANGE = "trading_state_change"
    LEASE_LOST = "lease_lost"
    INVARIANT_VIOLATION = "invariant_violation"
    RISK_REARM = "risk_rearm"
    COST_BASIS_UNKNOWN = "cost_basis_unknown"
    DATABASE_OUTAGE = "database_outage"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. ``dedup_key`` identifies the incident: the outbox keeps one alert per key, and the
    key is sent as ``X-Idempotency-Key`` so a receiver can drop a redelivery. Make it specific to the
    incident, e.g. ``f"breaker_open:{group}:{opened_at.isoformat()}"`` or ``f"...:{cycle_id}"``."""

    kind: AlertKind
    severity: Severity
    summary: str
    details: Mapping[str, str]
    dedup_key: str
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AlertKind(self.kind))
        object.__setattr__(self, "severity", Severity(self.severity))
        if self.at.tzinfo is None:
            raise ValueError("Alert.at must be timezone-aware")
        if not self.dedup_key:
            raise ValueError("Alert.dedup_key must not be empty")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.details.items()):
            raise TypeError("Alert.details must map str to str")
        # Read-only copy so a caller's dict cannot change a queued alert.
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_json(self) -> dict[str, object]:
        """JSON-safe form (for a database outbox row)."""
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "summary": self.summary,
            "details": dict(self.details),
            "dedup_key": self.dedup_key,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Alert:
        details = data["details"]
        if not isinstance(details, Mapping):
            raise TypeError("details must be a mapping")
        return cls(
            kind=AlertKind(str(data["kind"])),
            severity=Severity(str(data["severity"])),
            summary=str(data["summary"]),
            details={str(k): str(v) for k, v in details.items()},
            dedup_key=str(data["dedup_key"]),
            at=datetime.fromisoformat(str(data["at"])),
        )
