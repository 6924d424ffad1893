"""Acceptance 4: two `btcbot once` started together on one database: one trades, the other exits
75 (lease held) having changed nothing.

The simulator answers the open-orders call after 1.5 s, so the cycle of whoever takes the lease
first outlasts the other's start-up by far: the race has one possible outcome, not a lucky one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cycle.harness import (
    EXIT_LEASE_HELD,
    bot_settings,
    consistency_violations,
    read_book,
    sqlite_url,
    start_bot,
    wall_sim_config,
)
from sqlalchemy import text

from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import running_simulator

pytestmark = pytest.mark.slow


def _count(url: str, table: str) -> int:
    engine = create_engine_for(url, 5000)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()


def test_two_once_started_together_one_trades_other_exits_75(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url)
        sim.admin.set_fault("GET /api/v1/openorders", kind="latency", seconds=1.5)
        procs = [start_bot(["once"], settings, tmp_path) for _ in range(2)]
        results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, EXIT_LEASE_HELD], results
        loser = next(r for r in results if r[0] == EXIT_LEASE_HELD)
        assert "lease" in (loser[1] + loser[2]).lower()
        state = sim.state()
        # Exactly one cycle's worth of work: one cycle row, one genesis, five orders, all booked.
        assert _count(url, "cycles") == 1
        assert len(state["orders"]) == 5
        assert {o["client_id"].split("-")[2] for o in state["orders"]} == {"c000001"}
        private_writes = [r for r in state["request_log"] if r["method"] in ("POST", "DELETE")
                          and not r["path"].startswith("/__sim")]
        assert len(private_writes) == 5
        book = read_book(url)
        assert consistency_violations(state, book) == []
        assert book.wallet["TRY"] + book.reserve < 100000  # the winner did trade
