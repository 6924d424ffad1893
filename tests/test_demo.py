"""``python -m btcbot.demo --cycles 2``: offline, no configuration, exits 0, prints cycles and status,
and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from btcbot.demo import DEMO_API_SECRET, MASK, bot_environment


@pytest.mark.timeout(120)
def test_demo_runs_two_cycles_and_prints_status(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "btcbot.demo", "--cycles", "2", "--interval", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=110, check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "demo: simulator at http://127.0.0.1:" in out
    assert "cycle 1:" in out and "cycle 2:" in out
    assert "cycle 3:" not in out
    # `btcbot status` ran last, in live mode against the simulator
    status = out.split("$ btcbot status", 1)[1]
    assert "mode            live" in status and "equity" in status
    assert "Unauthorized" not in out + proc.stderr
    assert list(tmp_path.iterdir()) == []  # the demo's database lived in its own temp dir
    # It says which mode it runs in and why, before the bot starts, and shows what it set.
    before_bot = out.split("$ btcbot run", 1)[0]
    assert "mode LIVE against the bundled simulator (no real money)" in before_bot
    assert "DRY_RUN=false" in before_bot
    names = sorted(bot_environment("http://x", Path("/d.db"), 2.0))
    shown = [line.strip().split("=", 1)[0] for line in before_bot.splitlines() if line.startswith("  BTCBOT_")]
    assert shown == [n for n in names if n.startswith("BTCBOT_")]
    assert f"BTCBOT_AUTH__API_SECRET={MASK}" in before_bot
    assert DEMO_API_SECRET not in out + proc.stderr
