"""The cheap schema check (issue 13 item 6) and the no-mkdir rule (issue 11 item 8).

``head()`` is read from the script files without alembic and must agree with alembic itself;
``schema_status`` answers without creating anything.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from btcbot.domain.errors import ConfigError
from btcbot.persistence import migrations
from btcbot.persistence.engine import APPLICATION_NAME, create_engine_for, sqlite_file

REPO = Path(__file__).resolve().parents[2]


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_head_read_from_the_scripts_equals_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrations.alembic_config()).get_heads()
    assert [migrations.head()] == list(heads)


def test_schema_check_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrations.upgrade(url)
    code = (
        "import sys\n"
        "from btcbot.persistence.migrations import schema_status\n"
        f"status = schema_status({url!r})\n"
        "assert status.ready, status\n"
        "print(sorted(m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_file_is_empty_and_stays_missing(tmp_path: Path) -> None:
    status = migrations.schema_status(f"sqlite:///{tmp_path / 'bot.db'}")
    assert status.empty and status.revision is None and not status.ready
    assert _files(tmp_path) == []


def test_missing_directory_is_a_config_error_and_nothing_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo' / 'bot.db'}"
    for attempt in (lambda: migrations.schema_status(url), lambda: create_engine_for(url),
                    lambda: migrations.upgrade(url)):
        with pytest.raises(ConfigError, match="does not exist"):
            attempt()
    assert _files(tmp_path) == []


def test_empty_file_and_foreign_tables(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    path.touch()
    assert migrations.schema_status(f"sqlite:///{path}").empty
    assert path.stat().st_size == 0 and _files(tmp_path) == ["bot.db"]
    eng = sa.create_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other (x INTEGER)")
    eng.dispose()
    status = migrations.schema_status(f"sqlite:///{path}")
    assert not status.empty and status.revision is None and not status.ready


def test_outdated_and_current_revisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrations.upgrade(url, "0001_initial")
    before = (tmp_path / "bot.db").read_bytes()
    status = migrations.schema_status(url)
    assert status.revision == "0001_initial" and not status.empty and not status.ready
    assert (tmp_path / "bot.db").read_bytes() == before
    migrations.upgrade(url)
    assert migrations.schema_status(url).ready
    assert migrations.current(url) == migrations.head()


def test_sqlite_file_of_urls(tmp_path: Path) -> None:
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None
    assert sqlite_file(f"sqlite:///{tmp_path / 'a.db'}") == tmp_path / "a.db"


def test_postgres_status_and_application_name(pg_schema_url: str) -> None:
    status = migrations.schema_status(pg_schema_url)
    assert status.empty and status.revision is None
    migrations.upgrade(pg_schema_url)
    eng = create_engine_for(pg_schema_url)
    try:
        assert migrations.status_for_engine(eng).ready
        with eng.connect() as conn:
            assert conn.exec_driver_sql("SHOW application_name").scalar() == APPLICATION_NAME
    finally:
        eng.dispose()
    named = create_engine_for(pg_schema_url + "&application_name=mine")
    try:
        with named.connect() as conn:
            assert conn.exec_driver_sql("SHOW application_name").scalar() == "mine"
    finally:
        named.dispose()


def test_status_while_another_connection_holds_the_wal(tmp_path: Path) -> None:
    """A running bot keeps a -wal file: the check then reads through it (plain read-only mode)."""
    odd = tmp_path / "a b#c"
    odd.mkdir()
    url = f"sqlite:///{odd / 'bot.db'}"
    migrations.upgrade(url)
    holder = create_engine_for(url)
    try:
        with holder.connect() as reader:
            reader.exec_driver_sql("SELECT count(*) FROM meta").scalar()  # keeps the database open
            reader.commit()
            with holder.begin() as conn:
                conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('k', 'v')")
            assert (odd / "bot.db-wal").stat().st_size > 0
            assert migrations.schema_status(url).ready
    finally:
        holder.dispose()
    assert migrations.schema_status(url).ready


def test_a_writer_during_the_lock_free_read_makes_it_read_again_with_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a -wal file the status is read as ``immutable`` (no lock, no files created). A
    process that starts writing meanwhile (here: migrating to head while the first read runs)
    must not leave a stale or torn answer: the read is repeated as a plain read-only one."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrations.upgrade(url, "0001_initial")
    real = migrations._read_status
    modes: list[str] = []

    def racing(path: Path, mode: str) -> migrations.SchemaStatus:
        modes.append(mode)
        status = real(path, mode)
        if len(modes) == 1:
            migrations.upgrade(url)  # the writer, between the lock-free read and its check
        return status

    monkeypatch.setattr(migrations, "_read_status", racing)
    status = migrations.schema_status(url)
    assert modes == ["mode=ro&immutable=1", "mode=ro"]
    assert status.ready and status.revision == migrations.head()


def test_a_failed_lock_free_read_is_repeated_with_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrations.upgrade(url)
    # a quiet database is read once, lock-free, and nothing is created next to it
    assert migrations.schema_status(url).ready
    assert _files(tmp_path) == ["bot.db"]
    real = migrations._read_status
    modes: list[str] = []

    def torn(path: Path, mode: str) -> migrations.SchemaStatus:
        modes.append(mode)
        if "immutable" in mode:  # what a page half-written by a concurrent writer looks like
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(path, mode)

    monkeypatch.setattr(migrations, "_read_status", torn)
    assert migrations.schema_status(url).ready
    assert modes == ["mode=ro&immutable=1", "mode=ro"]
