"""Resident memory of the `btcbot run` loop over 10,000 fast cycles against the simulator.

`btcbot run` cannot cycle faster than trading.cycle_interval_s >= 1 s (10,000 cycles = 3 hours),
so the child process runs the same loop function the command runs (``operations.run_forever``:
lease, genesis, the cycle, the error policy, cadence, signals) with a clock whose ``sleep``
skips ahead instead of sleeping: cycles run back to back. Everything else is production: JSON
logging at INFO (to a file), SQLite on disk, the SQL candle store, the rebalance strategy on
60 s bars, the simulator in its own process (wall clock). The parent samples VmRSS from
``/proc/<pid>/status`` every second together with the child's cycle count.

Usage: python benchmarks/cycle_run_rss.py [--cycles N]
Writes benchmarks/results/cycle_run_rss.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from cycle_harness import SimProcess, bot_env, child_env, machine, save

PROGRESS_EVERY = 50


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class SkipClock:
    """System time for timestamps; ``sleep`` moves only the monotonic clock (no real wait)."""

    def __init__(self) -> None:
        from btcbot.adapters.clock import SystemClock

        self._system = SystemClock()
        self._skipped = 0.0

    def now(self) -> datetime:
        return self._system.now()

    def monotonic(self) -> float:
        return self._system.monotonic() + self._skipped

    def sleep(self, seconds: float) -> None:
        self._skipped += max(0.0, seconds)


def child(cycles: int, progress: Path) -> None:
    from btcbot.app import operations
    from btcbot.config.settings import load_settings
    from btcbot.observability.logging import configure_logging

    settings = load_settings().settings
    configure_logging(level="INFO", fmt="json", service="btcbot")
    count = 0

    def on_cycle(_outcome: object) -> None:
        nonlocal count
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress.write_text(str(count))

    operations.run_forever(settings, max_cycles=cycles, on_cycle=on_cycle, clock=SkipClock())
    progress.write_text(str(count))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--progress", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.cycles, args.progress)
        return
    with tempfile.TemporaryDirectory() as tmp, SimProcess(clock="wall") as sim:
        from btcbot.persistence.migrations import upgrade

        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        progress = Path(tmp) / "progress"
        progress.write_text("0")
        env = child_env(bot_env(sim.url, url, BTCBOT_TRADING__STRATEGY="rebalance",
                                BTCBOT_TRADING__CANDLE_INTERVAL_S="60",
                                BTCBOT_TRADING__CYCLE_INTERVAL_S="1"))
        cmd = [sys.executable, __file__, "--child", "--cycles", str(args.cycles), "--progress", str(progress)]
        start = time.perf_counter()
        log_path = Path(tmp) / "child.log"
        log = log_path.open("w")
        proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=log)
        samples: list[dict[str, Any]] = []
        while proc.poll() is None:
            rss = _rss_mib(proc.pid)
            if rss is not None:
                samples.append({"t_s": round(time.perf_counter() - start, 1), "cycles": int(progress.read_text() or 0),
                                "rss_mib": round(rss, 1)})
            time.sleep(1.0)
        elapsed = time.perf_counter() - start
        log.close()
        if proc.returncode != 0:
            raise SystemExit(f"child failed ({proc.returncode}): {log_path.read_text()[-3000:]}")
    done = [s for s in samples if s["cycles"] > 0]
    first_1000 = [s["rss_mib"] for s in done if s["cycles"] <= 1000] or [done[0]["rss_mib"]]
    last_quarter = [s["rss_mib"] for s in done if s["cycles"] >= 0.75 * args.cycles] or [done[-1]["rss_mib"]]
    result = {
        "cycles": args.cycles,
        "elapsed_s": round(elapsed, 1),
        "cycles_per_s": round(args.cycles / elapsed, 1),
        "rss_mib_after_1000_cycles_max": max(first_1000),
        "rss_mib_last_quarter": {"min": min(last_quarter), "max": max(last_quarter)},
        "rss_mib_peak": max(s["rss_mib"] for s in samples),
        "rss_mib_final": done[-1]["rss_mib"],
        "samples": samples[:: max(1, len(samples) // 60)],
        "target_mib": 120,
        "machine": machine(),
        "pid_note": f"sampled from /proc/<pid>/status VmRSS every 1 s (pid {os.getpid()} parent)",
    }
    path = save("cycle_run_rss", result)
    print(f"{args.cycles} cycles in {result['elapsed_s']} s ({result['cycles_per_s']}/s)")
    print(f"RSS MiB: <=1000 cycles max {result['rss_mib_after_1000_cycles_max']}, last quarter "
          f"{result['rss_mib_last_quarter']}, peak {result['rss_mib_peak']}, final {result['rss_mib_final']}")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
