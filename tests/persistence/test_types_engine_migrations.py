"""Exact decimals, aware UTC timestamps, SQLite pragmas and file mode, alembic round trips."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from btcbot.persistence import migrations
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.tables import Base, LedgerBalanceRow, MetaRow, OrderEventRow

EXACT = [
    Decimal("0.0000000000000001"),
    Decimal("123456789012.123456789"),
    Decimal("-98765.000000010"),
    Decimal("1E+12"),
    Decimal("0"),
]


@pytest.mark.parametrize("value", EXACT, ids=str)
def test_decimals_round_trip_exactly(engine: Engine, value: Decimal) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(LedgerBalanceRow).values(account="wallet", asset="TRY", amount=value))
    with engine.connect() as conn:
        back = conn.execute(sa.select(LedgerBalanceRow.amount)).scalar_one()
    assert isinstance(back, Decimal)
    assert back == value
    assert not isinstance(back, float)


def test_float_and_nan_are_refused(engine: Engine) -> None:
    for bad in (0.1, Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(sa.exc.StatementError), engine.begin() as conn:
            conn.execute(sa.insert(LedgerBalanceRow).values(account="wallet", asset="TRY", amount=bad))


def test_timestamps_are_aware_utc_and_naive_is_refused(engine: Engine) -> None:
    istanbul = timezone(timedelta(hours=3))
    local = datetime(2026, 3, 1, 15, 30, 0, 123456, tzinfo=istanbul)
    with engine.begin() as conn:
        conn.execute(sa.insert(OrderEventRow).values(to_state="X", event="e", at=local))
    with engine.connect() as conn:
        back = conn.execute(sa.select(OrderEventRow.at)).scalar_one()
    assert back == local
    assert back.tzinfo is not None and back.utcoffset() == timedelta(0)
    assert back.hour == 12
    with pytest.raises(sa.exc.StatementError), engine.begin() as conn:
        conn.execute(sa.insert(OrderEventRow).values(to_state="X", event="e", at=datetime(2026, 3, 1)))


def test_timestamp_range_queries_order_correctly(engine: Engine) -> None:
    base = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for i in (5, 1, 3):
            conn.execute(sa.insert(OrderEventRow).values(to_state="X", event=str(i), at=base + timedelta(seconds=i)))
    with engine.connect() as conn:
        events = conn.execute(
            sa.select(OrderEventRow.event).where(OrderEventRow.at < base + timedelta(seconds=4)).order_by(OrderEventRow.at)
        ).scalars().all()
    assert events == ["1", "3"]


def test_sqlite_engine_is_crash_safe_and_private(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    eng = create_engine_for(f"sqlite:///{path}", busy_timeout_ms=1234)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    finally:
        eng.dispose()


def test_existing_sqlite_file_is_tightened_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    create_engine_for(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_unsupported_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine_for("mysql://x@localhost/db")


def _diff(url: str) -> list[object]:
    eng = create_engine_for(url)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        eng.dispose()


def _tables(url: str) -> set[str]:
    eng = create_engine_for(url)
    try:
        return set(sa.inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_migrations_up_down_up_and_match_the_models(db_url: str) -> None:
    assert migrations.current(db_url) is None
    migrations.upgrade(db_url)
    assert migrations.current(db_url) == migrations.head()
    assert {t.name for t in Base.metadata.sorted_tables} <= _tables(db_url)
    assert _diff(db_url) == []
    migrations.downgrade(db_url, "base")
    assert migrations.current(db_url) is None
    assert _tables(db_url) <= {"alembic_version"}
    migrations.upgrade(db_url, "head")
    assert _diff(db_url) == []


def test_constraint_names_are_deterministic(engine: Engine) -> None:
    insp = sa.inspect(engine)
    uniques = {u["name"] for u in insp.get_unique_constraints("orders")}
    indexes = {i["name"] for i in insp.get_indexes("orders")}
    assert "uq_orders_client_order_id" in uniques
    assert {"ix_orders_state", "ix_orders_exchange_order_id"} <= indexes
    assert insp.get_pk_constraint("fills")["name"] in ("pk_fills", None)  # SQLite does not name PKs


def test_migrations_do_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrations.upgrade(url)
    eng = create_engine_for(url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.insert(MetaRow).values(key="k", value="v"))
    finally:
        eng.dispose()
    assert migrations.current(url) == migrations.head()


def test_postgres_urls_use_psycopg3() -> None:
    eng = create_engine_for("postgresql://postgres@127.0.0.1:1/none")
    try:
        assert eng.dialect.driver == "psycopg"
    finally:
        eng.dispose()
