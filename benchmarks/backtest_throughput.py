"""Backtest throughput: one year of 1-minute candles for the 5 default pairs (symbol-bars/second).

Candles come from the simulator's price engine (``btcbot.data.synthetic``, seed 1). Figures:

* ``engine_1h``: the acceptance figure. 2,628,000 one-minute symbol-bars replayed with the default
  ``trend`` strategy deciding on hourly bars (aggregated from the minutes), through strategy ->
  risk -> venue rounding -> fills -> ledger. Candles already in memory.
* ``end_to_end_db_1h``: the same, plus storing the candles in SQLite and loading them back
  (what ``btcbot backtest`` does after ``download-data``).
* ``engine_1m_week``: one week with the strategy deciding on EVERY 1-minute bar (the per-decision
  cost, without aggregation's help).

Usage: ``python benchmarks/backtest_throughput.py [--days 365] [--no-db]``.
Writes ``benchmarks/results/backtest_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from btcbot.backtest.engine import BacktestEngine, BacktestResult
from btcbot.backtest.runner import load_candles
from btcbot.config.settings import Settings, load_settings
from btcbot.data.synthetic import generate_candles
from btcbot.domain.market import Candle
from btcbot.persistence.candles import SqlCandleStore
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.strategies.registry import load_strategy

START = datetime(2025, 1, 1, tzinfo=UTC)
RESULTS = Path(__file__).resolve().parent / "results" / "backtest_throughput.json"


def _run(settings: Settings, candles: Mapping[str, Sequence[Candle]], interval_s: int) -> tuple[BacktestResult, float]:
    engine = BacktestEngine(settings, load_strategy("trend", "s1"), interval_s)
    t = time.perf_counter()
    result = engine.run(candles)
    elapsed = time.perf_counter() - t
    return result, elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--no-db", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.env"
        empty.write_text("")
        settings = load_settings(env_file=empty, environ={}).settings
        symbols = settings.trading.symbols
        end = START + timedelta(days=args.days)

        t = time.perf_counter()
        candles = generate_candles(symbols, 60, START, end, seed=1)
        gen_s = time.perf_counter() - t
        bars = sum(len(v) for v in candles.values())
        print(f"generated {bars} symbol-bars in {gen_s:.1f} s", flush=True)

        result, elapsed = _run(settings, candles, 3600)
        engine_rate = bars / elapsed
        print(f"engine_1h: {bars} symbol-bars in {elapsed:.2f} s = {engine_rate:,.0f} symbol-bars/s "
              f"({result.strategy_bars} hourly decisions, {len(result.trades)} fills)", flush=True)
        figures: dict[str, object] = {
            "engine_1h": {
                "symbol_bars": bars, "seconds": round(elapsed, 3),
                "symbol_bars_per_s": round(engine_rate), "decisions": result.strategy_bars,
                "fills": len(result.trades), "denials": dict(result.denials),
                "final_equity": str(result.equity_curve[-1][1]),
            },
        }

        if not args.no_db:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            db = create_engine_for(url)
            store = SqlCandleStore(db)
            t = time.perf_counter()
            for series in candles.values():
                store.add(series)
            store_s = time.perf_counter() - t
            t = time.perf_counter()
            loaded = load_candles(store, symbols, 3600, START, end, base_interval_s=60)
            load_s = time.perf_counter() - t
            db.dispose()
            _, run_s = _run(settings, loaded, 3600)
            total = load_s + run_s
            print(f"end_to_end_db_1h: store {store_s:.1f} s (once, by download-data), load {load_s:.1f} s + "
                  f"run {run_s:.1f} s = {bars / total:,.0f} symbol-bars/s", flush=True)
            figures["end_to_end_db_1h"] = {
                "store_seconds": round(store_s, 3), "load_seconds": round(load_s, 3),
                "run_seconds": round(run_s, 3), "symbol_bars_per_s": round(bars / total),
            }

        week = {s: v[: 7 * 1440] for s, v in candles.items()}
        week_bars = sum(len(v) for v in week.values())
        result, elapsed = _run(settings, week, 60)
        print(f"engine_1m_week: {week_bars} symbol-bars, a decision every bar, in {elapsed:.2f} s = "
              f"{week_bars / elapsed:,.0f} symbol-bars/s", flush=True)
        figures["engine_1m_week"] = {
            "symbol_bars": week_bars, "seconds": round(elapsed, 3),
            "symbol_bars_per_s": round(week_bars / elapsed), "decisions": result.strategy_bars,
        }

    doc = {
        "benchmark": "backtest_throughput",
        "days": args.days,
        "symbols": list(symbols),
        "generation_seconds": round(gen_s, 3),
        "target_symbol_bars_per_s": 50_000,
        "figures": figures,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"saved {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
