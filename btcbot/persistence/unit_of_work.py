"""SqlUnitOfWork: one database transaction over every repository, fenced by the lease token.

On SQLite the transaction starts with ``BEGIN IMMEDIATE`` (write lock up front, waiting at most
the busy timeout), so a cycle never fails half way with SQLITE_BUSY. When a ``fencing_token`` is
given, ``commit()`` first re-reads the lease row in the same transaction (``FOR SHARE`` on
PostgreSQL, so a concurrent take-over waits for us) and refuses to commit, rolling back and
raising LeaseLost, unless the token is still ours. An expired but untaken lease still fences
correctly: only a newer acquisition changes the token.

``extend_lease_to``: the same commit also extends our lease to that time (the lease keeper's
renewal at half-life, folded into a transaction the cycle makes anyway instead of one of its
own); ``on_lease_extended`` hears the new expiry once the commit succeeded.

The transaction runs on one Connection (``sql_handle``); an ORM Session joins it only when a
repository needs the ORM, so an idle cycle's units of work pay for no Session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self, cast

from sqlalchemy import Engine, Table, bindparam, select, update

from btcbot.domain.errors import LeaseLost
from btcbot.persistence.engine import with_begin_mode
from btcbot.persistence.lease import LEASE_NAME
from btcbot.persistence.sql_handle import SqlHandle
from btcbot.persistence.sql_ledger import SqlLedger
from btcbot.persistence.sql_repositories import (
    SqlBreakers,
    SqlCycles,
    SqlFills,
    SqlJournal,
    SqlMeta,
    SqlOrders,
    SqlOutbox,
    SqlSnapshots,
    SqlTradingState,
)
from btcbot.persistence.tables import LeaseRow

_LEASE = cast(Table, LeaseRow.__table__)
#: Prebuilt (compiled once): every committed unit of work runs the fence check.
_FENCE = select(_LEASE.c.token).where(_LEASE.c.name == bindparam("lease")).with_for_update(read=True)
_EXTEND = (
    update(_LEASE)
    .where(_LEASE.c.name == bindparam("lease"), _LEASE.c.token == bindparam("fence"))
    .values(expires_at=bindparam("until"))
)


class SqlUnitOfWork:
    """``with SqlUnitOfWork(engine, fencing_token=t) as uow: ...; uow.commit()``."""

    def __init__(
        self,
        engine: Engine,
        fencing_token: int | None = None,
        lease_name: str = LEASE_NAME,
        *,
        extend_lease_to: datetime | None = None,
        on_lease_extended: Callable[[datetime], None] | None = None,
    ) -> None:
        if extend_lease_to is not None and fencing_token is None:
            raise ValueError("extending the lease needs the fencing token")
        self._engine = engine
        self._fencing_token = fencing_token
        self._lease_name = lease_name
        self._extend_lease_to = extend_lease_to
        self._on_lease_extended = on_lease_extended
        self._db: SqlHandle | None = None

    def _bind(self) -> Engine:
        """The engine the transaction runs on (SQLite: ``BEGIN IMMEDIATE``, the write lock up front)."""
        return with_begin_mode(self._engine, "IMMEDIATE")

    def __enter__(self) -> Self:
        db = SqlHandle(self._bind())
        self._db = db
        self.journal = SqlJournal(db)
        self.meta = SqlMeta(db)
        self.orders = SqlOrders(db)
        self.fills = SqlFills(db)
        self.ledger = SqlLedger(db)
        self.cycles = SqlCycles(db, self.meta)
        self.snapshots = SqlSnapshots(db)
        self.outbox = SqlOutbox(db)
        self.trading_state = SqlTradingState(db, self.journal)
        self.breakers = SqlBreakers(db)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        db = self._require_db()
        try:
            db.close()
        finally:
            self._db = None

    def _require_db(self) -> SqlHandle:
        if self._db is None:
            raise RuntimeError("SqlUnitOfWork used outside its with-block")
        return self._db

    def _check_fence(self, db: SqlHandle) -> None:
        token = db.execute(_FENCE, {"lease": self._lease_name}).scalar()
        if token != self._fencing_token:
            raise LeaseLost(
                f"fencing token {self._fencing_token} superseded (lease token is now {token}); commit refused"
            )

    def commit(self) -> None:
        """Flush and commit everything; with a fencing token, only while the lease is still ours."""
        db = self._require_db()
        try:
            db.flush()
            if self._fencing_token is not None:
                self._check_fence(db)
            if self._extend_lease_to is not None:
                db.execute(_EXTEND, {"lease": self._lease_name, "fence": self._fencing_token,
                                     "until": self._extend_lease_to})
            db.commit()
        except BaseException:
            db.rollback()
            raise
        if self._extend_lease_to is not None and self._on_lease_extended is not None:
            self._on_lease_extended(self._extend_lease_to)

    def rollback(self) -> None:
        self._require_db().rollback()
