"""The live cycle's own cost against the simulator on loopback: HTTP requests per idle cycle and
the bot's CPU time per cycle (5 symbols), steady and with a new candle.

The simulator runs in a separate process (manual market clock); the bot runs in THIS process with
a ManualClock moved in lockstep with the simulator, so ``time.process_time()`` around one cycle
is the bot's CPU only (no simulator work, no sleeping). Database: SQLite file on disk (WAL,
synchronous=FULL). Strategy: the default ``trend`` on 300 s bars. Each round = one cycle right
after a bar closed (candles fetched for the 5 symbols, strategy on new bars) + STEADY cycles 10 s
apart inside the bar (ticker, balances, open orders only).

Usage: python benchmarks/cycle_cost.py [--rounds N] [--steady K]
Writes benchmarks/results/cycle_cost.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cycle_harness import SimProcess, bot_env, machine, pct, save
from sqlalchemy import event

from btcbot.adapters.clock import ManualClock
from btcbot.app import operations
from btcbot.config.settings import load_settings
from btcbot.persistence.migrations import upgrade

INTERVAL_S = 300
T0 = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steady", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, SimProcess(clock="manual", start=T0) as sim:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        settings = load_settings(environ=bot_env(
            sim.url, url, BTCBOT_TRADING__CANDLE_INTERVAL_S=str(INTERVAL_S), BTCBOT_TRADING__STRATEGY="trend",
        )).settings
        clock = ManualClock(T0)
        from loguru import logger

        logger.remove()  # the figures are the cycle's, not the console's
        app = operations.start(settings, clock=clock)
        begins = [0]

        def on_begin(_conn: object) -> None:
            begins[0] += 1

        # Every database transaction starts with one "begin" on the engine's connections.
        event.listen(app.engine, "begin", on_begin)

        def step(seconds: float) -> None:
            sim.advance(seconds)
            clock.advance(seconds)

        def one() -> tuple[float, float, Counter[str]]:
            before = Counter(app.exchange.request_counts())
            begins[0] = 0
            cpu, wall = time.process_time(), time.perf_counter()
            outcome = operations._guarded_cycle(app)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if outcome.result is None or outcome.safe_mode:
                raise SystemExit(f"benchmark cycle was not clean: {outcome}")
            after = Counter(app.exchange.request_counts())
            delta = after - before
            delta["db_transactions"] = begins[0]
            return cpu * 1000, wall * 1000, delta

        try:
            one()  # warm-up: exchange info, genesis, full candle history
            candle_cpu: list[float] = []
            candle_wall: list[float] = []
            steady_cpu: list[float] = []
            steady_wall: list[float] = []
            steady_requests: list[int] = []
            steady_transactions: list[int] = []
            steady_by_endpoint: Counter[str] = Counter()
            candle_requests: list[int] = []
            submitted = 0
            for _ in range(args.rounds):
                now = int(clock.now().timestamp())
                step(INTERVAL_S - now % INTERVAL_S + 1)  # just after the next bar closed
                cpu, wall, req = one()
                candle_cpu.append(cpu)
                candle_wall.append(wall)
                req.pop("db_transactions")
                candle_requests.append(sum(req.values()))
                for _ in range(args.steady):
                    step(10)
                    cpu, wall, req = one()
                    if req.get("submit_order", 0) or req.get("cancel_order", 0):
                        submitted += 1
                        continue  # a cycle that traded is not idle
                    steady_cpu.append(cpu)
                    steady_wall.append(wall)
                    steady_transactions.append(req.pop("db_transactions"))
                    steady_requests.append(sum(req.values()))
                    steady_by_endpoint.update(req)
        finally:
            app.close()

    result: dict[str, Any] = {
        "symbols": 5,
        "candle_interval_s": INTERVAL_S,
        "rounds": args.rounds,
        "steady_cycles": len(steady_cpu),
        "steady_cycles_that_traded_excluded": submitted,
        "requests_per_idle_cycle": {
            "median": statistics.median(steady_requests), "max": max(steady_requests),
            "per_endpoint_mean": {k: round(v / len(steady_requests), 3) for k, v in sorted(steady_by_endpoint.items())},
        },
        "db_transactions_per_idle_cycle": {
            "median": statistics.median(steady_transactions), "max": max(steady_transactions),
        },
        "requests_per_new_candle_cycle_median": statistics.median(candle_requests),
        "cpu_ms_steady": {"median": round(statistics.median(steady_cpu), 2), "p10": round(pct(steady_cpu, 0.1), 2),
                          "p90": round(pct(steady_cpu, 0.9), 2)},
        "cpu_ms_new_candle": {"median": round(statistics.median(candle_cpu), 2), "p90": round(pct(candle_cpu, 0.9), 2)},
        "wall_ms_steady_median": round(statistics.median(steady_wall), 2),
        "wall_ms_new_candle_median": round(statistics.median(candle_wall), 2),
        "targets": {"requests_per_idle_cycle": 3, "db_transactions_per_idle_cycle": 2, "cpu_ms_steady": 7,
                    "cpu_ms_new_candle": 30},
        "machine": machine(),
    }
    path = save("cycle_cost", result)
    for key in ("requests_per_idle_cycle", "db_transactions_per_idle_cycle", "requests_per_new_candle_cycle_median", "cpu_ms_steady",
                "cpu_ms_new_candle", "wall_ms_steady_median", "wall_ms_new_candle_median"):
        print(f"{key:40s} {result[key]}")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
