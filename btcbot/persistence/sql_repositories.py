"""SQL repositories over one unit of work's ``SqlHandle``. The ledger lives in ``sql_ledger``.

The cycle's hot path (meta, cycles, trading state, snapshots, the order and outbox lists) runs
prebuilt Core statements (module constants with bind parameters: compiled once, no ORM identity
map, no per-call statement building, no Session at all unless a repository needs the ORM). Those
tables are never loaded as ORM objects here (meta, cycles, trading state, snapshots), or only
written through the ORM (orders, outbox: their Core reads flush the Session first, as the ORM's
autoflush would).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Executable, Row, Table, bindparam, insert, select, update
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session

from btcbot.contracts.persistence import NON_TERMINAL_STATES
from btcbot.contracts.records import (
    BreakerRecord,
    CycleRecord,
    OutboxItem,
    OutboxStatus,
    TradingStateRecord,
)
from btcbot.domain.enums import TradingState
from btcbot.domain.errors import InvariantViolation
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ledger import PortfolioSnapshot
from btcbot.domain.orders import ManagedOrder
from btcbot.persistence import mappers
from btcbot.persistence.sql_handle import SqlHandle
from btcbot.persistence.tables import (
    BreakerRow,
    CycleRow,
    FillRow,
    MetaRow,
    OrderEventRow,
    OrderRow,
    OutboxRow,
    SnapshotRow,
    TradingStateRow,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CYCLE_SEQ_KEY = "cycle_id_seq"
TRADING_STATE_ROW_ID = 1

_META = cast(Table, MetaRow.__table__)
_CYCLES = cast(Table, CycleRow.__table__)
_SNAPSHOTS = cast(Table, SnapshotRow.__table__)
_STATE = cast(Table, TradingStateRow.__table__)
_ORDERS = cast(Table, OrderRow.__table__)
_OUTBOX = cast(Table, OutboxRow.__table__)

_META_GET = select(_META.c.value).where(_META.c.key == bindparam("k"))
_META_GET_FOR_UPDATE = _META_GET.with_for_update()
_META_UPDATE = update(_META).where(_META.c.key == bindparam("k")).values(value=bindparam("v"))
_META_INSERT = insert(_META).values(key=bindparam("k"), value=bindparam("v"))
_CYCLE_INSERT = insert(_CYCLES)
_CYCLE_GET = select(_CYCLES).where(_CYCLES.c.cycle_id == bindparam("cid"))
_SNAPSHOT_LATEST = select(_SNAPSHOTS).order_by(_SNAPSHOTS.c.id.desc()).limit(1)
_SNAPSHOT_INSERT = insert(_SNAPSHOTS)
_STATE_GET = select(_STATE.c.state, _STATE.c.reason, _STATE.c.since).where(_STATE.c.id == TRADING_STATE_ROW_ID)
_STATE_UPDATE = update(_STATE).where(_STATE.c.id == TRADING_STATE_ROW_ID)
_STATE_INSERT = insert(_STATE)
_ORDERS_NON_TERMINAL = (
    select(_ORDERS).where(_ORDERS.c.state.in_([s.value for s in NON_TERMINAL_STATES])).order_by(_ORDERS.c.id)
)
_ORDERS_RECENT: dict[int, Executable] = {}  # by limit
_OUTBOX_PENDING = select(_OUTBOX).where(_OUTBOX.c.status == OutboxStatus.PENDING.value).order_by(_OUTBOX.c.id)
_OUTBOX_PENDING_KIND = (
    select(_OUTBOX)
    .where(_OUTBOX.c.status == OutboxStatus.PENDING.value, _OUTBOX.c.kind == bindparam("kind"))
    .order_by(_OUTBOX.c.id)
)


class SqlOrders:
    def __init__(self, db: SqlHandle) -> None:
        self._db = db

    @property
    def _s(self) -> Session:
        return self._db.session

    def _row(self, client_order_id: str) -> OrderRow | None:
        return self._s.scalar(select(OrderRow).where(OrderRow.client_order_id == client_order_id))

    def add(self, order: ManagedOrder) -> None:
        if self._row(order.client_order_id) is not None:
            raise InvariantViolation(f"order {order.client_order_id} already exists")
        self._s.add(mappers.order_to_row(order))

    def get(self, client_order_id: str) -> ManagedOrder | None:
        row = self._row(client_order_id)
        return None if row is None else mappers.order_from_row(row)

    def get_by_exchange_id(self, exchange_order_id: int) -> ManagedOrder | None:
        row = self._s.scalar(select(OrderRow).where(OrderRow.exchange_order_id == exchange_order_id))
        return None if row is None else mappers.order_from_row(row)

    def update(self, order: ManagedOrder) -> None:
        row = self._row(order.client_order_id)
        if row is None:
            raise InvariantViolation(f"order {order.client_order_id} does not exist")
        mappers.order_to_row(order, row)

    def list_non_terminal(self) -> list[ManagedOrder]:
        return [mappers.order_from_row(r) for r in self._db.flushed(_ORDERS_NON_TERMINAL)]

    def list_recent(self, limit: int) -> list[ManagedOrder]:
        statement = _ORDERS_RECENT.get(limit)
        if statement is None:
            statement = _ORDERS_RECENT[limit] = select(_ORDERS).order_by(_ORDERS.c.id.desc()).limit(limit)
        return [mappers.order_from_row(r) for r in self._db.flushed(statement)]


class SqlJournal:
    def __init__(self, db: SqlHandle) -> None:
        self._db = db

    @property
    def _s(self) -> Session:
        return self._db.session

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
        self._s.add(
            OrderEventRow(
                client_order_id=client_order_id,
                cycle_id=cycle_id,
                from_state=from_state,
                to_state=to_state,
                event=event,
                payload=mappers.dumps_payload(payload),
                at=at,
            )
        )

    def for_order(self, client_order_id: str) -> list[dict[str, Any]]:
        rows = self._s.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.client_order_id == client_order_id)
            .order_by(OrderEventRow.id)
        )
        return [
            {
                "client_order_id": r.client_order_id,
                "cycle_id": r.cycle_id,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "event": r.event,
                "payload": mappers.loads_payload(r.payload),
                "at": r.at,
            }
            for r in rows
        ]


class SqlFills:
    def __init__(self, db: SqlHandle) -> None:
        self._db = db

    @property
    def _s(self) -> Session:
        return self._db.session

    def exists(self, trade_id: int) -> bool:
        return self._s.scalar(select(FillRow.id).where(FillRow.trade_id == trade_id)) is not None

    def add_if_new(self, fill: Fill, cycle_id: int | None) -> bool:
        if self.exists(fill.trade_id):
            return False
        self._s.add(mappers.fill_to_row(fill, cycle_id))
        return True

    def for_order(self, exchange_order_id: int) -> list[Fill]:
        rows = self._s.scalars(
            select(FillRow).where(FillRow.exchange_order_id == exchange_order_id).order_by(FillRow.trade_id)
        )
        return [mappers.fill_from_row(r) for r in rows]


class SqlMeta:
    def __init__(self, db: SqlHandle) -> None:
        self._s = db

    def get(self, key: str) -> str | None:
        value: str | None = self._s.execute(_META_GET, {"k": key}).scalar()
        return value

    def set(self, key: str, value: str) -> None:
        # One UPDATE (it locks the row); an INSERT only when the key is new.
        if _rowcount(self._s.execute(_META_UPDATE, {"k": key, "v": value})) == 0:
            self._s.execute(_META_INSERT, {"k": key, "v": value})


class SqlCycles:
    def __init__(self, db: SqlHandle, meta: SqlMeta) -> None:
        self._s = db
        self._meta = meta

    def next_cycle_id(self) -> int:
        # A counter in ``meta`` rather than MAX(cycle_id)+1: retention may delete cycle rows.
        # One locking read (``FOR UPDATE`` on PostgreSQL), then the update.
        current = self._s.execute(_META_GET_FOR_UPDATE, {"k": CYCLE_SEQ_KEY}).scalar()
        nxt = int(current) + 1 if current is not None else 1
        params = {"k": CYCLE_SEQ_KEY, "v": str(nxt)}
        self._s.execute(_META_INSERT if current is None else _META_UPDATE, params)
        return nxt

    def start(self, cycle_id: int, at: datetime, settings_hash: str | None = None) -> None:
        self._s.execute(_CYCLE_INSERT, {
            "cycle_id": cycle_id, "started_at": at, "finished_at": None, "outcome": None, "safe_mode": False,
            "exit_code": None, "requests": 0, "decision_inputs": None, "settings_hash": settings_hash,
        })

    def _update(self, cycle_id: int, **values: Any) -> None:
        """One UPDATE of the cycle row (no read of it first: the cycle's checkpoint writes it
        every cycle). The row must exist."""
        statement = _CYCLE_UPDATES.get(tuple(values))
        if statement is None:  # one prebuilt statement per set of columns
            statement = _CYCLE_UPDATES[tuple(values)] = (
                update(_CYCLES).where(_CYCLES.c.cycle_id == bindparam("cid"))
                .values({k: bindparam(f"v_{k}") for k in values}))
        params = {f"v_{k}": v for k, v in values.items()}
        params["cid"] = cycle_id
        if _rowcount(self._s.execute(statement, params)) != 1:
            raise InvariantViolation(f"cycle {cycle_id} was never started")

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
        values: dict[str, Any] = {"finished_at": at, "outcome": outcome, "safe_mode": safe_mode,
                                  "exit_code": exit_code, "requests": requests}
        if decision_inputs is not None:
            values["decision_inputs"] = decision_inputs
        self._update(cycle_id, **values)

    def get(self, cycle_id: int) -> CycleRecord | None:
        r = self._s.execute(_CYCLE_GET, {"cid": cycle_id}).first()
        if r is None:
            return None
        return CycleRecord(
            cycle_id=r.cycle_id,
            started_at=r.started_at,
            finished_at=r.finished_at,
            outcome=r.outcome,
            safe_mode=r.safe_mode,
            exit_code=r.exit_code,
            requests=r.requests,
            decision_inputs=r.decision_inputs,
            settings_hash=r.settings_hash,
        )

    def store_inputs(self, cycle_id: int, inputs_json: str) -> None:
        self._update(cycle_id, decision_inputs=inputs_json)


class SqlSnapshots:
    def __init__(self, db: SqlHandle) -> None:
        self._s = db

    def latest(self) -> PortfolioSnapshot | None:
        row = self._s.execute(_SNAPSHOT_LATEST).first()
        return None if row is None else mappers.snapshot_from_row(row)

    def save(self, snapshot: PortfolioSnapshot) -> None:
        self._s.execute(_SNAPSHOT_INSERT, mappers.snapshot_values(snapshot))


def _outbox_item(r: OutboxRow | Row[Any]) -> OutboxItem:
    return OutboxItem(
        id=r.id,
        kind=r.kind,
        key=r.key,
        payload=r.payload,
        status=OutboxStatus(r.status),
        attempts=r.attempts,
        created_at=r.created_at,
        done_at=r.done_at,
    )


class SqlOutbox:
    def __init__(self, db: SqlHandle) -> None:
        self._db = db

    @property
    def _s(self) -> Session:
        return self._db.session

    def add(self, kind: str, key: str, payload: Mapping[str, Any], at: datetime) -> int:
        existing = self._s.scalar(select(OutboxRow.id).where(OutboxRow.key == key))
        if existing is not None:
            return existing
        text = mappers.dumps_payload(payload)
        assert text is not None
        row = OutboxRow(
            kind=kind, key=key, payload=text, status=OutboxStatus.PENDING.value, attempts=0, created_at=at
        )
        self._s.add(row)
        self._db.flush()
        return row.id

    def pending(self, kind: str | None = None) -> list[OutboxItem]:
        rows = (self._db.flushed(_OUTBOX_PENDING) if kind is None
                else self._db.flushed(_OUTBOX_PENDING_KIND, {"kind": kind}))
        return [_outbox_item(r) for r in rows]

    def get(self, outbox_id: int) -> OutboxItem | None:
        row = self._s.get(OutboxRow, outbox_id)
        return None if row is None else _outbox_item(row)

    def _row(self, outbox_id: int) -> OutboxRow:
        row = self._s.get(OutboxRow, outbox_id)
        if row is None:
            raise InvariantViolation(f"outbox item {outbox_id} does not exist")
        return row

    def record_attempt(self, outbox_id: int) -> int:
        row = self._row(outbox_id)
        row.attempts += 1
        return row.attempts

    def mark_done(self, outbox_id: int, at: datetime) -> None:
        row = self._row(outbox_id)
        row.status = OutboxStatus.DONE.value
        row.done_at = at

    def mark_failed(self, outbox_id: int, at: datetime) -> None:
        row = self._row(outbox_id)
        row.status = OutboxStatus.FAILED.value
        row.done_at = at


class SqlTradingState:
    def __init__(self, db: SqlHandle, journal: SqlJournal) -> None:
        self._s = db
        self._journal = journal

    def get(self) -> TradingStateRecord:
        row = self._s.execute(_STATE_GET).first()
        if row is None:
            return TradingStateRecord(TradingState.ACTIVE, "no state recorded", EPOCH)
        return TradingStateRecord(TradingState(row.state), row.reason, row.since)

    def set(self, state: TradingState, reason: str, at: datetime, cycle_id: int | None = None) -> None:
        previous = self.get().state
        values = {"state": state.value, "reason": reason, "since": at}
        if _rowcount(self._s.execute(_STATE_UPDATE, values)) == 0:
            self._s.execute(_STATE_INSERT, {"id": TRADING_STATE_ROW_ID, **values})
        self._journal.append(None, cycle_id, previous.value, state.value, "trading_state", {"reason": reason}, at)


class SqlBreakers:
    def __init__(self, db: SqlHandle) -> None:
        self._db = db

    @property
    def _s(self) -> Session:
        return self._db.session

    def load(self) -> list[BreakerRecord]:
        rows = self._s.scalars(select(BreakerRow).order_by(BreakerRow.group))
        return [
            BreakerRecord(r.group, r.state, r.consecutive_failures, r.opened_at, r.probes_ok) for r in rows
        ]

    def save(self, record: BreakerRecord) -> None:
        row = self._s.get(BreakerRow, record.group)
        if row is None:
            row = BreakerRow(group=record.group)
            self._s.add(row)
        row.state = record.state
        row.consecutive_failures = record.consecutive_failures
        row.opened_at = record.opened_at
        row.probes_ok = record.probes_ok



def _rowcount(result: Result[Any]) -> int:
    count: int = getattr(result, "rowcount", 1)
    return count


_CYCLE_UPDATES: dict[tuple[str, ...], Executable] = {}  # by the set of columns written
