"""Database fixtures: every SQL test runs on SQLite (file on disk) and on PostgreSQL.

On PostgreSQL each test gets its own schema (``search_path`` set through the URL), dropped at the
end, so tests are isolated, repeatable and ignore whatever else lives in the ``test`` database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from btcbot.contracts.persistence import UnitOfWork
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.tables import Base
from btcbot.persistence.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

UowFactory = Callable[[], UnitOfWork]


def _pg_base_url() -> str:
    url = os.environ.get("BTCBOT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("BTCBOT_TEST_POSTGRES_URL unset: PostgreSQL variant skipped")
    return url


def _with_search_path(url: str, schema: str) -> str:
    parsed = make_url(url)
    if parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped afterwards)."""
    base = _pg_base_url()
    schema = f"btcbot_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield _with_search_path(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty (unmigrated) database URL, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'btcbot.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine (head)."""
    upgrade(db_url)
    eng = create_engine_for(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


def wipe(engine: Engine) -> None:
    """Delete every row (for hypothesis examples that share one migrated database)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql", "fake"])
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UowFactory]:
    """Makes units of work over one store: SQL on SQLite, SQL on PostgreSQL, or the fake."""
    if request.param == "fake":
        store = FakeStore()
        yield lambda: FakeUnitOfWork(store)
        return
    url = f"sqlite:///{tmp_path / 'btcbot.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    upgrade(url)
    eng = create_engine_for(url)
    try:
        yield lambda: SqlUnitOfWork(eng)
    finally:
        eng.dispose()
