"""Peak RSS of ``btcbot backtest`` over a full year of 1-minute bars (issue 12: <= 400 MiB).

The workload: synthetic 1-minute candles (``btcbot.data.synthetic``, seed 1, generated a month at
a time as ``benchmarks/backtest_ema_cross.py --mode store`` does) for the five default pairs,
2025-01-01 to 2026-01-01 (2,628,000 symbol-bars), stored in a SQLite candle store; then the CLI,
exactly as a user runs it::

    btcbot backtest --from 2025-01-01 --to 2026-01-01 --strategy ema_cross --interval 1m --out DIR

The store is filled in a child process (reused with ``--db FILE``). The CLI runs as a subprocess
of a small measuring process whose only child it is; that process reports
``resource.getrusage(RUSAGE_CHILDREN)``: the CLI's peak RSS (``ru_maxrss``) and CPU time
(user + system). Everything the CLI does counts: settings, migrations, streaming the candles from
the store, the replay, the report (JSON, CSV, PNG) and report.html (plotly, when installed).

Usage::

    python benchmarks/backtest_year_rss.py                       # year 2025, temp store
    python benchmarks/backtest_year_rss.py --db /tmp/year.db     # reuse (or create) the store
    python benchmarks/backtest_year_rss.py --days 31 --tag month

Writes ``benchmarks/results/backtest_year_rss[_TAG].json``; exits 1 if the peak exceeds the limit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
LIMIT_MIB = 400.0


def _fill(url: str, start: datetime, end: datetime) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from backtest_ema_cross import fill_store

    fill_store(url, SYMBOLS, start, end)


def measure(cli_args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run the CLI as this process's only child; its peak RSS and CPU from RUSAGE_CHILDREN."""
    wall = time.perf_counter()
    done = subprocess.run(cli_args, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - wall
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "exit_code": done.returncode,
        "peak_rss_mib": round(usage.ru_maxrss / 1024.0, 1),  # Linux: KiB
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "wall_s": round(wall, 2),
        "stdout": done.stdout.splitlines()[-12:],
        "stderr": done.stderr.splitlines()[-5:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2025-01-01", help="first day (UTC)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--strategy", default="ema_cross")
    parser.add_argument("--interval", default="1m")
    parser.add_argument("--db", default=None, help="reuse (or create) this SQLite candle file")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--measure", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # the measuring process: its only child is the CLI
        print(json.dumps(measure(args.measure, dict(os.environ))))
        return 0

    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    end = start + timedelta(days=args.days)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = Path(args.db) if args.db else tmp / "candles.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            t = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(target=_fill, args=(url, start, end))
            child.start()
            child.join()
            if child.exitcode != 0:
                print("storing the candles failed", file=sys.stderr)
                return 1
            print(f"stored the candles in {time.perf_counter() - t:.0f} s", flush=True)
        env_file = tmp / "empty.env"
        env_file.write_text("")
        out = tmp / "report"
        cli = [sys.executable, "-c", "from btcbot.cli.main import console_main; console_main()",
               "--env-file", str(env_file), "backtest", "--from", start.date().isoformat(),
               "--to", end.date().isoformat(), "--strategy", args.strategy, "--interval", args.interval,
               "--out", str(out)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
        env["BTCBOT_DATABASE__URL"] = url
        done = subprocess.run([sys.executable, __file__, "--measure", *cli], env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0 or not done.stdout.strip():
            print(done.stderr, file=sys.stderr)
            return 1
        run = json.loads(done.stdout.strip().splitlines()[-1])
        files = sorted(p.name for p in out.iterdir()) if out.exists() else []

    for line in run["stdout"]:
        print(f"  | {line}")
    doc = {
        "benchmark": "backtest_year_rss",
        "command": (f"btcbot backtest --from {start.date()} --to {end.date()} --strategy {args.strategy} "
                    f"--interval {args.interval}"),
        "symbols": list(SYMBOLS),
        "symbol_bars": len(SYMBOLS) * args.days * 1440,
        "exit_code": run["exit_code"],
        "peak_rss_mib": run["peak_rss_mib"],
        "limit_mib": LIMIT_MIB,
        "cpu_s": run["cpu_s"],
        "wall_s": run["wall_s"],
        "files": files,
        "summary": run["stdout"],
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    name = "backtest_year_rss" + (f"_{args.tag}" if args.tag else "") + ".json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"btcbot backtest, {doc['symbol_bars']:,} symbol-bars: exit {run['exit_code']}, peak RSS "
          f"{run['peak_rss_mib']} MiB (limit {LIMIT_MIB:.0f}), CPU {run['cpu_s']} s, wall {run['wall_s']} s")
    print(f"saved {RESULTS / name}")
    if run["exit_code"] != 0:
        print("\n".join(run["stderr"]), file=sys.stderr)
        return 1
    return 0 if run["peak_rss_mib"] <= LIMIT_MIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
