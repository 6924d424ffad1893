"""The UnitOfWork port and its repositories: what services depend on.

Two implementations satisfy it and pass the same contract tests (tests/persistence/):
``SqlUnitOfWork`` (SQLite / PostgreSQL) and ``FakeUnitOfWork`` (in memory, for fast service
tests). Repositories take and return domain values, never ORM rows. Nothing is written until
``commit()``; leaving the ``with`` block without it rolls everything back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from btcbot.contracts.records import (
    BreakerRecord,
    CycleRecord,
    LedgerEntry,
    OutboxItem,
    TradingStateRecord,
)
from btcbot.domain.enums import OrderState, TradingState
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.ledger import Account, PortfolioSnapshot, Posting
from btcbot.domain.orders import ManagedOrder


class OrderRepository(Protocol):
    def add(self, order: ManagedOrder) -> None:
        """Insert a new order; a duplicate client order id raises InvariantViolation."""

    def get(self, client_order_id: ClientOrderId) -> ManagedOrder | None: ...

    def get_by_exchange_id(self, exchange_order_id: int) -> ManagedOrder | None: ...

    def update(self, order: ManagedOrder) -> None:
        """Overwrite the stored order (matched by client order id); unknown id raises."""

    def list_non_terminal(self) -> list[ManagedOrder]:
        """Orders not in a terminal state, oldest first (index on ``state``)."""

    def list_recent(self, limit: int) -> list[ManagedOrder]:
        """The ``limit`` most recently created orders, newest first."""


class JournalRepository(Protocol):
    def append(
        self,
        client_order_id: str | None,
        cycle_id: int | None,
        from_state: str | None,
        to_state: str,
        event: str,
        payload: Mapping[str, Any] | None,
        at: datetime,
    ) -> None:
        """Append one event; ``payload`` (the exchange payload that caused it) stored as JSON."""

    def for_order(self, client_order_id: ClientOrderId) -> list[dict[str, Any]]:
        """Events of one order, oldest first (dicts with the column names, payload decoded)."""


class FillRepository(Protocol):
    def add_if_new(self, fill: Fill, cycle_id: int | None) -> bool:
        """Store ``fill`` unless its trade id is known; True when it was new."""

    def exists(self, trade_id: int) -> bool: ...

    def for_order(self, exchange_order_id: int) -> list[Fill]: ...


class LedgerRepository(Protocol):
    def post(self, batch: Sequence[Posting], at: datetime, cycle_id: int | None = None) -> int:
        """Check the batch (balances per asset, reasons, no negative wallet) and store it.

        Returns the batch id. Raises InvariantViolation and stores nothing when a check fails.
        """

    def balance(self, account: Account, asset: str) -> Decimal: ...

    def wallet_balances(self) -> dict[str, Decimal]:
        """Non-zero wallet balance per asset."""

    def entries(self, ref: str) -> list[LedgerEntry]:
        """Stored postings with this ``ref`` (e.g. ``trade:123``)."""

    def check_invariants(self) -> list[str]:
        """Full check (scans history; for reconcile and tests): empty list when consistent."""


class CycleRepository(Protocol):
    def next_cycle_id(self) -> int:
        """Reserve the next cycle id: persisted, strictly increasing, never reused."""

    def start(self, cycle_id: int, at: datetime, settings_hash: str | None = None) -> None: ...

    def finish(
        self,
        cycle_id: int,
        at: datetime,
        outcome: str,
        *,
        safe_mode: bool = False,
        exit_code: int | None = None,
        requests: int = 0,
        decision_inputs: str | None = None,
    ) -> None:
        """Record the end of the cycle; ``decision_inputs`` (when given) as ``store_inputs``
        would, in the same write."""

    def get(self, cycle_id: int) -> CycleRecord | None: ...

    def store_inputs(self, cycle_id: int, inputs_json: str) -> None:
        """Compact JSON of the decision inputs, for deterministic replay."""


class SnapshotRepository(Protocol):
    def latest(self) -> PortfolioSnapshot | None: ...

    def save(self, snapshot: PortfolioSnapshot) -> None: ...


class OutboxRepository(Protocol):
    def add(self, kind: str, key: str, payload: Mapping[str, Any], at: datetime) -> int:
        """Queue a side effect; an existing ``key`` returns the existing id unchanged."""

    def pending(self, kind: str | None = None) -> list[OutboxItem]:
        """Pending items, oldest first."""

    def get(self, outbox_id: int) -> OutboxItem | None: ...

    def record_attempt(self, outbox_id: int) -> int:
        """Count one attempt; returns the new count."""

    def mark_done(self, outbox_id: int, at: datetime) -> None: ...

    def mark_failed(self, outbox_id: int, at: datetime) -> None: ...


class TradingStateRepository(Protocol):
    def get(self) -> TradingStateRecord:
        """The persisted state; ACTIVE since the epoch when none was ever recorded."""

    def set(self, state: TradingState, reason: str, at: datetime, cycle_id: int | None = None) -> None:
        """Persist a state change and journal it (``order_events`` with no order id)."""


class BreakerRepository(Protocol):
    def load(self) -> list[BreakerRecord]: ...

    def save(self, record: BreakerRecord) -> None:
        """Insert or replace the record of ``record.group``."""


class MetaRepository(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; rolls back unless ``commit()`` is called.

    Repositories are read-only properties so that implementations may expose their concrete types.
    """


    @property
    def orders(self) -> OrderRepository: ...

    @property
    def journal(self) -> JournalRepository: ...

    @property
    def fills(self) -> FillRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def cycles(self) -> CycleRepository: ...

    @property
    def snapshots(self) -> SnapshotRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def trading_state(self) -> TradingStateRepository: ...

    @property
    def breakers(self) -> BreakerRepository: ...

    @property
    def meta(self) -> MetaRepository: ...


    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


#: Order states that ``list_non_terminal`` returns (an IN list, so the state index is used).
NON_TERMINAL_STATES: tuple[OrderState, ...] = tuple(s for s in OrderState if not s.is_terminal)
