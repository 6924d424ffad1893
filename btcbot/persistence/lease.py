"""The instance lease: at most one bot writes to a database at a time.

One row per lease name holds the owner (host, pid), a fencing token and an expiry. ``acquire``
takes the lease when it is free, expired, or already ours, and bumps the token every time; a live
lease held by another process raises LeaseHeld naming the holder. A holder that died keeps the
lease until its expiry; then anyone may take it over. Every unit of work of the holder carries the
token, and its commit is refused (LeaseLost) once a newer acquisition has bumped it.

Atomicity: SQLite runs the check-and-set under ``BEGIN IMMEDIATE`` (the database write lock);
PostgreSQL inserts the row if missing (``ON CONFLICT DO NOTHING``) and then locks it with
``SELECT ... FOR UPDATE``. The row is never deleted, so tokens only ever grow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, update

from btcbot.domain.errors import LeaseHeld, LeaseLost
from btcbot.persistence.engine import with_begin_mode
from btcbot.persistence.tables import LeaseRow

LEASE_NAME = "btcbot"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LeaseToken:
    """Proof of holding the lease; ``token`` is the fencing token for units of work."""

    name: str
    token: int
    owner_host: str
    owner_pid: int
    expires_at: datetime


def _write_conn(engine: Engine) -> Connection:
    return with_begin_mode(engine, "IMMEDIATE").connect()


def _ensure_row(conn: Connection, name: str) -> None:
    values = {
        "name": name,
        "owner_host": "",
        "owner_pid": 0,
        "token": 0,
        "expires_at": _EPOCH,
        "acquired_at": _EPOCH,
    }
    # The dialect modules are imported here, not at the top: the engine already loaded its own,
    # and a SQLite bot never pays for importing the PostgreSQL dialect (~20 ms per `once`).
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        conn.execute(postgresql.insert(LeaseRow).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        conn.execute(sqlite.insert(LeaseRow).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise ValueError(f"unsupported dialect {dialect}")


def _locked_row(conn: Connection, name: str) -> Row[Any]:
    return conn.execute(select(LeaseRow.__table__).where(LeaseRow.name == name).with_for_update()).one()


def acquire(
    engine: Engine, owner_host: str, owner_pid: int, ttl_s: float, now: datetime, name: str = LEASE_NAME
) -> LeaseToken:
    """Take the lease or raise LeaseHeld (nothing changed) naming the live holder."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with _write_conn(engine) as conn, conn.begin():
        _ensure_row(conn, name)
        row = _locked_row(conn, name)
        ours = row.owner_host == owner_host and row.owner_pid == owner_pid
        if row.expires_at > now and not ours:
            raise LeaseHeld(
                f"lease {name!r} held by host {row.owner_host} pid {row.owner_pid} "
                f"until {row.expires_at.isoformat()} (token {row.token})"
            )
        token = row.token + 1
        expires = now + timedelta(seconds=ttl_s)
        conn.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name)
            .values(owner_host=owner_host, owner_pid=owner_pid, token=token, expires_at=expires, acquired_at=now)
        )
    return LeaseToken(name, token, owner_host, owner_pid, expires)


def renew(engine: Engine, lease: LeaseToken, ttl_s: float, now: datetime) -> LeaseToken:
    """Extend our lease; LeaseLost when the token was superseded."""
    expires = now + timedelta(seconds=ttl_s)
    with _write_conn(engine) as conn, conn.begin():
        result = conn.execute(
            update(LeaseRow)
            .where(LeaseRow.name == lease.name, LeaseRow.token == lease.token)
            .values(expires_at=expires)
        )
        if result.rowcount != 1:
            raise LeaseLost(f"lease {lease.name!r} token {lease.token} superseded; cannot renew")
    return LeaseToken(lease.name, lease.token, lease.owner_host, lease.owner_pid, expires)


def release(engine: Engine, lease: LeaseToken, now: datetime) -> bool:
    """Give the lease up (expire it now) if still ours; the row and token stay. True if released."""
    with _write_conn(engine) as conn, conn.begin():
        result = conn.execute(
            update(LeaseRow)
            .where(LeaseRow.name == lease.name, LeaseRow.token == lease.token)
            .values(expires_at=now)
        )
        return result.rowcount == 1


def current_holder(engine: Engine, name: str = LEASE_NAME) -> LeaseToken | None:
    """The recorded holder (live or expired), for ``status``; None if never acquired."""
    with engine.connect() as conn:
        row = conn.execute(select(LeaseRow.__table__).where(LeaseRow.name == name)).one_or_none()
    if row is None or row.token == 0:
        return None
    return LeaseToken(name, row.token, row.owner_host, row.owner_pid, row.expires_at)
