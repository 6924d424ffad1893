"""Acceptance 1: for every failpoint, `btcbot once` dies there (SIGKILL), the next `btcbot once`
and `btcbot reconcile` repair everything from exchange truth.

Real processes against the simulator over HTTP: the simulator runs in a thread of the test
process (market clock = wall clock, so the bot's system clock sees fresh tickers); the bot is
``python -m btcbot.cli.main`` in a child process with ``BTCBOT_FAILPOINTS=<name>``. The restart
waits out ``trading.unknown_grace_s`` (1 s) and takes over the dead holder's lease (same host,
pid gone; the TTL is the 5 s minimum in case that take-over did not exist).

End state checked against the simulator: at most one exchange order per client order id (no
duplicate for any intent), every simulator trade in the fills table exactly once, ledger wallet
balances (reserve included) equal to the simulator's, nothing left SUBMITTING/UNKNOWN, no
pending outbox row, and `btcbot reconcile` finds nothing to repair.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from cycle.harness import (
    LIMIT_BUY,
    bot_settings,
    consistency_violations,
    read_book,
    run_bot,
    sqlite_url,
    wall_sim_config,
)

from btcbot.failpoints import (
    AFTER_CANCEL_REQUEST,
    AFTER_CHECKPOINT,
    AFTER_INTENT_COMMIT,
    AFTER_POST_BEFORE_COMMIT,
    ALL_FAILPOINTS,
    BEFORE_CHECKPOINT,
    BEFORE_POST,
    MID_FILL_APPLICATION,
    MID_RECONCILE,
)
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle, running_simulator

pytestmark = pytest.mark.slow

LEASE_TTL_S = 5.0
#: Past trading.unknown_grace_s (1 s), so an intent that never reached the exchange is resolved.
RESTART_WAIT_S = 1.5
UNRESOLVED = {"PLANNED", "SUBMITTING", "UNKNOWN"}
KILLED = -signal.SIGKILL
OPEN = {"Untouched", "Partial"}


def _settings(sim: SimHandle, url: str, **extra: str) -> dict[str, str]:
    return bot_settings(sim, url, BTCBOT_DATABASE__LEASE_TTL_S=str(int(LEASE_TTL_S)), **extra)


def _explain(proc: object) -> str:
    return f"exit {getattr(proc, 'returncode', '?')}\nstdout:\n{getattr(proc, 'stdout', '')}\nstderr:\n{getattr(proc, 'stderr', '')[-4000:]}"


def _assert_recovered(sim: SimHandle, url: str, settings: dict[str, str], cwd: Path) -> None:
    time.sleep(RESTART_WAIT_S)
    again = run_bot(["once"], settings, cwd)
    assert again.returncode == 0, _explain(again)
    plan = run_bot(["reconcile"], settings, cwd)
    assert plan.returncode == 0, _explain(plan)
    assert "nothing to repair" in plan.stdout, _explain(plan)
    time.sleep(0.1)
    book = read_book(url)
    assert consistency_violations(sim.state(), book) == []
    assert [cid for cid, (state, _) in book.orders.items() if state in UNRESOLVED] == []
    assert book.outbox_pending == 0
    assert book.trading_state == "ACTIVE"


MARKET_FAILPOINTS = [
    AFTER_INTENT_COMMIT,
    BEFORE_POST,
    AFTER_POST_BEFORE_COMMIT,
    MID_FILL_APPLICATION,
    MID_RECONCILE,
    BEFORE_CHECKPOINT,
    AFTER_CHECKPOINT,
]


def test_every_failpoint_is_covered() -> None:
    assert set(MARKET_FAILPOINTS) | {AFTER_CANCEL_REQUEST} == ALL_FAILPOINTS


@pytest.mark.parametrize("failpoint", MARKET_FAILPOINTS)
def test_once_killed_at_failpoint_then_recovers(failpoint: str, tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = _settings(sim, url)
        killed = run_bot(["once"], {**settings, "BTCBOT_FAILPOINTS": failpoint}, tmp_path)
        assert killed.returncode == KILLED, _explain(killed)
        if failpoint in (AFTER_POST_BEFORE_COMMIT, MID_FILL_APPLICATION):
            # The crash really left something to repair: an order or fills the ledger lacks.
            assert consistency_violations(sim.state(), read_book(url)) != []
        _assert_recovered(sim, url, settings, tmp_path)
        state = sim.state()
        assert len(state["orders"]) == 5 and len(state["trades"]) >= 5  # one buy per symbol, all filled
        if failpoint in (AFTER_INTENT_COMMIT, BEFORE_POST):
            # The intent of the killed run never reached the exchange and was never resent.
            book = read_book(url)
            assert sorted(s for s, _ in book.orders.values()).count("NOT_PLACED") == 1
            assert all(o["client_id"] != cid for o in state["orders"] for cid, (s, _) in book.orders.items()
                       if s == "NOT_PLACED")


def test_killed_after_cancel_request_then_recovers(tmp_path: Path) -> None:
    """Resting LIMIT buys; then stale tickers put the cycle in safe mode, which cancels them, and
    the process dies after the first cancel was accepted but before CANCEL_REQUESTED committed."""
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config()) as sim:
        settings = _settings(sim, url, BTCBOT_TRADING__STRATEGY=LIMIT_BUY)
        placed = run_bot(["once"], settings, tmp_path)
        assert placed.returncode == 0, _explain(placed)
        assert sum(1 for o in sim.state()["orders"] if o["status"] in OPEN) == 5
        sim.admin.set_fault("GET /api/v2/ticker", kind="stale_ticker", seconds=3600)
        killed = run_bot(["once"], {**settings, "BTCBOT_FAILPOINTS": AFTER_CANCEL_REQUEST}, tmp_path)
        assert killed.returncode == KILLED, _explain(killed)
        sim.admin.clear_faults()
        time.sleep(1.0)  # the simulator's asynchronous cancel (0.5 s) completes
        cancelled = [o for o in sim.state()["orders"] if o["status"] == "Canceled"]
        assert len(cancelled) == 1  # exactly the one cancel before the kill
        book = read_book(url)
        assert book.orders[cancelled[0]["client_id"]][0] == "OPEN"  # the kill lost CANCEL_REQUESTED
        _assert_recovered(sim, url, settings, tmp_path)
        book = read_book(url)
        assert book.orders[cancelled[0]["client_id"]][0] == "CANCELED"
