"""Migrated databases for the candle-store tests: SQLite on disk and PostgreSQL (own schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade


def _pg_url_with_schema(base: str, schema: str) -> str:
    parsed = make_url(base)
    if parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def candle_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated engine, once per backend (PostgreSQL skipped when BTCBOT_TEST_POSTGRES_URL is unset)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'candles.db'}"
        upgrade(url)
        eng = create_engine_for(url)
        try:
            yield eng
        finally:
            eng.dispose()
        return
    base: str = request.getfixturevalue("postgres_url")  # skips when BTCBOT_TEST_POSTGRES_URL is unset
    schema = f"btcbot_c_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_url_with_schema(base, schema)
    upgrade(url)
    eng = create_engine_for(url)
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
