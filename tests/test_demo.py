"""``python -m btcbot.demo --cycles 2``: offline, no configuration, exits 0, prints cycles and status,
and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


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
