"""`status` and the reconcile plan read through ReadOnlyUnitOfWork: a plain (deferred) SQLite
transaction that never waits for the running bot's write lock, and a commit that is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from btcbot.app.readonly import ReadOnlyCommit, ReadOnlyUnitOfWork
from btcbot.app.status import status
from btcbot.config.settings import load_settings
from btcbot.domain.enums import TradingState
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    return url


def test_commit_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    url = _db(tmp_path)
    engine = create_engine_for(url, 5000)
    try:
        with ReadOnlyUnitOfWork(engine) as uow, pytest.raises(ReadOnlyCommit):
            uow.meta.set("x", "y")
            uow.commit()
        with SqlUnitOfWork(engine) as uow:
            assert uow.meta.get("x") is None
    finally:
        engine.dispose()


def test_status_reads_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    url = _db(tmp_path)
    engine = create_engine_for(url, 5000)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.trading_state.set(TradingState.HALTED, "manual: check", datetime.now(UTC))
            uow.commit()
    finally:
        engine.dispose()
    settings = load_settings(environ={"BTCBOT_DATABASE__URL": url, "BTCBOT_DATABASE__BUSY_TIMEOUT_MS": "100"}).settings
    writer = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # what the running bot's cycle transaction holds
        doc = status(settings)  # a BEGIN IMMEDIATE here would fail with "database is locked" after 100 ms
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert doc["trading_state"] == "HALTED"
    assert doc["problems"][0].startswith("HALTED: manual: check")
    assert doc["last_decisions"] is None and doc["capital_policy"] is None
    assert doc["problems"][1:] == ["no cycle has run yet"]  # and no "equity unknown" without a cycle
