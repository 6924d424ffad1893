"""Issue 11 item 13: `database.retention_days` is read - `once` prunes when due (at most daily,
remembered in meta), `run` prunes on its first cycle and then daily. Real `btcbot` subprocesses
against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle.harness import bot_settings, run_bot, sqlite_url, wall_sim_config
from sqlalchemy import text

from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.retention import META_LAST_PRUNED
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.sim.testing import running_simulator

pytestmark = pytest.mark.slow


def _old_history(url: str, days_ago: int, marker: str) -> None:
    """A finished cycle and a journal event ``days_ago`` days old."""
    at = datetime.now(UTC) - timedelta(days=days_ago)
    engine = create_engine_for(url, 5000)
    try:
        with SqlUnitOfWork(engine) as uow:
            cid = uow.cycles.next_cycle_id()
            uow.cycles.start(cid, at)
            uow.journal.append(None, cid, "ACTIVE", "ACTIVE", marker, {}, at)
            uow.commit()
    finally:
        engine.dispose()


def _scalar(url: str, sql: str) -> Any:
    engine = create_engine_for(url, 5000)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def _events(url: str, marker: str) -> int:
    return int(_scalar(url, f"SELECT count(*) FROM order_events WHERE event = '{marker}'") or 0)


def _set_last_pruned(url: str, at: datetime) -> None:
    engine = create_engine_for(url, 5000)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.meta.set(META_LAST_PRUNED, at.isoformat())
            uow.commit()
    finally:
        engine.dispose()


def test_once_prunes_when_due_and_not_before(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    _old_history(url, 40, "old1")
    _old_history(url, 3, "recent")
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url, BTCBOT_DATABASE__RETENTION_DAYS="30")
        first = run_bot(["once"], settings, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        assert _events(url, "old1") == 0 and _events(url, "recent") == 1
        assert "pruned history older than 30 days" in first.stderr
        stamp = _scalar(url, f"SELECT value FROM meta WHERE key = '{META_LAST_PRUNED}'")
        assert isinstance(stamp, str)

        _old_history(url, 40, "old2")
        second = run_bot(["once"], settings, tmp_path)  # pruned minutes ago: not due
        assert second.returncode == 0, second.stderr[-3000:]
        assert _events(url, "old2") == 1
        assert _scalar(url, f"SELECT value FROM meta WHERE key = '{META_LAST_PRUNED}'") == stamp

        _set_last_pruned(url, datetime.now(UTC) - timedelta(days=1, minutes=1))
        third = run_bot(["once"], settings, tmp_path)
        assert third.returncode == 0, third.stderr[-3000:]
        assert _events(url, "old2") == 0 and _events(url, "recent") == 1


def test_run_prunes_on_its_first_cycle(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    _old_history(url, 8, "old")
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url, BTCBOT_DATABASE__RETENTION_DAYS="7", BTCBOT_TRADING__CYCLE_INTERVAL_S="1")
        proc = run_bot(["run", "--max-cycles", "2"], settings, tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert _events(url, "old") == 0
        assert proc.stderr.count("pruned history older than 7 days") == 1  # daily, not per cycle
