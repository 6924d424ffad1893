"""Engine factory: SQLite tuned for crash safety, or PostgreSQL through psycopg 3.

SQLite: WAL journal, ``synchronous=FULL`` (a committed cycle survives power loss), busy timeout,
foreign keys on, and the database file created with mode 0600 before SQLite opens it. A path
whose directory does not exist is a ConfigError: a mistyped path never grows directories. pysqlite's
own implicit transaction handling is switched off and we emit ``BEGIN`` ourselves, so that a
connection with the execution option ``sqlite_begin="IMMEDIATE"`` takes the write lock at the
start of the transaction (units of work and the lease do): no deferred-to-write upgrade that
can fail with SQLITE_BUSY half way through a cycle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Connection, make_url

from btcbot.domain.errors import ConfigError

#: Execution option read by the ``begin`` hook: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN_OPTION = "sqlite_begin"


#: ``application_name`` of the bot's PostgreSQL sessions (visible in pg_stat_activity) unless the
#: URL sets its own (``?application_name=...``).
APPLICATION_NAME = "btcbot"


def _in_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or database.startswith("file:")


def sqlite_file(url: str) -> Path | None:
    """The database file of a file-backed SQLite URL (None for PostgreSQL or in-memory SQLite).
    ConfigError when the file's directory does not exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or _in_memory(parsed.database):
        return None
    assert parsed.database is not None
    path = Path(parsed.database)
    if not path.parent.is_dir():
        raise ConfigError(
            f"BTCBOT_DATABASE__URL: directory {path.parent} does not exist "
            "(create it first; btcbot never creates directories)"
        )
    return path


def _ensure_private_file(database: str) -> None:
    """Create the SQLite file with mode 0600 if missing; tighten an existing one."""
    path = Path(database)
    if not path.parent.is_dir():
        raise ConfigError(
            f"BTCBOT_DATABASE__URL: directory {path.parent} does not exist "
            "(create it first; btcbot never creates directories)"
        )
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def with_begin_mode(engine: Engine, mode: str) -> Engine:
    """``engine.execution_options(sqlite_begin=mode)``, built once per engine and mode and then
    reused: every unit of work binds to one, and building it (an OptionEngine joining the
    engine's event dispatch) cost about as much CPU as a statement. It shares the engine's pool
    and sees listeners added to the engine later (joined dispatch); it does not see execution
    options set on the engine after it was built (nothing here sets any)."""
    modes: dict[str, Engine] = engine.__dict__.setdefault("_btcbot_begin_modes", {})
    bound = modes.get(mode)
    if bound is None:
        bound = modes[mode] = engine.execution_options(**{SQLITE_BEGIN_OPTION: mode})
    return bound


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine_for(url: str, busy_timeout_ms: int = 5000) -> Engine:
    """Build the engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, busy_timeout_ms)
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # pre-ping: a connection the server dropped (restart, pg_terminate_backend) is replaced
        # at checkout instead of failing the next statement.
        connect_args = {} if "application_name" in parsed.query else {"application_name": APPLICATION_NAME}
        return sa_create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    raise ValueError(f"unsupported database backend {parsed.get_backend_name()!r}")


def _sqlite_engine(url: str, database: str | None, busy_timeout_ms: int) -> Engine:
    in_memory = _in_memory(database)
    if not in_memory:
        assert database is not None
        _ensure_private_file(database)
    engine = sa_create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: we issue BEGIN ourselves (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"bad {SQLITE_BEGIN_OPTION} option {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


#: SQLite errors that mean "try again later", not "this statement is wrong".
_SQLITE_TRANSIENT = ("database is locked", "database is busy", "unable to open database file", "disk i/o error",
                     "database or disk is full")


def is_connection_error(error: BaseException) -> bool:
    """True when ``error`` means the database is unreachable for now (a dropped or refused
    PostgreSQL connection, a server restart or shutdown, a SQLite file locked past the busy
    timeout or gone), as opposed to a bug or a schema problem. Walks the exception chain."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (OperationalError, InterfaceError)):
            text = str(current.orig if current.orig is not None else current).lower()
            module = type(current.orig).__module__ if current.orig is not None else ""
            if module.startswith("sqlite3"):
                return any(marker in text for marker in _SQLITE_TRANSIENT)
            return True  # psycopg: OperationalError/InterfaceError are connection-level failures
        current = current.__cause__ or current.__context__
    return False


def probe(engine: Engine) -> None:
    """One trivial round trip that fails while the database is unreachable: ``SELECT 1`` on
    PostgreSQL; on SQLite the write lock itself (``BEGIN IMMEDIATE``), since a lock is the outage
    there and a plain read would not notice it."""
    if is_sqlite(engine):
        with with_begin_mode(engine, "IMMEDIATE").begin() as conn:
            conn.exec_driver_sql("SELECT 1")
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
