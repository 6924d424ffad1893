"""The benchmark the README quotes for backtest speed runs as documented and reports what it says
it reports (figures are never asserted: tests do not judge wall-clock or CPU time)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

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
