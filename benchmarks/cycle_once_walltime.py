"""Wall time of `btcbot once` from process start to exit, against the simulator on loopback.

The simulator runs in its own process (wall clock). Each run is a fresh
``python -m btcbot.cli.main once`` (the way cron runs it) on a database that already traded
(after a warm-up run), so the figure is a steady cron run: interpreter start, imports, settings,
database open + lease, one cycle, exit. Also reports where start-up time goes:
``python -X importtime`` of the same command, the slowest top-level imports (cumulative).

Usage: python benchmarks/cycle_once_walltime.py [--runs N]
Writes benchmarks/results/cycle_once_walltime.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cycle_harness import ROOT, SimProcess, bot_env, child_env, machine, save

from btcbot.persistence.migrations import upgrade


def _run(env: dict[str, str], cwd: str, extra: list[str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    cmd = [sys.executable, *(extra or []), "-m", "btcbot.cli.main", "once"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    return time.perf_counter() - start, proc


def _import_profile(stderr: str, top: int) -> list[dict[str, Any]]:
    """Slowest top-level imports by cumulative time (``-X importtime`` lines:
    ``import time: self_us | cumulative_us | <2 spaces per nesting level>name``)."""
    tops: list[dict[str, Any]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line.split("|")
        name = parts[2][1:]  # one separator space, then the nesting indentation
        if name.startswith(" "):
            continue
        tops.append({"module": name.strip(), "cumulative_ms": round(int(parts[1]) / 1000, 1)})
    tops.sort(key=lambda r: float(r["cumulative_ms"]), reverse=True)
    return tops[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SimProcess(clock="wall") as sim:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        env = child_env(bot_env(sim.url, url, BTCBOT_TRADING__STRATEGY="rebalance",
                                BTCBOT_TRADING__CANDLE_INTERVAL_S="3600"))
        warm, proc = _run(env, tmp)
        if proc.returncode != 0:
            raise SystemExit(f"warm-up once failed ({proc.returncode}): {proc.stderr[-2000:]}")
        times = []
        for _ in range(args.runs):
            elapsed, proc = _run(env, tmp)
            if proc.returncode not in (0, 3):
                raise SystemExit(f"once failed ({proc.returncode}): {proc.stderr[-2000:]}")
            times.append(elapsed)
        _, imp = _run(env, tmp, ["-X", "importtime"])
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT)
        bare = time.perf_counter() - start
    result = {
        "runs": args.runs,
        "first_run_s": round(warm, 3),
        "wall_s": {"median": round(statistics.median(times), 3), "min": round(min(times), 3),
                   "max": round(max(times), 3)},
        "bare_interpreter_s": round(bare, 3),
        "slowest_top_level_imports": _import_profile(imp.stderr, 12),
        "target_s": 1.0,
        "machine": machine(),
    }
    path = save("cycle_once_walltime", result)
    print(f"btcbot once wall time: median {result['wall_s']['median']} s (min {result['wall_s']['min']}, "
          f"max {result['wall_s']['max']}); first run {result['first_run_s']} s; bare python {result['bare_interpreter_s']} s")
    for row in result["slowest_top_level_imports"]:
        print(f"  import {row['module']:40s} {row['cumulative_ms']:8.1f} ms")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
