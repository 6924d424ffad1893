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


def _run_sh(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({"BTCBOT_SKIP_INSTALL": "1", "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console", **extra})
    return subprocess.run([str(ROOT / "run.sh"), *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd, check=False)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "btcbot").exists(), reason="run.sh has not bootstrapped .venv")
def test_first_use_creates_the_database_later_runs_do_not_migrate(tmp_path: Path) -> None:
    """Issue 13 item 6: `./run.sh status|once|...` creates a fresh database on first use only; an
    outdated one is refused (exit 2, untouched) instead of being migrated on every run."""
    from btcbot.persistence import migrations

    first = _run_sh(["status"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert migrations.current(f"sqlite:///{tmp_path / 'btcbot.db'}") == migrations.head()

    old = tmp_path / "old"
    old.mkdir()
    migrations.upgrade(f"sqlite:///{old / 'btcbot.db'}", "0001_initial")
    again = _run_sh(["status"], old)
    assert again.returncode == 2
    assert "revision 0001_initial" in again.stderr and "db upgrade" in again.stderr
    assert migrations.current(f"sqlite:///{old / 'btcbot.db'}") == "0001_initial"
    assert _run_sh(["db", "upgrade"], old).returncode == 0
    assert _run_sh(["status"], old).returncode == 0
