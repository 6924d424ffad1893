"""Issue 13 item 2: `btcbot reconcile` (the plan) and `btcbot status` work while a real `btcbot run` holds the lease and
writes nothing; `reconcile --apply` exits 75 with the commands that stop the service; once the bot
is stopped, `--apply` records the withdrawal.

Real `btcbot run` subprocess against the simulator (127.0.0.1, ephemeral port). The bot trades in
its first cycle and then waits 120 s for the next, so the database only changes when a command
under test changes it.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest
from cycle.harness import (
    EXIT_LEASE_HELD,
    bot_settings,
    read_book,
    run_bot,
    sqlite_url,
    start_bot,
    wall_sim_config,
)
from cycle.harness import (
    dump_tables as dump,
)

from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import running_simulator

pytestmark = pytest.mark.slow



def wait_for_idle_bot(path: Path, deadline_s: float = 60.0) -> None:
    """Until the first cycle and its housekeeping (the last write before the bot sleeps) are done."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            meta = {row[0]: row[1] for row in dump(path).get("meta", [])}
        except sqlite3.OperationalError:  # the bot may hold the write lock for a moment
            meta = {}
        if "retention.last_pruned_at" in meta:
            return
        time.sleep(0.05)
    raise AssertionError("the bot finished no cycle")


def test_plan_alongside_run_and_apply_needs_the_service_stopped(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    url = sqlite_url(db)
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url, BTCBOT_TRADING__CYCLE_INTERVAL_S="120")
        proc = start_bot(["run"], settings, tmp_path)
        try:
            wait_for_idle_bot(db)
            held = read_book(url).wallet["BTC"]
            assert held > 0
            sim.admin.set_balance("BTC", (held / 2).quantize(Decimal("0.00000001")))  # a withdrawal
            before = dump(db)

            shown = run_bot(["status"], settings, tmp_path)  # status too: read-only, no lease
            assert shown.returncode == 0, shown.stderr[-3000:]
            assert f"bot             running: pid {proc.pid} on " in shown.stdout
            assert dump(db) == before

            plan = run_bot(["reconcile"], settings, tmp_path)
            assert plan.returncode == 0, plan.stderr[-3000:]
            assert "balance_drift" in plan.stdout and "BTC" in plan.stdout, plan.stdout
            assert "plan only" in plan.stdout
            assert dump(db) == before  # no lease taken, no cycle row, no cached rules, nothing

            applied = run_bot(["reconcile", "--apply", "--reason", "withdrew BTC"], settings, tmp_path)
            assert applied.returncode == EXIT_LEASE_HELD, applied.stderr[-3000:]
            lines = applied.stderr.splitlines()
            assert lines[0].startswith("btcbot: lease ") and "held by host" in lines[0]
            assert "needs the lease" in lines[0]
            assert "  sudo supervisorctl stop btcbot   # supervisord (deploy/supervisord.conf)" in lines
            assert "  sudo systemctl stop btcbot             # systemd (deploy/btcbot.service)" in lines
            assert applied.stdout == ""
            assert dump(db) == before
            assert proc.poll() is None  # the running bot was not disturbed
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
        assert proc.returncode == 0
        # The service is stopped: --apply takes the lease and records the withdrawal.
        applied = run_bot(["reconcile", "--apply", "--reason", "withdrew BTC"], settings, tmp_path)
        assert applied.returncode == 0, applied.stderr[-3000:]
        assert "applied" in applied.stdout
        assert read_book(url).wallet["BTC"] == (held / 2).quantize(Decimal("0.00000001"))
