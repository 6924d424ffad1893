"""CPU time of one cron run, `./run.sh once`, on an already migrated database: before and after
run.sh stopped migrating on every run (issue 13 item 6).

"before" is run.sh as it was (taken from git history: it ran `btcbot db upgrade` before every
run/once/status/reconcile), "after" is the current run.sh (one schema query, no migration). Both
run against the simulator in its own process, on the same migrated SQLite database, interleaved,
with ``BTCBOT_SKIP_INSTALL=1`` (the install check is identical in both and would otherwise be free
to pip-install into the shared venv). CPU time = user + system of the whole process tree
(``RUSAGE_CHILDREN`` delta), so bash, the migration process and the bot all count.

Time spent in migration: "before" = CPU of the `btcbot db upgrade` step alone (measured the same
way); "after" = 0, checked rather than assumed: `python -X importtime` of the after run imports no
``alembic`` module and the database's revision is unchanged.

Usage: python benchmarks/once_migration_cost.py [--runs N]
Writes benchmarks/results/once_migration_cost.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from cycle_harness import ROOT, SimProcess, bot_env, child_env, machine, save

from btcbot.persistence.migrations import current, upgrade

BEFORE_MARKER = 'db upgrade >/dev/null'


def _old_run_sh() -> str:
    """The newest run.sh in history that still migrated before every run."""
    revs = subprocess.run(["git", "log", "--format=%H", "--", "run.sh"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.split()
    for rev in revs:
        text = subprocess.run(["git", "show", f"{rev}:run.sh"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout
        if BEFORE_MARKER in text:
            return text
    raise SystemExit("no run.sh in git history migrates before every run")


def _cpu(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=180)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "stdev": round(statistics.stdev(values), 3) if len(values) > 1 else 0.0}


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{what} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    old_script = ROOT / ".once-migration-cost-before.sh"  # must sit in the checkout: run.sh finds .venv by its own path
    old_script.write_text(_old_run_sh())
    old_script.chmod(0o700)
    try:
        with tempfile.TemporaryDirectory() as tmp, SimProcess(clock="wall") as sim:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            revision = current(url)
            env = child_env(bot_env(sim.url, url, BTCBOT_TRADING__STRATEGY="rebalance",
                                    BTCBOT_TRADING__CANDLE_INTERVAL_S="3600"))
            env["BTCBOT_SKIP_INSTALL"] = "1"
            after_cmd = [str(ROOT / "run.sh"), "once"]
            before_cmd = [str(old_script), "once"]
            _check(_cpu(after_cmd, env, tmp)[1], "warm-up once")
            before: list[float] = []
            after: list[float] = []
            migration: list[float] = []
            for _ in range(args.runs):
                cpu, proc = _cpu(before_cmd, env, tmp)
                _check(proc, "before: run.sh once")
                before.append(cpu)
                cpu, proc = _cpu(after_cmd, env, tmp)
                _check(proc, "after: run.sh once")
                after.append(cpu)
                cpu, proc = _cpu([str(ROOT / ".venv" / "bin" / "btcbot"), "db", "upgrade"], env, tmp)
                _check(proc, "db upgrade")
                migration.append(cpu)
            profiled = dict(env, PYTHONPROFILEIMPORTTIME="1")
            _, proc = _cpu(after_cmd, profiled, tmp)
            _check(proc, "after: run.sh once (import profile)")
            alembic_imports = [line for line in proc.stderr.splitlines()
                               if line.startswith("import time:") and "alembic" in line]
            unchanged = current(url) == revision
    finally:
        old_script.unlink(missing_ok=True)
    result: dict[str, Any] = {
        "runs": args.runs,
        "what": "CPU seconds (user+sys, whole process tree) of `./run.sh once` on a migrated SQLite "
                "database, live bot against the simulator; BTCBOT_SKIP_INSTALL=1",
        "before_cpu_s": _stats(before),
        "after_cpu_s": _stats(after),
        "saved_cpu_s_median": round(statistics.median(before) - statistics.median(after), 3),
        "migration_cpu_s": {"before": _stats(migration), "after": 0.0},
        "after_imports_alembic": bool(alembic_imports),
        "after_revision_unchanged": unchanged,
        "machine": machine(),
        "cpu_count_note": f"{os.cpu_count()} cores shared with other jobs; medians over interleaved runs",
    }
    if alembic_imports or not unchanged:
        raise SystemExit(f"after run still migrates: alembic imported={bool(alembic_imports)}, "
                         f"revision unchanged={unchanged}")
    path = save("once_migration_cost", result)
    b, a, m = result["before_cpu_s"], result["after_cpu_s"], result["migration_cpu_s"]["before"]
    print(f"./run.sh once CPU, migrated db, {args.runs} runs each:")
    print(f"  before (db upgrade + once): median {b['median']} s (min {b['min']}, max {b['max']}, stdev {b['stdev']})")
    print(f"  after  (schema check only): median {a['median']} s (min {a['min']}, max {a['max']}, stdev {a['stdev']})")
    print(f"  migration step before: median {m['median']} s CPU; after: 0 (no alembic import, revision unchanged)")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
