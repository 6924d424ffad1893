"""Wrong credentials are never a 'degraded exchange': the first 401 halts trading (exit 1) and
nothing is retried in a loop; later runs stay HALTED until an operator resumes."""

from __future__ import annotations

import base64
from pathlib import Path

from btcbot.sim.testing import running_simulator
from cycle.harness import bot_settings, read_book, run_bot, sqlite_url, wall_sim_config


def test_wrong_secret_halts_trading(tmp_path: Path) -> None:
    db = sqlite_url(tmp_path / "bot.db")
    with running_simulator(wall_sim_config()) as sim:
        wrong = base64.b64encode(b"definitely-not-the-simulator-secret").decode()
        settings = bot_settings(sim, db, BTCBOT_AUTH__API_SECRET=wrong)
        assert run_bot(["db", "upgrade"], settings, tmp_path).returncode == 0
        first = run_bot(["once"], settings, tmp_path)
        assert first.returncode == 1, first.stderr
        book = read_book(db)
        assert book.trading_state == "HALTED"
        assert book.orders == {}  # nothing was sent
        assert wrong not in first.stdout + first.stderr
        private = [r for r in sim.admin.state()["request_log"] if r["path"].startswith("/api/v1/")]
        assert private and all(r["status"] == 401 for r in private)
        assert len(private) <= 3  # no retry loop on 401


def test_one_stale_stamp_401_neither_halts_nor_doubles_an_order(tmp_path: Path) -> None:
    """Issue 11: one ``401 Unauthorized - Invalid Nonce`` (a clock hiccup, not a revoked key) used
    to halt trading until an operator ran ``btcbot resume``. Now a read is resynced and retried
    once; an order POST answered 401 after it was placed is UNKNOWN, found by its client id, and
    never sent twice."""
    db = sqlite_url(tmp_path / "bot.db")
    with running_simulator(wall_sim_config()) as sim:
        settings = bot_settings(sim, db)
        assert run_bot(["db", "upgrade"], settings, tmp_path).returncode == 0
        sim.admin.set_fault("GET /api/v1/users/balances", kind="mutate", reply="status_401_nonce", count=1)
        sim.admin.set_fault("POST /api/v1/order", kind="mutate", reply="status_401_text", count=1)
        first = run_bot(["once"], settings, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "stamp rejected" in first.stderr
        book = read_book(db)
        assert book.trading_state == "ACTIVE"
        placed = {o["client_id"]: o["id"] for o in sim.state()["orders"]}
        assert len(placed) == len(sim.state()["orders"]) == 5  # five buys, none sent twice
        assert {cid: xid for cid, (_state, xid) in book.orders.items()} == placed  # the 401'd one found
        log = sim.state()["request_log"]
        assert [r["status"] for r in log if r["method"] == "POST"].count(401) == 1
