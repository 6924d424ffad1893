"""The database side of one SqlUnitOfWork: a Connection (its transaction begins with the first
statement, as a Session's would) and, only when a repository needs the ORM, a Session joined to
that connection's transaction.

Why not always a Session: the cycle's hot path runs prebuilt Core statements only (meta, cycles,
trading state, snapshots, ledger, the order and outbox lists, the fence check); a Session's
transaction bookkeeping would cost about as much CPU as those statements. An idle cycle's units
of work never create one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Result
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.orm import Session


class SqlHandle:
    """``execute`` (Core, on the unit of work's connection), ``session`` (ORM, created on first
    use), ``flushed`` (Core after the ORM's pending changes: its autoflush for reads of tables
    the ORM writes)."""

    def __init__(self, bind: Engine) -> None:
        self._bind = bind
        self._conn: Connection | None = None
        self._session: Session | None = None
        #: A flush failed: the Session rolled the transaction back. Nothing more runs (nor
        #: commits) until ``rollback``, as with a plain Session (PendingRollbackError).
        self._failed = False

    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._bind.connect()
        return self._conn

    def execute(
        self, statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> Result[Any]:
        """One Core statement in the unit of work's transaction (begun by the first one)."""
        self._check()
        return self.connection().execute(statement, params)

    @property
    def session(self) -> Session:
        """The ORM Session, joined to the connection's transaction (it never commits it: the unit
        of work does, after flushing this Session)."""
        if self._session is None:
            conn = self.connection()
            if not conn.in_transaction():
                conn.begin()
            self._session = Session(bind=conn, expire_on_commit=False, autoflush=True,
                                    join_transaction_mode="rollback_only")
        return self._session

    def flushed(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Result[Any]:
        """A Core read of a table the ORM writes: pending ORM changes are flushed first."""
        self.flush()
        return self.execute(statement, params)

    def flush(self) -> None:
        if self._session is not None:
            try:
                self._session.flush()
            except BaseException:
                self._failed = True
                raise

    def _check(self) -> None:
        if self._failed:
            raise PendingRollbackError(
                "this unit of work's transaction was rolled back after a failed flush; roll back first")

    def commit(self) -> None:
        """Flush, then commit the connection's transaction (the caller checks the fence between
        ``flush`` and this)."""
        self.flush()
        self._check()
        if self._conn is not None and self._conn.in_transaction():
            self._conn.commit()
        self._drop_session()

    def rollback(self) -> None:
        self._failed = False
        self._drop_session()
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()

    def close(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        try:
            self.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _drop_session(self) -> None:
        # The Session's joined transaction has ended: the next ORM use gets a new Session.
        if self._session is not None:
            session, self._session = self._session, None
            session.close()
