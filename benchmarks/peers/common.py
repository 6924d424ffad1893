"""Shared by the peer scripts (run with the PEERS venv, benchmarks/peers/.venv): the candles and
parameters written by ``export_candles.py``, the EMA, the timing and the one JSON line."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".venv" / "candles"


def args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder written by export_candles.py")
    parser.add_argument("--repeats", type=int, default=1)
    return parser.parse_args()


def load(data: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """meta.json and one float DataFrame per pair, indexed by the bar's OPEN time (UTC)."""
    meta = json.loads((data / "meta.json").read_text())
    frames = {}
    for symbol in meta["symbols"]:
        df = pd.read_csv(data / f"{symbol}.csv")
        df.index = pd.to_datetime(df.pop("open_time"), unit="s", utc=True)
        frames[symbol] = df.astype(float)
    return meta, frames


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """EMA seeded with the SMA of the first ``period`` values (TA-Lib's, as btcbot.strategies.ta.Ema)."""
    x = np.asarray(values, dtype=float)
    out = np.full(len(x), np.nan)
    if len(x) < period:
        return out
    k = 2.0 / (period + 1)
    value = float(x[:period].mean())
    out[period - 1] = value
    for i in range(period, len(x)):
        value = (x[i] - value) * k + value
        out[i] = value
    return out


def entry_qty(meta: dict[str, Any], price: float) -> float:
    """entry_quote worth at ``price``, rounded down to quantity_places decimals (as ema_cross)."""
    scale = 10 ** meta["quantity_places"]
    return math.floor(float(meta["entry_quote"]) / price * scale) / scale


def measure(engine: str, version: str, run: Callable[[], dict[str, Any]], repeats: int,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``run`` ``repeats`` times; each returns symbol_bars, fills, round_trips (and may add
    keys, e.g. untimed_cpu_s: CPU seconds of set-up to leave out) and is timed with time.process_time (CPU of the whole process, all threads)."""
    runs = []
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        out = run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        cpu -= out.get("untimed_cpu_s", 0.0)  # set-up a script leaves out (says which in its doc)
        runs.append({**out, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                     "per_cpu_s": round(out["symbol_bars"] / cpu)})
        print(f"# {engine} run {len(runs)}: {runs[-1]}", file=sys.stderr, flush=True)
    per = [r["per_cpu_s"] for r in runs]
    line = {
        "engine": engine,
        "version": version,
        "symbol_bars": runs[-1]["symbol_bars"],
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "per_cpu_s": statistics.median(per),
        "per_cpu_s_runs": per,
        "trades": runs[-1]["fills"],
        "round_trips": runs[-1]["round_trips"],
        **(extra or {}),
        "runs": runs,
    }
    print(json.dumps(line), flush=True)
    return line
