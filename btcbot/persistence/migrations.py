"""Migrations (programmatic alembic) and the cheap schema check every command runs first.

The scripts ship inside the package (``btcbot/persistence/alembic_scripts``); the top-level
``alembic.ini`` points the CLI at the same directory.

Two costs are kept apart on purpose:

- ``upgrade`` / ``downgrade`` import alembic (60-140 ms) and run only from ``btcbot db upgrade``
  (and on first use through ``run.sh``, see ``btcbot.app.wiring.open_database``).
- ``schema_status`` is what ``once``/``run``/``status``/``reconcile`` pay on every start: the head
  revision is read from the script files with a regular expression (no alembic import; a test
  checks it against alembic's own answer) and the database is asked one query of
  ``alembic_version``. It creates nothing: a missing SQLite file stays missing (read-only
  connection), an unmigrated PostgreSQL schema stays empty.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Engine, inspect, text

from btcbot.persistence.engine import create_engine_for, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent / "alembic_scripts"
VERSIONS = SCRIPT_LOCATION / "versions"
VERSION_TABLE = "alembic_version"
_SELECT_VERSION = "SELECT version_num FROM alembic_version"

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at the packaged scripts (``url`` optional)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _with_engine(url: str, action: str, revision: str) -> None:
    from alembic import command

    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            if action == "upgrade":
                command.upgrade(cfg, revision)
            else:
                command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the latest); creates a missing
    SQLite file (never its directory)."""
    _with_engine(url, "upgrade", revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"`` drops every table)."""
    _with_engine(url, "downgrade", revision)


@cache
def head() -> str:
    """The newest revision shipped with this code, read from the script files without alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(VERSIONS.glob("*.py")):
        source = script.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        raise RuntimeError(f"expected one alembic head, found {heads}")
    return heads[0]


@dataclass(frozen=True)
class SchemaStatus:
    """What the database holds: ``revision`` from alembic_version (None: no such table or row);
    ``empty`` when there is no database file or not a single table yet (first use)."""

    revision: str | None
    empty: bool
    head: str

    @property
    def ready(self) -> bool:
        return self.revision == self.head


def _single(rows: list[Any]) -> str | None:
    if not rows:
        return None
    if len(rows) > 1:
        raise RuntimeError(f"{VERSION_TABLE} holds {len(rows)} revisions (branches are not supported)")
    return str(rows[0])


def _file_state(path: Path) -> tuple[int, int, int, bool]:
    """What changes when anybody writes the database: the main file's identity, size and mtime,
    and whether a -wal file is next to it."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, path.with_name(path.name + "-wal").exists()


def _read_status(path: Path, mode: str) -> SchemaStatus:
    conn = sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if VERSION_TABLE not in tables:
            return SchemaStatus(None, not tables, head())
        revision = _single([row[0] for row in conn.execute(_SELECT_VERSION)])
    finally:
        conn.close()
    return SchemaStatus(revision, False, head())


def _sqlite_status(path: Path) -> SchemaStatus:
    if not path.exists() or path.stat().st_size == 0:
        return SchemaStatus(None, True, head())
    # Read-only. Without a -wal file next to it the database is fully checkpointed, so it is read
    # as immutable: SQLite then creates no -wal/-shm files either. Immutable means SQLite takes
    # no lock, so the read is optimistic: when a writer appeared meanwhile (a -wal file now, or
    # the main file changed) or the read failed, it is read again as a plain read-only
    # connection, which locks and sees what is in the WAL too (as with a -wal file from the
    # start: a bot is running or crashed).
    before = _file_state(path)
    if not before[3]:
        try:
            status = _read_status(path, "mode=ro&immutable=1")
        except sqlite3.DatabaseError:
            status = None
        if status is not None and _file_state(path) == before:
            return status
    return _read_status(path, "mode=ro")


def status_for_engine(engine: Engine) -> SchemaStatus:
    """The schema status through an open engine (one or two cheap reads, nothing written)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return SchemaStatus(None, not inspect(conn).get_table_names(), head())
        rows = list(conn.execute(text(_SELECT_VERSION)).scalars())
    return SchemaStatus(_single(rows), False, head())


def schema_status(url: str) -> SchemaStatus:
    """The schema status of the database at ``url``; creates nothing (not even a SQLite file).
    A SQLite path whose directory does not exist is a ConfigError."""
    path = sqlite_file(url)
    if path is not None:
        return _sqlite_status(path)
    engine = create_engine_for(url)
    try:
        return status_for_engine(engine)
    finally:
        engine.dispose()


def current_for_engine(engine: Engine) -> str | None:
    return status_for_engine(engine).revision


def current(url: str) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    return schema_status(url).revision
