"""The benchmarks the README quotes (backtest speed; the live cycle against the code of issue 14's
day) run as documented and report what they say they report (figures are never asserted: tests
do not judge wall-clock or CPU time)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def test_machine_ref_workload_is_fixed() -> None:
    spec = importlib.util.spec_from_file_location("machine_ref", BENCH / "machine_ref.py")
    assert spec is not None and spec.loader is not None
    machine_ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(machine_ref)
    # The reference workload must never change (every earlier figure is relative to it).
    assert machine_ref.REFERENCE == "machine_ref/1"
    assert machine_ref.workload(1_000) == machine_ref.workload(1_000)
    assert isinstance(machine_ref.workload(1_000), Decimal)
    assert machine_ref.per_reference_second(50_000.0, 0.2) == 10_000.0


def test_backtest_ema_cross_reports_rate_trades_and_machine_speed() -> None:
    out = BENCH / "results" / "backtest_ema_cross_testsmoke.json"
    out.unlink(missing_ok=True)
    try:
        run = subprocess.run(
            [sys.executable, str(BENCH / "backtest_ema_cross.py"), "--days", "1", "--repeats", "1", "--tag", "testsmoke"],
            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        assert "symbol-bars per CPU-second: median" in run.stdout
        assert "machine: machine_ref/1 took" in run.stdout
        doc = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    (repeat,) = doc["repeats"]
    assert repeat["symbol_bars"] == 5 * 1440  # one day of 1-minute bars for the five pairs
    assert repeat["trades"] > 0
    assert repeat["per_cpu_s"] > 0 and repeat["reference_cpu_s"] > 0
    assert doc["reference"] == "machine_ref/1" and doc["target_per_cpu_s"] == 100_000


def _has_commit(rev: str) -> bool:
    probe = subprocess.run(["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, check=False)
    return probe.returncode == 0


def test_versus_baseline_compares_with_the_old_code_and_leaves_the_checkout_alone() -> None:
    """The script the README's cycle figures come from: both trees run, ratios are reported, and
    this checkout's own result files are as they were."""
    if not _has_commit("3ed6e07"):
        pytest.skip("the baseline commit 3ed6e07 is not in this clone's history (shallow clone)")
    own = {p: p.read_bytes() if p.exists() else None
           for p in (BENCH / "results" / "cycle_cost.json", BENCH / "results" / "cycle_once_walltime.json")}
    out = BENCH / "results" / "versus_baseline_testsmoke.json"
    out.unlink(missing_ok=True)
    try:
        run = subprocess.run(
            [sys.executable, str(BENCH / "versus_baseline.py"), "--pairs", "1", "--rounds", "2",
             "--once-pairs", "0", "--tag", "testsmoke"],
            capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        doc = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    assert "steady_ms      old" in run.stdout and "new/old" in run.stdout
    assert doc["baseline"].startswith("3ed6e07")
    assert doc["old"]["steady_ms"]["n"] == doc["new"]["steady_ms"]["n"] == 1
    assert doc["ratio_new_over_old"]["steady_ms"] > 0
    assert doc["issue_14_ratio_needed"] == {"steady_ms": [0.5, 0.583], "once_s": 0.714}
    for path, content in own.items():
        assert (path.read_bytes() if path.exists() else None) == content, f"{path.name} was changed"
    listed = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "btcbot-baseline-" not in listed.stdout  # the temporary worktree is gone
