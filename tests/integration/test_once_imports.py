"""A steady ``btcbot once`` imports only what it uses (issue 14: cron start-up time).

A real ``python -m btcbot.cli.main once`` (SQLite, metrics and tracing off, no alert webhook)
trades against the simulator twice; the second run, a steady cron run, must not import any module
of ``NOT_NEEDED`` in benchmarks/cycle_once_walltime.py (the one list: the benchmark reports the
same check with its timings). The list is read from the benchmark's source, not imported (the
benchmark needs its harness on the path).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from cycle.harness import bot_settings, subprocess_env

from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = REPO_ROOT / "benchmarks" / "cycle_once_walltime.py"


def not_needed() -> tuple[str, ...]:
    for node in ast.parse(BENCHMARK.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "NOT_NEEDED" for t in node.targets):
            names = ast.literal_eval(node.value)
            assert isinstance(names, tuple) and all(isinstance(n, str) for n in names)
            return names
    raise AssertionError(f"NOT_NEEDED not found in {BENCHMARK}")


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines (``import time: self | cumulative | name``)."""
    return {line.split("|")[2].strip() for line in importtime_stderr.splitlines()
            if line.startswith("import time:") and "cumulative" not in line}


def test_not_needed_matches_submodules_and_only_them() -> None:
    names = not_needed()
    assert "sqlalchemy.dialects.postgresql" in names and "alembic" in names
    modules = {"sqlalchemy.dialects.postgresql.base", "alembicx", "sqlalchemy.dialects.sqlite"}
    hits = sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))
    assert hits == ["sqlalchemy.dialects.postgresql"]


def test_steady_once_imports_nothing_it_does_not_use(sim: SimHandle, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    env = subprocess_env(bot_settings(
        sim, db, BTCBOT_TRADING__STRATEGY="rebalance", BTCBOT_TRADING__CANDLE_INTERVAL_S="3600",
        BTCBOT_OBSERVABILITY__LOG_LEVEL="WARNING",
    ))
    runs = []
    for _ in range(2):  # the first run records genesis and backfills; the second is a steady one
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "btcbot.cli.main", "once"], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(imported_modules(done.stderr))
    steady = runs[1]
    assert {"btcbot.app.operations", "btcbot.persistence.lease", "sqlalchemy.dialects.sqlite"} <= steady
    unexpected = sorted(n for n in not_needed() if any(m == n or m.startswith(n + ".") for m in steady))
    assert unexpected == [], f"a steady once imported {unexpected}"
