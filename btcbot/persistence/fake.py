"""FakeUnitOfWork: the UnitOfWork Protocol in memory, for fast service tests.

It passes the same repository contract tests as SqlUnitOfWork (tests/persistence). Each unit of
work works on a copy of the shared ``FakeStore`` and writes it back only on ``commit()``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from btcbot.contracts.records import (
    BreakerRecord,
    CycleRecord,
    LedgerEntry,
    OutboxItem,
    OutboxStatus,
    TradingStateRecord,
)
from btcbot.domain.enums import TradingState
from btcbot.domain.errors import InvariantViolation
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ledger import (
    ZERO,
    Account,
    BalanceKey,
    PortfolioSnapshot,
    Posting,
    apply_postings,
    check_balances,
    check_batch,
)
from btcbot.domain.orders import ManagedOrder
from btcbot.persistence.mappers import dumps_payload, loads_payload
from btcbot.persistence.sql_repositories import CYCLE_SEQ_KEY, EPOCH


@dataclass
class FakeStore:
    """Committed state shared by FakeUnitOfWork instances."""

    orders: dict[str, ManagedOrder] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    fills: dict[int, tuple[Fill, int | None]] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    balances: dict[BalanceKey, Decimal] = field(default_factory=dict)
    cycles: dict[int, CycleRecord] = field(default_factory=dict)
    snapshots: list[PortfolioSnapshot] = field(default_factory=list)
    outbox: dict[int, OutboxItem] = field(default_factory=dict)
    trading_state: TradingStateRecord | None = None
    breakers: dict[str, BreakerRecord] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    commits: int = 0


class _Repo:
    def __init__(self, state: FakeStore) -> None:
        self._st = state


class FakeOrders(_Repo):
    def add(self, order: ManagedOrder) -> None:
        if order.client_order_id in self._st.orders:
            raise InvariantViolation(f"order {order.client_order_id} already exists")
        self._st.orders[order.client_order_id] = order

    def get(self, client_order_id: str) -> ManagedOrder | None:
        return self._st.orders.get(client_order_id)

    def get_by_exchange_id(self, exchange_order_id: int) -> ManagedOrder | None:
        return next((o for o in self._st.orders.values() if o.exchange_order_id == exchange_order_id), None)

    def update(self, order: ManagedOrder) -> None:
        if order.client_order_id not in self._st.orders:
            raise InvariantViolation(f"order {order.client_order_id} does not exist")
        self._st.orders[order.client_order_id] = order

    def list_non_terminal(self) -> list[ManagedOrder]:
        return [o for o in self._st.orders.values() if not o.is_terminal]

    def list_recent(self, limit: int) -> list[ManagedOrder]:
        return list(reversed(self._st.orders.values()))[:limit]


class FakeJournal(_Repo):
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
        self._st.journal.append(
            {
                "client_order_id": client_order_id,
                "cycle_id": cycle_id,
                "from_state": from_state,
                "to_state": to_state,
                "event": event,
                # Encode like the SQL journal so both return the same decoded payload.
                "payload": loads_payload(dumps_payload(payload)),
                "at": at,
            }
        )

    def for_order(self, client_order_id: str) -> list[dict[str, Any]]:
        return [dict(e) for e in self._st.journal if e["client_order_id"] == client_order_id]


class FakeFills(_Repo):
    def exists(self, trade_id: int) -> bool:
        return trade_id in self._st.fills

    def add_if_new(self, fill: Fill, cycle_id: int | None) -> bool:
        if fill.trade_id in self._st.fills:
            return False
        self._st.fills[fill.trade_id] = (fill, cycle_id)
        return True

    def for_order(self, exchange_order_id: int) -> list[Fill]:
        found = [f for f, _ in self._st.fills.values() if f.order_id == exchange_order_id]
        return sorted(found, key=lambda f: f.trade_id)


class FakeLedger(_Repo):
    def balance(self, account: Account, asset: str) -> Decimal:
        return self._st.balances.get((account, asset), ZERO)

    def post(self, batch: Sequence[Posting], at: datetime, cycle_id: int | None = None) -> int:
        check_batch(batch)
        after = apply_postings(self._st.balances, batch)
        check_balances(after)
        batch_id = max((e.batch_id for e in self._st.entries), default=0) + 1
        for p in batch:
            entry_id = len(self._st.entries) + 1
            self._st.entries.append(
                LedgerEntry(entry_id, batch_id, p.asset, p.account.value, p.amount, p.ref, p.reason, cycle_id, at)
            )
        self._st.balances.update(after)
        return batch_id

    def wallet_balances(self) -> dict[str, Decimal]:
        return {a: v for (acc, a), v in self._st.balances.items() if acc is Account.WALLET and v != ZERO}

    def entries(self, ref: str) -> list[LedgerEntry]:
        return [e for e in self._st.entries if e.ref == ref]

    def check_invariants(self) -> list[str]:
        sums = apply_postings({}, (Posting(e.asset, Account(e.account), e.amount, e.ref) for e in self._st.entries))
        problems = [
            f"running balance {k[0].value}:{k[1]} is {self._st.balances.get(k, ZERO)}, entries sum to {sums.get(k, ZERO)}"
            for k in sorted(set(sums) | set(self._st.balances))
            if sums.get(k, ZERO) != self._st.balances.get(k, ZERO)
        ]
        try:
            check_balances(sums)
        except InvariantViolation as exc:
            problems.append(str(exc))
        return problems


class FakeMeta(_Repo):
    def get(self, key: str) -> str | None:
        return self._st.meta.get(key)

    def set(self, key: str, value: str) -> None:
        self._st.meta[key] = value


class FakeCycles(_Repo):
    def next_cycle_id(self) -> int:
        nxt = int(self._st.meta.get(CYCLE_SEQ_KEY, "0")) + 1
        self._st.meta[CYCLE_SEQ_KEY] = str(nxt)
        return nxt

    def start(self, cycle_id: int, at: datetime, settings_hash: str | None = None) -> None:
        if cycle_id in self._st.cycles:
            raise InvariantViolation(f"cycle {cycle_id} already started")
        self._st.cycles[cycle_id] = CycleRecord(cycle_id, at, settings_hash=settings_hash)

    def _get(self, cycle_id: int) -> CycleRecord:
        if cycle_id not in self._st.cycles:
            raise InvariantViolation(f"cycle {cycle_id} was never started")
        return self._st.cycles[cycle_id]

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
        record = replace(
            self._get(cycle_id),
            finished_at=at,
            outcome=outcome,
            safe_mode=safe_mode,
            exit_code=exit_code,
            requests=requests,
        )
        self._st.cycles[cycle_id] = record if decision_inputs is None else replace(record, decision_inputs=decision_inputs)

    def get(self, cycle_id: int) -> CycleRecord | None:
        return self._st.cycles.get(cycle_id)

    def store_inputs(self, cycle_id: int, inputs_json: str) -> None:
        self._st.cycles[cycle_id] = replace(self._get(cycle_id), decision_inputs=inputs_json)


class FakeSnapshots(_Repo):
    def latest(self) -> PortfolioSnapshot | None:
        return self._st.snapshots[-1] if self._st.snapshots else None

    def save(self, snapshot: PortfolioSnapshot) -> None:
        self._st.snapshots.append(snapshot)


class FakeOutbox(_Repo):
    def add(self, kind: str, key: str, payload: Mapping[str, Any], at: datetime) -> int:
        for item in self._st.outbox.values():
            if item.key == key:
                return item.id
        text = dumps_payload(payload)
        assert text is not None
        new_id = max(self._st.outbox, default=0) + 1
        self._st.outbox[new_id] = OutboxItem(new_id, kind, key, text, OutboxStatus.PENDING, 0, at, None)
        return new_id

    def pending(self, kind: str | None = None) -> list[OutboxItem]:
        return [
            i
            for _, i in sorted(self._st.outbox.items())
            if i.status is OutboxStatus.PENDING and (kind is None or i.kind == kind)
        ]

    def get(self, outbox_id: int) -> OutboxItem | None:
        return self._st.outbox.get(outbox_id)

    def _get(self, outbox_id: int) -> OutboxItem:
        if outbox_id not in self._st.outbox:
            raise InvariantViolation(f"outbox item {outbox_id} does not exist")
        return self._st.outbox[outbox_id]

    def record_attempt(self, outbox_id: int) -> int:
        item = self._get(outbox_id)
        self._st.outbox[outbox_id] = replace(item, attempts=item.attempts + 1)
        return item.attempts + 1

    def mark_done(self, outbox_id: int, at: datetime) -> None:
        self._st.outbox[outbox_id] = replace(self._get(outbox_id), status=OutboxStatus.DONE, done_at=at)

    def mark_failed(self, outbox_id: int, at: datetime) -> None:
        self._st.outbox[outbox_id] = replace(self._get(outbox_id), status=OutboxStatus.FAILED, done_at=at)


class FakeTradingState(_Repo):
    def __init__(self, state: FakeStore, journal: FakeJournal) -> None:
        super().__init__(state)
        self._journal = journal

    def get(self) -> TradingStateRecord:
        current = self._st.trading_state
        return current if current is not None else TradingStateRecord(TradingState.ACTIVE, "no state recorded", EPOCH)

    def set(self, state: TradingState, reason: str, at: datetime, cycle_id: int | None = None) -> None:
        previous = self.get().state
        self._st.trading_state = TradingStateRecord(state, reason, at)
        self._journal.append(None, cycle_id, previous.value, state.value, "trading_state", {"reason": reason}, at)


class FakeBreakers(_Repo):
    def load(self) -> list[BreakerRecord]:
        return [self._st.breakers[g] for g in sorted(self._st.breakers)]

    def save(self, record: BreakerRecord) -> None:
        self._st.breakers[record.group] = record


class FakeUnitOfWork:
    """In-memory unit of work over a shared ``FakeStore`` (pass the same store to share state)."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store if store is not None else FakeStore()
        self._work: FakeStore | None = None

    def _bind(self, work: FakeStore) -> None:
        self._work = work
        self.journal = FakeJournal(work)
        self.orders = FakeOrders(work)
        self.fills = FakeFills(work)
        self.ledger = FakeLedger(work)
        self.cycles = FakeCycles(work)
        self.snapshots = FakeSnapshots(work)
        self.outbox = FakeOutbox(work)
        self.trading_state = FakeTradingState(work, self.journal)
        self.breakers = FakeBreakers(work)
        self.meta = FakeMeta(work)

    def __enter__(self) -> Self:
        self._bind(copy.deepcopy(self.store))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None

    def commit(self) -> None:
        if self._work is None:
            raise RuntimeError("FakeUnitOfWork used outside its with-block")
        commits = self.store.commits + 1
        self.store.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.store.commits = commits

    def rollback(self) -> None:
        self._bind(copy.deepcopy(self.store))
