"""Per-bar backtest throughput: EMA(12)/EMA(26) cross on every closed 1-minute bar, 5 pairs.

The workload of issue 12 (and of the peer figures quoted in the README): synthetic 1-minute
candles from ``btcbot.data.synthetic`` (seed 1), 2025-01-01 to 2025-02-01, the five default
pairs, the built-in ``ema_cross`` strategy (long only, 500 TRY per entry) deciding on EVERY
closed 1-minute bar, through the backtester's live code path: decide -> risk (pre-trade) ->
venue rounding (``build_order_request``) -> next-open fill -> ledger postings and accounting.

Modes (``--mode``):

* ``memory``: candles generated once and held in memory; the engine run is timed (CPU and wall).
* ``store``: candles written once to a SQLite candle store (in a child process, or reused with
  ``--db FILE``), then the timed run STREAMS them from the store: the figure includes reading
  and decoding every row, and the peak RSS is the streamed run's alone.

Reported per repeat: symbol-bars per CPU-second (``time.process_time``) and per wall-second,
fills (trades), the final equity; over repeats the median and the spread (max - min); and the
peak RSS of the process (``resource.getrusage``; in memory mode it includes the candle generation).
``--naive`` recomputes the EMAs over the whole window at every bar (the pre-issue-12 cost, for
the before/after figure). ``--breakdown`` adds one instrumented run (not counted in the figures)
that reports where the CPU time goes: CPU seconds (``time.process_time``) and calls of each part
of the live path, measured around the part (nested parts are included in their parent; the
wrappers add a little time of their own), and the quiet-bar cost: the same run with a strategy that
updates the same EMAs but never acts, and with one that does nothing at all.

Usage::

    python benchmarks/backtest_ema_cross.py                      # the month, memory mode, 3 repeats
    python benchmarks/backtest_ema_cross.py --mode store --days 365 --repeats 1 --tag year

Writes ``benchmarks/results/backtest_ema_cross[_TAG].json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from machine_ref import REFERENCE, per_reference_second, reference_cpu_s

from btcbot.backtest.engine import BacktestEngine
from btcbot.config.settings import Settings, load_settings
from btcbot.contracts.strategy import MarketSnapshot
from btcbot.data.synthetic import generate_candles
from btcbot.domain.intents import OrderIntent
from btcbot.domain.market import Candle
from btcbot.domain.portfolio import PortfolioView
from btcbot.persistence.candles import SqlCandleStore
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.strategies.ema_cross import EmaCrossStrategy

RESULTS = Path(__file__).resolve().parent / "results"
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 2, 1, tzinfo=UTC)
TARGET_CPU = 100_000


class NaiveEmaCross:
    """``ema_cross`` with its memo dropped before every call: the EMAs are recomputed over the
    whole window at every bar, as every strategy did before the incremental indicators."""

    def __init__(self, strategy_id: str) -> None:
        self._inner = EmaCrossStrategy(strategy_id=strategy_id)
        self.strategy_id = strategy_id

    def required_history(self) -> int:
        return self._inner.required_history()

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> list[OrderIntent]:
        self._inner._state.clear()
        return self._inner.decide(snapshot, portfolio, tradable)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def settings_for(tmp: Path) -> Settings:
    empty = tmp / "empty.env"
    empty.write_text("")
    return load_settings(env_file=empty, environ={"BTCBOT_TRADING__STRATEGY": "ema_cross"}).settings


def run_once(settings: Settings, candles: Mapping[str, Iterable[Candle]], naive: bool) -> dict[str, Any]:
    strategy: Any = NaiveEmaCross("s1") if naive else EmaCrossStrategy(strategy_id="s1")
    engine = BacktestEngine(settings, strategy, 60)
    ref_before = reference_cpu_s(3)
    cpu, wall = time.process_time(), time.perf_counter()
    result = engine.run(candles, keep_bars=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    ref = (ref_before + reference_cpu_s(3)) / 2  # the machine's speed around this run
    bars = result.base_bars
    return {
        "reference_cpu_s": round(ref, 4),
        "per_reference_s": round(per_reference_second(bars / cpu, ref)),
        "symbol_bars": bars,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "per_cpu_s": round(bars / cpu),
        "per_wall_s": round(bars / wall),
        "trades": len(result.trades),
        "decisions": result.strategy_bars,
        "denials": dict(sorted(result.denials.items())),
        "final_equity": str(result.equity_curve[-1][1]) if result.equity_curve else None,
    }


#: (owner, method, label) timed by ``--breakdown``; nested parts are included in their parent.
BREAKDOWN = (
    ("btcbot.backtest.engine:BacktestEngine", "_submit", "risk pre-trade + venue rounding (_submit)"),
    ("btcbot.services.risk.engine:RiskEngine", "pre_trade", "  RiskEngine.pre_trade"),
    ("btcbot.backtest.engine:BacktestEngine", "_prepare", "  prepare_order (venue rounding, client id)"),
    ("btcbot.backtest.engine:_Run", "settle_previous", "previous bar's post-trade check (settle_previous)"),
    ("btcbot.services.risk.engine:RiskEngine", "post_trade", "  RiskEngine.post_trade"),
    ("btcbot.backtest.engine:_Run", "view", "portfolio views (PortfolioService.view)"),
    ("btcbot.services.risk.engine:RiskEngine", "policy", "capital policy (in pre- and post-trade)"),
    ("btcbot.backtest.engine:BacktestEngine", "_fill_pending", "fills (fill model + book)"),
    ("btcbot.backtest.book:BacktestBook", "book_fill", "  ledger postings + accounting (book_fill)"),
    ("btcbot.backtest.book:BacktestBook", "accounting", "accounting reads (realized MTD, 30-day notional)"),
    ("btcbot.backtest.book:BacktestBook", "harvest", "profit harvest"),
    ("btcbot.strategies.ema_cross:EmaCrossStrategy", "may_act", "strategy: EMA update + crossing test (may_act)"),
    ("btcbot.strategies.ema_cross:EmaCrossStrategy", "decide", "strategy: decide"),
)


def breakdown(settings: Settings, candles: Mapping[str, Iterable[Candle]]) -> dict[str, Any]:
    """One instrumented run: CPU seconds and calls per part (see ``--breakdown``)."""
    import importlib
    from collections import defaultdict

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start
                calls[label] += 1

        patched.append((owner, name, original))
        setattr(owner, name, timed)

    for target, name, label in BREAKDOWN:
        module, cls = target.split(":")
        wrap(getattr(importlib.import_module(module), cls), name, label)
    try:
        engine = BacktestEngine(settings, EmaCrossStrategy(strategy_id="s1"), 60)
        cpu = time.process_time()
        result = engine.run(candles, keep_bars=False)
        cpu = time.process_time() - cpu
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)
    parts = {label: {"cpu_s": round(spent[label], 3), "calls": calls[label],
                     "us_per_call": round(spent[label] / calls[label] * 1e6, 1) if calls[label] else None}
             for _, _, label in BREAKDOWN}
    quiet = {}
    for name, strategy in (("ema_updates_only", _QuietEmaCross()), ("engine_only", _Nothing())):
        engine = BacktestEngine(settings, strategy, 60)
        start = time.process_time()
        quiet_run = engine.run(candles, keep_bars=False)
        spent_s = time.process_time() - start
        quiet[name] = {"cpu_s": round(spent_s, 3), "us_per_symbol_bar": round(spent_s / quiet_run.base_bars * 1e6, 2)}
    return {"instrumented_cpu_s": round(cpu, 3), "trades": len(result.trades), "parts": parts, "quiet": quiet}


class _QuietEmaCross:
    """Updates ema_cross's EMAs at every bar (its ``may_act``) but never acts."""

    strategy_id = "s1"

    def __init__(self) -> None:
        self._inner = EmaCrossStrategy(strategy_id="s1")

    def required_history(self) -> int:
        return self._inner.required_history()

    def may_act(self, snapshot: MarketSnapshot, tradable: Sequence[str]) -> bool:
        self._inner.may_act(snapshot, tradable)
        return False

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> list[OrderIntent]:
        return []


class _Nothing(_QuietEmaCross):
    """The engine's own per-bar cost: a strategy that never acts and computes nothing."""

    def may_act(self, snapshot: MarketSnapshot, tradable: Sequence[str]) -> bool:
        return False


def fill_store(url: str, symbols: Sequence[str], start: datetime, end: datetime) -> None:
    """Generate the candles a month at a time into a SQLite candle store (``download-data --synthetic``)."""
    upgrade(url)
    db = create_engine_for(url)
    store = SqlCandleStore(db)
    day = start
    while day < end:
        chunk_end = min(end, day + timedelta(days=31))
        for series in generate_candles(symbols, 60, day, chunk_end, seed=1).values():
            store.add(series)
        day = chunk_end
    db.dispose()


def summarize(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"median": statistics.median(values), "spread": max(values) - min(values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default=START.date().isoformat(), help="first day (UTC), default 2025-01-01")
    parser.add_argument("--end", default=None, help="end day, exclusive (UTC), default 2025-02-01")
    parser.add_argument("--days", type=int, default=None, help="instead of --end: this many days from --start")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mode", choices=("memory", "store"), default="memory")
    parser.add_argument("--naive", action="store_true", help="recompute the EMAs over the window every bar")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--db", default=None, help="store mode: reuse (or create) this SQLite candle file")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of the live path (memory mode)")
    args = parser.parse_args()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    if args.days is not None:
        end = start + timedelta(days=args.days)
    else:
        end = datetime.fromisoformat(args.end).replace(tzinfo=UTC) if args.end else END
    if end <= start:
        print("--end must be after --start", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = settings_for(tmp)
        symbols = list(settings.trading.symbols)
        t = time.perf_counter()
        runs: list[dict[str, Any]] = []
        parts: dict[str, Any] | None = None
        if args.mode == "memory":
            candles = generate_candles(symbols, 60, start, end, seed=1)
            print(f"generated {sum(len(v) for v in candles.values()):,} symbol-bars in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
            for i in range(args.repeats):
                runs.append(run_once(settings, candles, args.naive))
                print(f"run {i + 1}: {runs[-1]}", flush=True)
            if args.breakdown:
                parts = breakdown(settings, candles)
                print(json.dumps(parts, indent=2), flush=True)
        else:
            path = Path(args.db) if args.db else tmp / "candles.db"
            url = f"sqlite:///{path}"
            if not path.exists():
                # In a child process: the generation's memory must not count in the run's peak RSS.
                child = multiprocessing.get_context("spawn").Process(
                    target=fill_store, args=(url, symbols, start, end))
                child.start()
                child.join()
                if child.exitcode != 0:
                    print("storing the candles failed", file=sys.stderr)
                    return 1
                print(f"stored the candles in {time.perf_counter() - t:.1f} s", flush=True)
            db = create_engine_for(url)
            store = SqlCandleStore(db)
            last = end - timedelta(seconds=1)
            for i in range(args.repeats):
                streams = {s: store.iter_range(s, 60, start, last) for s in symbols}
                runs.append(run_once(settings, streams, args.naive))
                print(f"run {i + 1}: {runs[-1]}", flush=True)
            db.dispose()

    doc = {
        "benchmark": "backtest_ema_cross",
        "workload": "ema_cross EMA(12)/EMA(26) on every closed 1m bar, long only, 500 TRY per entry, "
                    "synthetic candles seed 1, 5 default pairs",
        "mode": args.mode,
        "naive": args.naive,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "symbols": symbols,
        "repeats": runs,
        "per_cpu_s": summarize(runs, "per_cpu_s"),
        "per_wall_s": summarize(runs, "per_wall_s"),
        "reference": REFERENCE,
        "reference_cpu_s": summarize(runs, "reference_cpu_s"),
        "per_reference_s": summarize(runs, "per_reference_s"),
        "trades": sorted({r["trades"] for r in runs}),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "breakdown": parts,
        "target_per_cpu_s": TARGET_CPU,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    name = "backtest_ema_cross" + (f"_{args.tag}" if args.tag else "") + ".json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"symbol-bars per CPU-second: median {doc['per_cpu_s']['median']:,.0f} "
          f"(spread {doc['per_cpu_s']['spread']:,.0f}); per wall-second: median "
          f"{doc['per_wall_s']['median']:,.0f}; trades {doc['trades']}; peak RSS {doc['peak_rss_mib']} MiB")
    print(f"machine: {REFERENCE} took {doc['reference_cpu_s']['median']:.4f} CPU s (median; spread "
          f"{doc['reference_cpu_s']['spread']:.4f}); symbol-bars per reference second: median "
          f"{doc['per_reference_s']['median']:,.0f} (spread {doc['per_reference_s']['spread']:,.0f})")
    print(f"saved {RESULTS / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
