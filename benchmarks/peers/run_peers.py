"""Run btcbot's benchmark and the peer engines INTERLEAVED on this machine; write results.json.

The machine's speed drifts (a shared VM), so every peer run is sandwiched between two runs of
``.venv/bin/python benchmarks/backtest_ema_cross.py --repeats 3`` (btcbot's own benchmark,
unchanged; each gives the median of its 3 repeats) and its ratio btcbot/peer uses the mean of
the two btcbot medians around it. Order per round: B P1 B P2 B P3 ... B.

btcbot's benchmark writes ``benchmarks/results/backtest_ema_cross_peers.json`` (``--tag peers``,
so the tracked untagged file is left alone); it is read and removed after every run.

Usage (from the repository root, after ``benchmarks/peers/run.sh`` set the venv up, or via it)::

    benchmarks/peers/.venv/bin/python benchmarks/peers/run_peers.py [--rounds 3] [--peers backtesting,backtrader,nautilus]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROJECT_PY = ROOT / ".venv" / "bin" / "python"
PEERS_PY = HERE / ".venv" / "bin" / "python"
BTCBOT_RESULT = ROOT / "benchmarks" / "results" / "backtest_ema_cross_peers.json"
PEERS = {"backtesting": "peer_backtesting.py", "backtrader": "peer_backtrader.py", "nautilus": "peer_nautilus.py"}


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {text}", flush=True)


def run_btcbot() -> dict[str, Any]:
    cmd = [str(PROJECT_PY), "benchmarks/backtest_ema_cross.py", "--repeats", "3", "--tag", "peers"]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    doc = json.loads(BTCBOT_RESULT.read_text())
    BTCBOT_RESULT.unlink()
    per = [r["per_cpu_s"] for r in doc["repeats"]]
    out = {"engine": "btcbot", "per_cpu_s": statistics.median(per), "per_cpu_s_runs": per,
           "symbol_bars": doc["repeats"][0]["symbol_bars"], "trades": doc["trades"][0],
           "final_equity": doc["repeats"][0]["final_equity"],
           "cpu_s": statistics.median(r["cpu_s"] for r in doc["repeats"]),
           # the machine's speed around it, when the benchmark reports it (benchmarks/machine_ref.py)
           "reference_cpu_s": (doc.get("reference_cpu_s") or {}).get("median")}
    log(f"btcbot: {out['per_cpu_s']:,.0f} symbol-bars/CPU-s (repeats {per}), trades {out['trades']}")
    return out


def run_peer(name: str, repeats: int) -> dict[str, Any]:
    cmd = [str(PEERS_PY), str(HERE / PEERS[name]), "--repeats", str(repeats)]
    proc = subprocess.run(cmd, cwd=HERE, check=True, stdout=subprocess.PIPE, text=True)
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"{line['engine']}: {line['per_cpu_s']:,.0f} symbol-bars/CPU-s, trades {line['trades']}")
    return line


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "spread": max(values) - min(values), "n": len(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers", default="backtesting,backtrader,nautilus")
    parser.add_argument("--peer-repeats", type=int, default=1, help="repeats inside each peer run")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    opts = parser.parse_args()
    peers = [p for p in opts.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        parser.error(f"unknown peers {unknown}; known: {sorted(PEERS)}")

    sequence: list[dict[str, Any]] = []
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    previous = run_btcbot()
    sequence.append(previous)
    pairs: dict[str, list[dict[str, Any]]] = {p: [] for p in peers}
    for rnd in range(1, opts.rounds + 1):
        for name in peers:
            log(f"round {rnd}/{opts.rounds}: {name}")
            peer = run_peer(name, opts.peer_repeats)
            after = run_btcbot()
            sequence.extend([peer, after])
            around = (previous["per_cpu_s"] + after["per_cpu_s"]) / 2
            pairs[name].append({"peer": peer, "btcbot_around": around,
                                "ratio": round(around / peer["per_cpu_s"], 3)})
            previous = after

    btcbot_runs = [r for r in sequence if r["engine"] == "btcbot"]
    engines: dict[str, Any] = {
        "btcbot": {**spread([r["per_cpu_s"] for r in btcbot_runs]),
                   "note": "each value is the median of one `--repeats 3` run",
                   "trades": sorted({r["trades"] for r in btcbot_runs}),
                   "final_equity": sorted({r["final_equity"] for r in btcbot_runs})},
    }
    for runs in pairs.values():
        first = runs[0]["peer"]
        engines[first["engine"]] = {
            **spread([v for r in runs for v in r["peer"]["per_cpu_s_runs"]]),
            "version": first["version"],
            "trades": sorted({r["peer"]["trades"] for r in runs}),
            "round_trips": sorted({r["peer"]["round_trips"] for r in runs}),
            "portfolio": first.get("portfolio"),
            "ratio_btcbot_over_peer": spread([r["ratio"] for r in runs]),
        }
    doc = {
        "benchmark": "peers: backtest_ema_cross workload in other engines, interleaved with btcbot",
        "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rounds": opts.rounds,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "engines": engines,
        "sequence": sequence,
    }
    opts.out.write_text(json.dumps(doc, indent=2) + "\n")
    log(f"wrote {opts.out}")
    width = max(len(k) for k in engines)
    for name, e in engines.items():
        ratio = e.get("ratio_btcbot_over_peer")
        print(f"{name:<{width}}  median {e['median']:>9,.0f}  range {e['min']:>9,.0f}-{e['max']:<9,.0f} "
              f"trades {e['trades']}" + (f"  btcbot/peer {ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"
                                         if ratio else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
