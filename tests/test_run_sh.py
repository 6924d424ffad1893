"""run.sh: once the environment exists, re-running skips the install and dispatches to btcbot."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "btcbot").exists(), reason="run.sh has not bootstrapped .venv")
def test_second_run_skips_install_and_lists_commands() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    proc = subprocess.run([str(ROOT / "run.sh"), "--help"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "installing" not in proc.stderr and "creating" not in proc.stderr
    for command in ("run", "once", "reconcile", "status", "sim", "backtest", "config", "db"):
        assert f"  {command}" in proc.stdout


def test_run_sh_is_strict_bash() -> None:
    text = (ROOT / "run.sh").read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert subprocess.run(["bash", "-n", str(ROOT / "run.sh")], check=False).returncode == 0
