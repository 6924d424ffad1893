"""CPU cost of metrics + tracing on a synthetic cycle-shaped workload.

Each iteration does what one trading cycle does to observability: 6 stage spans (live_cycle and
its five children), one exchange-call span carrying 3 attempt events, 3 api_call observations,
5 gauge updates and 1 histogram observation. Measured with ``time.process_time`` (CPU of all
threads, so the SDK's batch export thread is included) for three set-ups:

* empty_loop      the bare loop, no observability calls (floor)
* disabled        Metrics.create(enabled=False), OpenTelemetry API no-op tracer
* metrics_only    metrics on, tracing no-op (the default when no OTLP endpoint is configured)
* metrics_tracing metrics on, SDK TracerProvider + BatchSpanProcessor into a discarding exporter

Usage: python benchmarks/observability_overhead.py [--iterations N]
Writes benchmarks/results/observability_overhead.json. The lead re-measures against the real cycle.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Tracer

from btcbot.observability import tracing as tr
from btcbot.observability.metrics import Metrics

RESULTS = Path(__file__).parent / "results" / "observability_overhead.json"
AT = datetime(2026, 1, 1, tzinfo=UTC)
EQUITY, FREE, DD = Decimal("100000.12"), Decimal("25000.5"), Decimal("1.25")


class DiscardExporter(SpanExporter):
    """Accepts and drops spans: measures the SDK's own cost, not a network."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def one_cycle(
    metrics: Metrics, tracer: Tracer, calls: tr.ExchangeCallTracer, observer: tr.ApiObserver
) -> None:
    with tr.span(tr.LIVE_CYCLE, tracer=tracer, cycle_id="c-1"):
        with tr.span(tr.DATA_FEED_UPDATE, tracer=tracer), calls.call("market_data", "GET /api/v2/ticker"):
            observer("market_data", "GET /api/v2/ticker", "timeout", 1, 120.0)
            observer("market_data", "GET /api/v2/ticker", "ok", 2, 45.0)
            observer("account", "GET /api/v1/users/balances", "ok", 1, 60.0)
        with tr.span(tr.STRATEGY_DECIDE, tracer=tracer):
            pass
        with tr.span(tr.RISK_PRE_TRADE, tracer=tracer):
            pass
        with tr.span(tr.EXECUTION_SUBMIT, tracer=tracer):
            pass
        with tr.span(tr.RECONCILE_SYNC, tracer=tracer):
            metrics.set_portfolio(EQUITY, FREE, DD)  # 3 gauges
            metrics.set_market_data_age("BTCTRY", 1.5)
            metrics.set_drift("BTC", Decimal("0"))
        metrics.cycle_finished(250.0, AT)


def measure(metrics: Metrics, tracer: Tracer, iterations: int) -> float:
    calls = tr.ExchangeCallTracer(tracer)
    observer = tr.combine_observers(metrics.api_call, calls.observe)
    for _ in range(min(500, iterations)):  # warm-up: label children, imports, caches
        one_cycle(metrics, tracer, calls, observer)
    start = time.process_time()
    for _ in range(iterations):
        one_cycle(metrics, tracer, calls, observer)
    return time.process_time() - start


def _nothing() -> None:
    return None


def measure_empty(iterations: int) -> float:
    """The loop and one call per iteration, no observability: the floor the others are read against."""
    start = time.process_time()
    for _ in range(iterations):
        _nothing()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    args = parser.parse_args()
    n: int = args.iterations

    noop_tracer = tr.get_tracer()
    results: dict[str, float] = {}
    results["empty_loop"] = measure_empty(n)
    results["disabled"] = measure(Metrics.create(enabled=False), noop_tracer, n)
    results["metrics_only"] = measure(Metrics.create(), noop_tracer, n)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DiscardExporter()))
    results["metrics_tracing"] = measure(Metrics.create(), tr.get_tracer(provider), n)
    start = time.process_time()
    provider.shutdown()  # flush what is queued so its CPU is counted
    results["metrics_tracing"] += time.process_time() - start

    per_iter_us = {k: v / n * 1e6 for k, v in results.items()}
    overhead_us = {
        k: round(v - per_iter_us["disabled"], 2)
        for k, v in per_iter_us.items()
        if k not in ("disabled", "empty_loop")
    }
    report = {
        "benchmark": "observability_overhead",
        "iterations": n,
        "workload_per_iteration": "6 stage spans + 1 exchange-call span with 3 attempt events, "
        "3 api_call observations, 5 gauges, 1 histogram (+ last_cycle_timestamp)",
        "cpu_seconds": {k: round(v, 4) for k, v in results.items()},
        "cpu_us_per_iteration": {k: round(v, 2) for k, v in per_iter_us.items()},
        "overhead_us_per_iteration_vs_disabled": overhead_us,
        "noop_cost_us_per_iteration": round(per_iter_us["disabled"] - per_iter_us["empty_loop"], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for k, v in per_iter_us.items():
        print(f"{k:16s} {results[k]:8.3f} s CPU for {n} iterations = {v:8.1f} us/iteration")
    for k, v in overhead_us.items():
        print(f"overhead {k:16s} {v:8.1f} us/iteration")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
