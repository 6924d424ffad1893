"""Per-call overhead of BtcTurkClient without a network.

A requests transport adapter answers every request with canned bytes (the BTC Turk example
payloads from tests/fixtures/btcturk), so what is measured is the client's own work: breaker
check, rate-limiter bookkeeping, stamp + HMAC signing, request preparation by `requests`,
JSON decoding with Decimal, pydantic validation and mapping to domain values. The limiter is
given huge limits so no waiting is included.

Usage: python benchmarks/client_overhead.py [--iterations N]
Prints a table and writes benchmarks/results/client_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from pydantic import SecretStr
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.btcturk.rate_limit import RateLimiter, WindowSpec
from btcbot.adapters.clock import SystemClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "btcturk"
RESULTS = ROOT / "benchmarks" / "results" / "client_overhead.json"
BASE = "https://api.bench"
GRAPH = "https://graph.bench"


def _ticker_payload(pairs: int) -> bytes:
    """The legacy ticker sample widened to ``pairs`` rows (the real endpoint returns ~200)."""
    doc = json.loads((FIXTURES / "rest_ticker_response_docs_legacy.json").read_text())
    row = doc["data"][0]
    doc["data"] = [{**row, "pair": f"P{i}TRY", "pairNormalized": f"P{i}_TRY"} for i in range(pairs)]
    return json.dumps(doc).encode()


class CannedAdapter(BaseAdapter):
    """Answers by (method, path) with fixed bytes; no sockets."""

    def __init__(self, routes: Mapping[tuple[str, str], bytes]) -> None:
        super().__init__()
        self._routes = dict(routes)

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        path = (request.path_url or "/").split("?", 1)[0]
        key = (request.method or "GET", "/api/v1/order/{id}" if path.startswith("/api/v1/order/") else path)
        response = requests.Response()
        response.status_code = 200
        response._content = self._routes[key]
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None


def build_client(ticker_pairs: int) -> BtcTurkClient:
    f = {p.name: p.read_bytes() for p in FIXTURES.glob("*.json")}
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    routes = {
        ("GET", "/api/v2/server/time"): json.dumps({"serverTime": now_ms}).encode(),
        ("GET", "/api/v2/ticker"): _ticker_payload(ticker_pairs),
        ("GET", "/api/v2/orderbook"): f["rest_orderbook_response_docs.json"],
        ("GET", "/api/v1/users/balances"): f["rest_account_balance_response_docs.json"],
        ("GET", "/api/v1/openOrders"): f["rest_open_orders_response_docs_truncated.json"],
        ("GET", "/api/v1/order/{id}"): f["rest_get_single_order_response_docs.json"],
        ("GET", "/api/v1/users/transactions/trade"): f["user_trades_crafted.json"],
        ("POST", "/api/v1/order"): f["submit_order_response_issue341_crafted.json"],
        ("DELETE", "/api/v1/order"): f["rest_cancel_order_response_docs.json"],
    }
    session = requests.Session()
    adapter = CannedAdapter(routes)
    session.mount("https://", adapter)
    clock = SystemClock()
    return BtcTurkClient(
        base_url=BASE,
        graph_url=GRAPH,
        credentials=Credentials("bench-key", SecretStr("YnRjYm90LWJlbmNoLXNlY3JldA==")),
        clock=clock,
        resilience=ResilienceSettings(),
        timeout_s=5.0,
        rate_limiter=RateLimiter(clock, limits={}, default=(WindowSpec(10**12, 1.0),)),
        rng=random.Random(0),
        session=session,
    )


def measure(call: Callable[[], object], iterations: int) -> dict[str, float]:
    for _ in range(min(50, iterations)):
        call()  # warm-up
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return {
        "mean_us": round(statistics.fmean(samples), 1),
        "p50_us": round(samples[len(samples) // 2], 1),
        "p99_us": round(samples[int(len(samples) * 0.99) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    client = build_client(ticker_pairs=200)
    order = OrderRequest("BTCTRY", Side.BUY, OrderType.LIMIT, "s1-c42-BTCTRY-B-1a2b3c", base_quantity=Decimal("0.005"),
                         price=Decimal("3612000"))  # fmt: skip
    cases: dict[str, Callable[[], object]] = {
        "tickers_200_pairs (public)": client.tickers,
        "tickers_5_of_200_pairs (public, what the market feed reads)": lambda: client.tickers(
            ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")),
        "order_book (public, 2x2 levels)": lambda: client.order_book("BTCTRY"),
        "balances (signed)": client.balances,
        "open_orders (signed)": lambda: client.open_orders("BTCTRY"),
        "get_order (signed)": lambda: client.get_order(61912740),
        "trades_for_order (signed)": lambda: client.trades_for_order(9007199254740993),
        "submit_order (signed POST)": lambda: client.submit_order(order),
        "cancel_order (signed DELETE)": lambda: client.cancel_order(61912740),
    }
    results = {name: measure(call, args.iterations) for name, call in cases.items()}
    print(f"BtcTurkClient per-call overhead, canned HTTP, {args.iterations} iterations")
    print(f"{'call':34} {'mean us':>9} {'p50 us':>9} {'p99 us':>9}")
    for name, r in results.items():
        print(f"{name:34} {r['mean_us']:>9} {r['p50_us']:>9} {r['p99_us']:>9}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "client_overhead",
                "iterations": args.iterations,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
