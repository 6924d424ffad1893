"""Plain values the persistence port returns besides domain objects (cycles, outbox, breakers ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from btcbot.domain.enums import TradingState


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A side effect to perform at least once (``key`` makes it idempotent); payload is JSON."""

    id: int
    kind: str
    key: str
    payload: str
    status: OutboxStatus
    attempts: int
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class CycleRecord:
    cycle_id: int
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str | None = None
    safe_mode: bool = False
    exit_code: int | None = None
    requests: int = 0
    decision_inputs: str | None = None
    settings_hash: str | None = None


class TradingStateRecord(NamedTuple):
    """``(state, reason, since)``; unpacks like a tuple."""

    state: TradingState
    reason: str
    since: datetime


@dataclass(frozen=True, slots=True)
class BreakerRecord:
    """Persisted circuit-breaker state of one endpoint group (shared by cron runs)."""

    group: str
    state: str
    consecutive_failures: int
    opened_at: datetime | None
    probes_ok: int


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One stored posting with its bookkeeping (batch, time, cycle)."""

    id: int
    batch_id: int
    asset: str
    account: str
    amount: Decimal
    ref: str
    reason: str
    cycle_id: int | None
    at: datetime

