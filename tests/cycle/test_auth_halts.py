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
