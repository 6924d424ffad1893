"""Issue 11 item 7: `btcbot run` survives a database outage.

Real `btcbot run` subprocesses trading against the simulator. Each order POST is answered after
0.4 s, and the outage starts as soon as the first order row exists, i.e. in the middle of the
submit step: the order being sent cannot be recorded as acknowledged, and the next ones cannot
even be recorded as SUBMITTING, so they must not be sent. The loop must then wait (no cycle),
alert, resume when the database is back, and end with every exchange order known locally exactly
once (the crash tests' consistency check).

- PostgreSQL: the bot logs in as a role of its own with its own ``application_name``; the outage is
  ``ALTER ROLE ... NOLOGIN`` plus ``pg_terminate_backend`` of the bot's sessions (a restart as the
  bot sees it: connections dropped, reconnects refused). Skipped without BTCBOT_TEST_POSTGRES_URL.
- SQLite: the outage is another process holding the write lock past the bot's busy timeout.
- An outage longer than ``database.outage_limit_s`` ends `run` with exit 4 and one line.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa
from cycle.harness import (
    bot_settings,
    consistency_violations,
    read_book,
    run_bot,
    sqlite_url,
    start_bot,
    wall_sim_config,
)
from observability.http_receiver import Receiver, running_receiver
from sqlalchemy.engine import make_url

from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle, running_simulator

pytestmark = pytest.mark.slow

EXIT_DATABASE_UNAVAILABLE = 4
OUTAGE_S = 3.0
POLL_S = 0.05


class Bot:
    """A `btcbot run` child whose stderr is read continuously (so the pipe never fills)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.out: list[str] = []
        assert proc.stderr is not None and proc.stdout is not None
        self._readers = [threading.Thread(target=self._read, args=(stream, sink), daemon=True)
                         for stream, sink in ((proc.stderr, self.lines), (proc.stdout, self.out))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], sink: list[str]) -> None:
        with stream:
            for line in stream:
                sink.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for_log(self, text: str, deadline_s: float = 60.0) -> None:
        _until(lambda: text in self.stderr or self.proc.poll() is not None, deadline_s, f"log line {text!r}")
        assert text in self.stderr, self.stderr[-3000:]

    def finish(self, timeout_s: float = 60.0) -> int:
        try:
            code = self.proc.wait(timeout=timeout_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        return code


def _until(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll until ``condition`` holds (a test deadline, never a timing assertion)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(POLL_S)
    raise AssertionError(f"timed out waiting for {what}")


def _count(url: str, sql: str) -> int:
    engine = create_engine_for(url, 5000)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar() or 0)
    except sa.exc.OperationalError:
        return -1  # locked for a moment
    finally:
        engine.dispose()


def _settings(sim: SimHandle, url: str, receiver: Receiver, **extra: str) -> dict[str, str]:
    values = {
        "BTCBOT_TRADING__CYCLE_INTERVAL_S": "1",
        "BTCBOT_DATABASE__OUTAGE_ALERT_S": "1",
        "BTCBOT_DATABASE__OUTAGE_LIMIT_S": "60",
        "BTCBOT_OBSERVABILITY__ALERT_WEBHOOK_URL": receiver.url + "/hook",
        "BTCBOT_OBSERVABILITY__ALERT_MIN_INTERVAL_S": "0",
    }
    values.update(extra)
    return bot_settings(sim, url, **values)


def _alert_kinds(receiver: Receiver) -> list[tuple[str, str]]:
    import json

    out = []
    for request in receiver.received():
        body = json.loads(request.body)
        out.append((body["kind"], body["severity"]))
    return out


def _outage_mid_submit(url: str, observer_url: str, cut: Callable[[], None], restore: Callable[[], None],
                       tmp_path: Path, **extra: str) -> None:
    """The scenario both backends share (see the module docstring)."""
    with running_simulator(wall_sim_config()) as sim, running_receiver() as receiver:
        sim.admin.set_fault("POST /api/v1/order", kind="latency", seconds=0.4)
        bot = Bot(start_bot(["run"], _settings(sim, url, receiver, **extra), tmp_path))
        try:
            _until(lambda: _count(observer_url, "SELECT count(*) FROM orders") > 0, 60, "the first order row")
            cut()
            try:
                bot.wait_for_log("database unreachable, no cycle runs")
                time.sleep(0.6)  # the POST that was in flight when the outage began may still land
                during = len(sim.state()["orders"])
                bot.wait_for_log("database unreachable for")  # the alert threshold (1 s) passed
                time.sleep(OUTAGE_S)
                assert len(sim.state()["orders"]) == during, "an order was sent during the outage"
                assert during < 5, "the outage began after the submit step"
                assert bot.proc.poll() is None, bot.stderr[-3000:]
            finally:
                restore()
            bot.wait_for_log("answers again")
            _until(lambda: _count(observer_url, "SELECT count(*) FROM orders WHERE state IN "
                                                "('SUBMITTING', 'UNKNOWN', 'PLANNED')") == 0
                   and len(sim.state()["orders"]) == 5, 60, "the cut cycle's work to be finished")
            bot.proc.send_signal(signal.SIGTERM)
            assert bot.finish() == 0, bot.stderr[-3000:]
        finally:
            if bot.proc.poll() is None:
                bot.proc.kill()
                bot.finish()
        state = sim.state()
    assert len(state["orders"]) == 5  # one per symbol: nothing sent twice, nothing lost
    assert consistency_violations(state, read_book(observer_url)) == []
    kinds = _alert_kinds(receiver)
    assert ("database_outage", "critical") in kinds and ("database_outage", "info") in kinds, kinds


# ---- SQLite ---------------------------------------------------------------------------------


def test_sqlite_lock_mid_submit_is_ridden_out(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    url = sqlite_url(db)
    upgrade(url)
    holder = sqlite3.connect(db, isolation_level=None, timeout=30)

    def cut() -> None:
        holder.execute("BEGIN IMMEDIATE")  # the write lock: every write of the bot times out

    def restore() -> None:
        holder.execute("ROLLBACK")

    try:
        _outage_mid_submit(url, url, cut, restore, tmp_path, BTCBOT_DATABASE__BUSY_TIMEOUT_MS="200")
    finally:
        holder.close()


def test_sqlite_lock_past_the_outage_limit_exits_4(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    url = sqlite_url(db)
    upgrade(url)
    holder = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        with running_simulator(wall_sim_config()) as sim, running_receiver() as receiver:
            settings = _settings(sim, url, receiver, BTCBOT_DATABASE__BUSY_TIMEOUT_MS="200",
                                 BTCBOT_DATABASE__OUTAGE_LIMIT_S="4")
            bot = Bot(start_bot(["run"], settings, tmp_path))
            try:
                _until(lambda: _count(url, "SELECT count(*) FROM cycles WHERE finished_at IS NOT NULL") > 0,
                       60, "the first finished cycle")
                holder.execute("BEGIN IMMEDIATE")
                cycles = _count(url, "SELECT count(*) FROM cycles")
                code = bot.finish(timeout_s=90)
            finally:
                holder.execute("ROLLBACK") if holder.in_transaction else None
            assert code == EXIT_DATABASE_UNAVAILABLE, bot.stderr[-3000:]
            last = [line for line in bot.lines if line.strip()][-1]
            assert last.startswith("btcbot: database unreachable for") and "outage_limit_s=4" in last, last
            assert _count(url, "SELECT count(*) FROM cycles") == cycles  # nothing ran during the outage
            assert ("database_outage", "critical") in _alert_kinds(receiver)
            # The lease could not be released (locked); a restart takes it over at once (same host,
            # dead pid) and trades on.
            again = run_bot(["once"], settings, tmp_path)
            assert again.returncode == 0, again.stderr[-3000:]
            assert consistency_violations(sim.state(), read_book(url)) == []
    finally:
        holder.close()


# ---- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def pg_bot_role(postgres_url: str) -> Iterator[tuple[str, str, str]]:
    """(bot url, observer url, role): a login role owning a fresh schema; the bot's URL sets a
    unique application_name, the observer's (superuser, same schema) another one."""
    suffix = uuid.uuid4().hex[:10]
    role, schema, app = f"btcbot_outage_{suffix}", f"btcbot_outage_{suffix}", f"btcbot-outage-{suffix}"
    admin = create_engine_for(postgres_url)
    base = make_url(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"'))
    query = {"options": f"-csearch_path={schema}"}
    bot = base.set(username=role, password=None).update_query_dict({**query, "application_name": app})
    observer = base.update_query_dict({**query, "application_name": f"observer-{suffix}"})
    try:
        yield bot.render_as_string(hide_password=False), observer.render_as_string(hide_password=False), role
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'ALTER ROLE "{role}" LOGIN'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                         {"r": role})
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_postgres_connections_terminated_mid_submit_are_ridden_out(
    pg_bot_role: tuple[str, str, str], postgres_url: str, tmp_path: Path
) -> None:
    bot_url, observer_url, role = pg_bot_role
    upgrade(bot_url)
    app_name = make_url(bot_url).query["application_name"]
    admin = create_engine_for(postgres_url)
    terminated: list[int] = []

    def cut() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'ALTER ROLE "{role}" NOLOGIN'))
            rows = conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"
            ), {"a": app_name}).scalars().all()
        terminated.append(sum(1 for ok in rows if ok))

    def restore() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'ALTER ROLE "{role}" LOGIN'))

    try:
        _outage_mid_submit(bot_url, observer_url, cut, restore, tmp_path)
    finally:
        admin.dispose()
    assert terminated and terminated[0] >= 1, "the bot's sessions were not found by application_name"


def test_postgres_application_name_is_set_by_default(postgres_url: str) -> None:
    engine = create_engine_for(postgres_url)
    try:
        with engine.connect() as conn:
            names = conn.execute(sa.text(
                "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            )).scalars().all()
    finally:
        engine.dispose()
    assert names == ["btcbot"]
    assert os.environ.get("BTCBOT_TEST_POSTGRES_URL")
