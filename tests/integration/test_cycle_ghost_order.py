"""Acceptance 2: the simulator accepts an order and drops the response (a "ghost"). The bot must
end with exactly one exchange order for that client id, found by looking the client id up, and
must never send the POST again.

`btcbot once` runs as a real subprocess against the simulator over HTTP.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cycle.harness import (
    bot_settings,
    consistency_violations,
    read_book,
    run_bot,
    sqlite_url,
    wall_sim_config,
)
from sqlalchemy import text

from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import running_simulator

pytestmark = pytest.mark.slow

ORDER_ROUTE = "/api/v1/order"


def _posts(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in state["request_log"] if r["method"] == "POST" and r["route"] == ORDER_ROUTE]


def _journal(url: str, client_order_id: str) -> list[tuple[str | None, str, str]]:
    engine = create_engine_for(url, 5000)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT from_state, to_state, event FROM order_events WHERE client_order_id = :c ORDER BY id"),
                {"c": client_order_id},
            ).all()
    finally:
        engine.dispose()
    return [(r[0], str(r[1]), str(r[2])) for r in rows]


def _ghost_client_id(state: dict[str, Any]) -> str:
    posts = _posts(state)
    ghosts = [i for i, r in enumerate(posts) if r["dropped"]]
    assert len(ghosts) == 1, posts
    # Orders are created in POST order, so the n-th POST made the n-th order.
    orders = sorted(state["orders"], key=lambda o: int(o["id"]))
    return str(orders[ghosts[0]]["client_id"])


def test_ghost_order_is_found_by_client_id_and_never_resent(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url)
        sim.admin.set_fault(f"POST {ORDER_ROUTE}", kind="ghost", count=1)
        first = run_bot(["once"], settings, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        second = run_bot(["once"], settings, tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        state = sim.state()
        ghost = _ghost_client_id(state)
        assert len(_posts(state)) == 5  # one POST per symbol, the ghost's never repeated
        assert [o["client_id"] for o in state["orders"]].count(ghost) == 1
        book = read_book(url)
        assert book.orders[ghost] == ("FILLED", next(o["id"] for o in state["orders"] if o["client_id"] == ghost))
        events = _journal(url, ghost)
        assert events[0][1] == "SUBMITTING"
        assert events[1][1] == "UNKNOWN"  # the dropped response made the outcome unknown ...
        assert "FILLED" in [to for _, to, _ in events[2:]]  # ... and the lookup found the order
        assert consistency_violations(state, book) == []
        assert book.outbox_pending == 0


def test_ghost_order_seen_late_stays_unknown_until_the_lookup_finds_it(tmp_path: Path) -> None:
    """The accepted order shows in the lists only after VISIBILITY_S: a cycle within that time
    keeps it UNKNOWN (grace 30 s), sends nothing new for its symbol, and a later cycle adopts it.

    The delay is long enough that the early cycle falls inside it even on a loaded machine (two
    `once` subprocesses of 1-3 s each); the late cycle starts after it, counted from before the
    first run (the POST cannot be earlier)."""
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    visibility_s = 12
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, url, BTCBOT_TRADING__UNKNOWN_GRACE_S="30")
        sim.admin.set_fault(f"POST {ORDER_ROUTE}", kind="ghost", count=1)
        sim.admin.set_fault(f"POST {ORDER_ROUTE}", kind="visibility_delay", seconds=visibility_s, count=1)
        started = time.monotonic()
        first = run_bot(["once"], settings, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        posted_by = time.monotonic()  # the ghost POST happened during the first run
        ghost = _ghost_client_id(sim.state())
        assert read_book(url).orders[ghost][0] == "UNKNOWN"
        early = run_bot(["once"], settings, tmp_path)
        assert early.returncode == 0, early.stderr[-3000:]
        if time.monotonic() - started >= visibility_s:
            pytest.fail("the early cycle ended after the visibility delay: the machine is too slow for this test")
        assert read_book(url).orders[ghost][0] == "UNKNOWN"
        assert len(_posts(sim.state())) == 5
        time.sleep(max(0.0, posted_by + visibility_s + 0.5 - time.monotonic()))
        late = run_bot(["once"], settings, tmp_path)
        assert late.returncode == 0, late.stderr[-3000:]
        state = sim.state()
        book = read_book(url)
        assert len(_posts(state)) == 5
        assert book.orders[ghost][0] == "FILLED"
        assert consistency_violations(state, book) == []
        assert len(book.orders) == 5  # no second intent for the ghost's symbol while it was UNKNOWN
