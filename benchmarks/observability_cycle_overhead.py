"""CPU cost of metrics + tracing on the REAL trading cycle (acceptance 4 of the observability issue).

The bot is this process: ``btcbot.app.operations.start`` builds the app exactly as the CLI does
(live mode, SQLite file database, BTC Turk client over HTTP) and ``TradingCycle.run()`` is called
back to back. The simulator runs in a SEPARATE process (``python -m btcbot.sim``, wall clock, no
rate limits), so ``time.process_time()`` counts only the bot: every thread of this process, which
includes the OpenTelemetry SDK's batch-export thread when tracing is on.

Modes:

* off  metrics disabled (``Metrics.create(enabled=False)``), no tracer (plain observer, no spans)
* on   metrics enabled (private registry) + SDK ``TracerProvider`` into an exporter that discards
       spans (the SDK's own cost without a network); the final ``force_flush`` is timed and added
       to the ON total.

Two layouts per round, each with fresh simulators and databases:

* blocks       one mode after the other (order alternates across rounds), ON with a
               ``BatchSpanProcessor`` as in production (its export thread's CPU is counted);
* interleaved  an OFF bot and an ON bot, each with its own simulator process, alternate cycle by
               cycle, so machine drift hits both alike; ON exports synchronously with a
               ``SimpleSpanProcessor`` so no export thread runs during the OFF bot's cycles.

The strategy flips one small BTCTRY position every cycle (market BUY 200 TRY, then market SELL the
holding), so every cycle fetches, reconciles, decides, checks risk, submits one order and
re-reconciles. Logging is at WARNING so log formatting does not dilute the comparison.

Usage: python benchmarks/observability_cycle_overhead.py [--cycles 40] [--rounds 3] [--warmup 3]
Prints the figures and writes benchmarks/results/observability_cycle_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from btcbot.app.operations import start
from btcbot.app.telemetry import Telemetry
from btcbot.config.settings import load_settings
from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.observability.logging import configure_logging
from btcbot.observability.metrics import Metrics
from btcbot.observability.tracing import get_tracer
from btcbot.persistence.migrations import upgrade
from btcbot.sim.config import DEFAULT_API_SECRET

RESULTS = Path(__file__).parent / "results" / "observability_cycle_overhead.json"
LIMIT_PCT = 10.0
SYMBOL = "BTCTRY"


class FlipBtc:
    """BUY 200 TRY of BTCTRY when flat, SELL the whole holding otherwise: one order per cycle."""

    NOTIONAL = Decimal("200")

    def __init__(self, strategy_id: str) -> None:
        self._strategy_id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    def required_history(self) -> int:
        return 0

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        price = snapshot.last_price(SYMBOL)
        if SYMBOL not in tradable_symbols or price is None:
            return []
        held = portfolio.positions.get(SYMBOL, Decimal(0))
        if held > 0:
            side, qty = Side.SELL, held
        else:
            side, qty = Side.BUY, (self.NOTIONAL / price).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
        return [OrderIntent(
            strategy_id=self._strategy_id, symbol=SYMBOL, side=side, order_type=OrderType.MARKET,
            quantity=qty, reference_price=price, expected_edge_bps=Decimal("1000"), limit_price=None,
            reason="benchmark flip",
        )]


class DiscardExporter(SpanExporter):
    """Accepts and drops spans, counting them."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


@contextmanager
def simulator_process() -> Iterator[str]:
    """``python -m btcbot.sim`` on a free port in its own process; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "btcbot.sim", "--port", "0", "--no-rate-limits", "--clock", "wall"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"simulator did not start: {line!r}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class ModeResult:
    mode: str
    cpu_s: list[float]
    flush_s: float
    submitted: int
    spans: int


@dataclass
class Bot:
    """One bot (app + its telemetry) against one simulator."""

    mode: str
    app: Any
    provider: TracerProvider | None
    exporter: DiscardExporter


def open_bot(mode: str, url: str, workdir: Path, batch: bool) -> Bot:
    db = workdir / f"{mode}-{time.monotonic_ns()}.db"
    env = {
        "BTCBOT_EXCHANGE__BASE_URL": url, "BTCBOT_EXCHANGE__GRAPH_URL": url,
        "BTCBOT_AUTH__API_KEY": "sim-key", "BTCBOT_AUTH__API_SECRET": DEFAULT_API_SECRET,
        "BTCBOT_TRADING__DRY_RUN": "false", "BTCBOT_TRADING__STRATEGY": "__main__:FlipBtc",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60", "BTCBOT_DATABASE__URL": f"sqlite:///{db}",
    }  # fmt: skip
    settings = load_settings(environ=env).settings
    upgrade(settings.database.url)
    provider: TracerProvider | None = None
    exporter = DiscardExporter()
    if mode == "on":
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
        telemetry = Telemetry(metrics=Metrics.create(enabled=True), tracer=get_tracer(provider))
    else:
        telemetry = Telemetry(metrics=Metrics.create(enabled=False))
    return Bot(mode, start(settings, telemetry=telemetry), provider, exporter)


def close_bot(bot: Bot) -> float:
    """Flush (timed, CPU seconds) and close."""
    t0 = time.process_time()
    if bot.provider is not None:
        bot.provider.force_flush()
    flush = time.process_time() - t0
    bot.app.close()
    if bot.provider is not None:
        bot.provider.shutdown()
    return flush


def timed_cycle(bot: Bot) -> tuple[float, int]:
    cycle = bot.app.cycle()
    t0 = time.process_time()
    result = cycle.run()
    return time.process_time() - t0, int(result.submitted)


def run_mode(mode: str, cycles: int, warmup: int, workdir: Path) -> ModeResult:
    """Blocks: one mode at a time (BatchSpanProcessor, as in production)."""
    with simulator_process() as url:
        bot = open_bot(mode, url, workdir, batch=True)
        samples: list[float] = []
        submitted = 0
        try:
            for _ in range(warmup):
                bot.app.cycle().run()
            for _ in range(cycles):
                cpu, sent = timed_cycle(bot)
                samples.append(cpu)
                submitted += sent
        finally:
            flush = close_bot(bot)
        return ModeResult(mode, samples, flush, submitted, bot.exporter.spans)


def run_paired(cycles: int, warmup: int, workdir: Path) -> tuple[ModeResult, ModeResult]:
    """Interleaved: an OFF bot and an ON bot (each with its own simulator process) run cycle by
    cycle in alternating order, so machine drift hits both alike. The ON bot exports synchronously
    (SimpleSpanProcessor): no export thread whose CPU would land in the OFF bot's cycles."""
    with simulator_process() as url_off, simulator_process() as url_on:
        bots = {"off": open_bot("off", url_off, workdir, batch=False),
                "on": open_bot("on", url_on, workdir, batch=False)}
        samples: dict[str, list[float]] = {"off": [], "on": []}
        submitted = {"off": 0, "on": 0}
        flush: dict[str, float] = {}
        try:
            for _ in range(warmup):
                for bot in bots.values():
                    bot.app.cycle().run()
            for i in range(cycles):
                for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
                    cpu, sent = timed_cycle(bots[mode])
                    samples[mode].append(cpu)
                    submitted[mode] += sent
        finally:
            for mode, bot in bots.items():
                flush[mode] = close_bot(bot)
        off, on = (ModeResult(m, samples[m], flush[m], submitted[m], bots[m].exporter.spans) for m in ("off", "on"))
        return off, on


def summarize(results: list[ModeResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("off", "on"):
        mine = [r for r in results if r.mode == mode]
        cpu = [x for r in mine for x in r.cpu_s]
        total = sum(cpu) + sum(r.flush_s for r in mine)
        out[mode] = {
            "cycles": len(cpu),
            "cpu_ms_per_cycle_mean": round(1000 * total / len(cpu), 3),
            "cpu_ms_per_cycle_median": round(1000 * statistics.median(cpu), 3),
            "cpu_ms_per_cycle_p90": round(1000 * sorted(cpu)[int(0.9 * (len(cpu) - 1))], 3),
            "flush_ms_total": round(1000 * sum(r.flush_s for r in mine), 3),
            "orders_submitted": sum(r.submitted for r in mine),
            "spans_exported": sum(r.spans for r in mine),
            "per_round_mean_ms": [round(1000 * statistics.fmean(r.cpu_s), 3) for r in mine],
        }
    off, on = out["off"], out["on"]
    out["overhead_pct_mean"] = round(100 * (on["cpu_ms_per_cycle_mean"] / off["cpu_ms_per_cycle_mean"] - 1), 2)
    out["overhead_pct_median"] = round(100 * (on["cpu_ms_per_cycle_median"] / off["cpu_ms_per_cycle_median"] - 1), 2)
    out["limit_pct"] = LIMIT_PCT
    out["within_limit"] = out["overhead_pct_mean"] < LIMIT_PCT and out["overhead_pct_median"] < LIMIT_PCT
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=40, help="Measured cycles per mode per round.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds; each runs both modes (order alternates).")
    parser.add_argument("--warmup", type=int, default=3, help="Unmeasured cycles before each measurement.")
    args = parser.parse_args()
    configure_logging(level="WARNING", fmt="json", stream=sys.stderr)
    results: list[ModeResult] = []
    paired: list[ModeResult] = []
    with tempfile.TemporaryDirectory(prefix="btcbot-obs-bench-") as tmp:
        for i in range(args.rounds):
            for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
                r = run_mode(mode, args.cycles, args.warmup, Path(tmp))
                results.append(r)
                print(f"blocks round {i + 1} {mode:>3}: {1000 * statistics.fmean(r.cpu_s):8.3f} ms CPU/cycle "
                      f"(median {1000 * statistics.median(r.cpu_s):.3f}), {r.submitted} orders, {r.spans} spans")
            off, on = run_paired(args.cycles, args.warmup, Path(tmp))
            paired += [off, on]
            print(f"paired round {i + 1}: off {1000 * statistics.fmean(off.cpu_s):8.3f} ms, "
                  f"on {1000 * statistics.fmean(on.cpu_s):8.3f} ms CPU/cycle, {on.spans} spans")
    blocks = summarize(results)
    interleaved = summarize(paired)
    summary = {**blocks, "interleaved": interleaved,
               "within_limit": bool(blocks["within_limit"] and interleaved["within_limit"])}
    doc = {
        "benchmark": "observability_cycle_overhead",
        "what": "time.process_time of the bot process per TradingCycle.run(), simulator in another process",
        "params": {"cycles_per_round": args.cycles, "rounds": args.rounds, "warmup": args.warmup,
                   "log_level": "WARNING", "database": "sqlite file", "strategy": "flip BTCTRY each cycle",
                   "blocks": "one mode per block, BatchSpanProcessor (export thread counted)",
                   "interleaved": "off/on bots alternating cycle by cycle, SimpleSpanProcessor"},
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        **summary,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    for label, part in (("blocks", blocks), ("interleaved", interleaved)):
        off_d, on_d = part["off"], part["on"]
        print(f"{label}: off {off_d['cpu_ms_per_cycle_mean']:.3f} ms/cycle, on {on_d['cpu_ms_per_cycle_mean']:.3f} "
              f"(incl. flush; {on_d['spans_exported']} spans): overhead {part['overhead_pct_mean']:+.2f} % mean, "
              f"{part['overhead_pct_median']:+.2f} % median")
    print(f"limit {LIMIT_PCT:.0f} % -> {'OK' if summary['within_limit'] else 'OVER'}")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
