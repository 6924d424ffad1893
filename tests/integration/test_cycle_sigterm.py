"""Acceptance 5: `btcbot run` under SIGTERM finishes the cycle it is in, starts no other, leaves no
order SUBMITTING, releases the lease and exits 0.

Real `btcbot run` subprocess against the simulator. Each order POST is answered after 0.4 s so a
cycle that sends five orders takes about 2 s; the signal is sent as soon as the first order row
exists, i.e. in the middle of the submit step.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from cycle.harness import (
    bot_settings,
    consistency_violations,
    read_book,
    run_bot,
    sqlite_url,
    start_bot,
    wall_sim_config,
)
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import running_simulator

pytestmark = pytest.mark.slow

POLL_S = 0.02


def _scalar(url: str, sql: str) -> int:
    engine = create_engine_for(url, 5000)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def _wait_for(url: str, sql: str, deadline_s: float = 30.0) -> None:
    """Poll until ``sql`` counts at least one row (a test deadline, not a timing assertion)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if _scalar(url, sql) > 0:
                return
        except OperationalError:  # the bot may hold the write lock for a moment
            pass
        time.sleep(POLL_S)
    raise AssertionError(f"timed out waiting for: {sql}")


def test_sigterm_mid_cycle_finishes_the_cycle_and_exits_0(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url, BTCBOT_TRADING__CYCLE_INTERVAL_S="1")
        sim.admin.set_fault("POST /api/v1/order", kind="latency", seconds=0.4)
        proc = start_bot(["run"], settings, tmp_path)
        try:
            _wait_for(url, "SELECT count(*) FROM orders")
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err[-3000:]
        assert "stop requested" in err
        # The interrupted cycle ran to its end (all five orders sent and settled) and no other began.
        assert _scalar(url, "SELECT count(*) FROM cycles") == 1
        assert _scalar(url, "SELECT count(*) FROM cycles WHERE finished_at IS NULL") == 0
        assert _scalar(url, "SELECT count(*) FROM orders WHERE state IN ('SUBMITTING', 'UNKNOWN', 'PLANNED')") == 0
        state = sim.state()
        assert len(state["orders"]) == 5
        assert consistency_violations(state, read_book(url)) == []
        # The lease was released: a new instance starts at once instead of exiting 75.
        assert run_bot(["status"], settings, tmp_path).returncode == 0
        again = run_bot(["once"], settings, tmp_path)
        assert again.returncode == 0, again.stderr[-3000:]


def test_sigterm_between_cycles_exits_before_the_next_cycle(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url, BTCBOT_TRADING__CYCLE_INTERVAL_S="120")
        proc = start_bot(["run"], settings, tmp_path)
        try:
            _wait_for(url, "SELECT count(*) FROM cycles WHERE finished_at IS NOT NULL")
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)  # far less than the 120 s to the next cycle
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err[-3000:]
        assert _scalar(url, "SELECT count(*) FROM cycles") == 1
        again = run_bot(["once"], settings, tmp_path)
        assert again.returncode == 0, again.stderr[-3000:]
