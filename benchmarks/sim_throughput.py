"""Requests per second the BTC Turk simulator sustains on loopback.

Bounded: at most ``MAX_REQUESTS`` requests or ``MAX_SECONDS`` seconds per scenario. Mix: every
other request is a public ticker (all pairs), the rest signed balances. Scenarios: one client
(keep-alive session) and four concurrent clients. Rate limits are disabled (they would cap the
figure at the published quotas). Prints the figures and saves benchmarks/results/sim_throughput.json.

Run: .venv/bin/python benchmarks/sim_throughput.py
"""

from __future__ import annotations

import json
import platform
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import requests

from btcbot.sim.http.auth import signed_headers
from btcbot.sim.testing import SimConfig, SimHandle, running_simulator

MAX_REQUESTS = 5000
MAX_SECONDS = 5.0
RESULTS = Path(__file__).parent / "results" / "sim_throughput.json"


def _worker(sim: SimHandle, budget: int, deadline: float, latencies: list[float], errors: list[int]) -> None:
    session = requests.Session()
    for i in range(budget):
        if time.perf_counter() >= deadline:
            break
        started = time.perf_counter()
        if i % 2 == 0:
            resp = session.get(sim.base_url + "/api/v2/ticker", timeout=5)
        else:
            headers = signed_headers(sim.api_key, sim.api_secret, sim.clock.now_ms())
            resp = session.get(sim.base_url + "/api/v1/users/balances", headers=headers, timeout=5)
        latencies.append(time.perf_counter() - started)
        if resp.status_code != 200:
            errors.append(resp.status_code)
    session.close()


def scenario(sim: SimHandle, clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + MAX_SECONDS
    threads = [
        threading.Thread(target=_worker, args=(sim, MAX_REQUESTS // clients, deadline, latencies, errors))
        for _ in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "non_200": len(errors),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 3),
        "latency_ms_p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


def main() -> None:
    config = SimConfig(rate_limits=False, history_minutes=1440)
    with running_simulator(config) as sim:
        scenario(sim, 1)  # warm-up (imports, connection setup)
        results = [scenario(sim, 1), scenario(sim, 4)]
    report = {
        "benchmark": "sim_throughput",
        "mix": "50% GET /api/v2/ticker (all pairs), 50% signed GET /api/v1/users/balances",
        "bounds": {"max_requests": MAX_REQUESTS, "max_seconds": MAX_SECONDS},
        "python": platform.python_version(),
        "machine": platform.machine(),
        "scenarios": results,
    }
    for r in results:
        print(
            f"clients={r['clients']}: {r['requests']} requests in {r['seconds']} s = "
            f"{r['requests_per_second']} req/s (p50 {r['latency_ms_p50']} ms, p99 {r['latency_ms_p99']} ms, "
            f"non-200 {r['non_200']})"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
