"""Wall time and CPU time of `btcbot once` from process start to exit, against the simulator.

The simulator runs in its own process (wall clock). Each run is a fresh
``python -m btcbot.cli.main once`` (the way cron runs it) on a database that already traded
(after a warm-up run), so the figure is a steady cron run: interpreter start, imports, settings,
database open + lease, one cycle, exit. Reported per run: wall time (Popen to exit) and the
child's CPU time (user + system, from ``getrusage(RUSAGE_CHILDREN)``; on a loaded machine the CPU
figure is the one to compare, wall time waits for other processes). Also reports where start-up
time goes: ``python -X importtime`` of the same command, the slowest top-level imports
(cumulative), and the modules a ``once`` never needs (they must not be imported).

Bytecode: an installed bot has its modules compiled once (``__pycache__``); an environment with
``PYTHONDONTWRITEBYTECODE=1`` would compile every btcbot module on every run (~0.3 s of CPU) and
measure that instead. The runs therefore cache bytecode under a temporary
``PYTHONPYCACHEPREFIX`` (the warm-up run writes it; the checkout is left untouched); ``--cold``
measures without any cache.

Usage: python benchmarks/cycle_once_walltime.py [--runs N] [--cold]
Writes benchmarks/results/cycle_once_walltime.json.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cycle_harness import ROOT, SimProcess, bot_env, child_env, machine, save

from btcbot.persistence.migrations import upgrade

#: Imported by nothing a steady ``once`` runs (metrics and tracing are off by default, the schema
#: check is one query, the database is SQLite and exists, no alert webhook): a module here (or a
#: submodule of one) in the import profile is a start-up regression. tests/integration/
#: test_once_imports.py checks the same list on a real ``once``.
NOT_NEEDED = (
    "alembic", "prometheus_client", "opentelemetry", "plotly", "dask", "numpy", "pandas",
    "psycopg", "sqlalchemy.dialects.postgresql",  # the PostgreSQL dialect and driver, for a SQLite URL
    "http.server", "btcbot.observability.metrics_server", "btcbot.observability.tracing",
    "btcbot.observability.textfile",  # metrics and tracing are off
    "btcbot.backtest", "btcbot.research", "btcbot.sim", "btcbot.data", "btcbot.demo",
    "btcbot.app.status", "btcbot.app.admin", "btcbot.app.replay", "btcbot.app.risk_admin",
    "btcbot.app.venue_check", "btcbot.app.readonly", "btcbot.adapters.paper",  # other commands
    "btcbot.cli.commands.status_view", "btcbot.cli.commands.data", "btcbot.cli.commands.config",
    "btcbot.cli.commands.db", "btcbot.cli.commands.research", "btcbot.cli.commands.sim",
)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(
    env: dict[str, str], cwd: str, extra: list[str] | None = None
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """One ``once``: (wall s, child CPU s, process)."""
    cmd = [sys.executable, *(extra or []), "-m", "btcbot.cli.main", "once"]
    cpu, start = _child_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    return time.perf_counter() - start, _child_cpu() - cpu, proc


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[2].strip() for line in stderr.splitlines()
            if line.startswith("import time:") and "cumulative" not in line}


def not_needed_imported(modules: set[str]) -> list[str]:
    """The entries of NOT_NEEDED that ``modules`` (full dotted names) contain, or a submodule of."""
    return sorted(name for name in NOT_NEEDED
                  if any(m == name or m.startswith(name + ".") for m in modules))


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
    parser.add_argument("--cold", action="store_true", help="no bytecode cache (every module compiled per run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SimProcess(clock="wall") as sim:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        env = child_env(bot_env(sim.url, url, BTCBOT_TRADING__STRATEGY="rebalance",
                                BTCBOT_TRADING__CANDLE_INTERVAL_S="3600"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.cold:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        warm, _, proc = _run(env, tmp)
        if proc.returncode != 0:
            raise SystemExit(f"warm-up once failed ({proc.returncode}): {proc.stderr[-2000:]}")
        times, cpus = [], []
        for _ in range(args.runs):
            elapsed, cpu, proc = _run(env, tmp)
            if proc.returncode not in (0, 3):
                raise SystemExit(f"once failed ({proc.returncode}): {proc.stderr[-2000:]}")
            times.append(elapsed)
            cpus.append(cpu)
        _, _, imp = _run(env, tmp, ["-X", "importtime"])
        start = time.perf_counter()
        bare_cpu = _child_cpu()
        subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT, env=env)
        bare, bare_cpu = time.perf_counter() - start, _child_cpu() - bare_cpu
    result = {
        "runs": args.runs,
        "bytecode_cache": not args.cold,
        "first_run_s": round(warm, 3),
        "wall_s": {"median": round(statistics.median(times), 3), "min": round(min(times), 3),
                   "max": round(max(times), 3)},
        "cpu_s": {"median": round(statistics.median(cpus), 3), "min": round(min(cpus), 3),
                  "max": round(max(cpus), 3)},
        "bare_interpreter_s": round(bare, 3),
        "bare_interpreter_cpu_s": round(bare_cpu, 3),
        "slowest_top_level_imports": _import_profile(imp.stderr, 12),
        "not_needed_but_imported": not_needed_imported(_imported(imp.stderr)),
        "target_s": 0.7,
        "machine": machine(),
    }
    path = save("cycle_once_walltime" + ("_cold" if args.cold else ""), result)
    print(f"btcbot once wall time: median {result['wall_s']['median']} s (min {result['wall_s']['min']}, "
          f"max {result['wall_s']['max']}); CPU median {result['cpu_s']['median']} s (min {result['cpu_s']['min']}, "
          f"max {result['cpu_s']['max']}); first run {result['first_run_s']} s; bare python "
          f"{result['bare_interpreter_s']} s ({result['bare_interpreter_cpu_s']} s CPU)")
    print(f"imported although a once never needs them: {result['not_needed_but_imported'] or 'none'}")
    for row in result["slowest_top_level_imports"]:
        print(f"  import {row['module']:40s} {row['cumulative_ms']:8.1f} ms")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
