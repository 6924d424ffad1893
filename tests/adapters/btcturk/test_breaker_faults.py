"""Issue 11, "Why" bullet 4: any HTTP 503 counted as maintenance and opened a breaker at once for
its whole cooldown; with 1 % of requests answered 503, most cycles of a fault soak ran in safe
mode. Now only BTC Turk's documented maintenance answers open a breaker at once; a bare 503 (JSON,
HTML or empty) is retried on reads and counts toward the threshold like any other 5xx."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.breaker import BreakerStatus
from btcbot.domain.enums import EndpointGroup, OrderType, Side
from btcbot.domain.errors import (
    AmbiguousOutcome,
    CircuitOpen,
    ExchangeError,
    MaintenanceError,
    TransientError,
)
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator

from .payloads import API_KEY, API_SECRET, body

BASE = "https://api.test"
T0 = datetime(2025, 1, 3, tzinfo=UTC)


def _client(clock: ManualClock, **resilience: object) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=BASE, graph_url="https://graph.test",
        credentials=Credentials(api_key=API_KEY, api_secret=SecretStr(API_SECRET)), clock=clock,
        resilience=ResilienceSettings(**resilience), timeout_s=5.0, rng=random.Random(2),
    )  # fmt: skip


@pytest.mark.parametrize("reply", [{"body": ""}, {"body": "<html>503 Service Unavailable</html>"},
                                   {"json": {"success": False, "message": "Service Unavailable", "code": 503}}])  # fmt: skip
def test_one_bare_503_is_retried_and_leaves_the_breaker_closed(reply: dict[str, object]) -> None:
    clock = ManualClock(T0)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/v2/ticker", status=503, **reply)
        rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
        client = _client(clock)
        assert len(client.tickers()) == 2
    state = client.breakers.state(EndpointGroup.MARKET_DATA)
    assert state.state is BreakerStatus.CLOSED and state.consecutive_failures == 0


def test_a_persistent_503_opens_the_breaker_only_at_the_threshold() -> None:
    clock = ManualClock(T0)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/v2/ticker", status=503, body="")
        client = _client(clock, retry_max_attempts=1, breaker_threshold=3)
        for failures in (1, 2):
            with pytest.raises(TransientError):
                client.tickers()
            assert client.breakers.state(EndpointGroup.MARKET_DATA).state is BreakerStatus.CLOSED
            assert client.breakers.state(EndpointGroup.MARKET_DATA).consecutive_failures == failures
        with pytest.raises(TransientError):
            client.tickers()
        assert client.breakers.state(EndpointGroup.MARKET_DATA).state is BreakerStatus.OPEN
        with pytest.raises(CircuitOpen):
            client.tickers()


def test_the_documented_maintenance_answer_still_opens_at_once() -> None:
    clock = ManualClock(T0)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/v2/ticker", status=503,
                 json={"success": False, "message": "SYSTEM_UNDER_MAINTENANCE", "code": 0})  # fmt: skip
        client = _client(clock)
        with pytest.raises(MaintenanceError):
            client.tickers()
        assert client.breakers.state(EndpointGroup.MARKET_DATA).state is BreakerStatus.OPEN
        assert len(rsps.calls) == 1  # maintenance is not retried


def test_a_503_on_an_order_post_is_unknown_and_only_counts() -> None:
    clock = ManualClock(T0)
    request = OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("cid-503"), base_quantity=Decimal("0.001"),
                           price=Decimal("3000000"))  # fmt: skip
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": int(T0.timestamp() * 1000)})
        rsps.post(f"{BASE}/api/v1/order", status=503, body="")
        client = _client(clock)
        with pytest.raises(AmbiguousOutcome):
            client.submit_order(request)
    state = client.breakers.state(EndpointGroup.ORDERS)
    assert state.state is BreakerStatus.CLOSED and state.consecutive_failures == 1


# ----------------------------------------------------------------------------- the soak shape


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    config = SimConfig(seed=5, balances={"TRY": Decimal("100000")}, request_log_size=20_000, rate_limits=False)
    with running_simulator(config) as handle:
        yield handle


def test_two_percent_of_requests_answered_503_put_no_cycle_in_safe_mode(sim: SimHandle) -> None:
    """The fault-soak shape: every call of a cycle may meet a bare 503 (here 2 %, seeded)."""
    clock = SimLinkedClock(sim)
    client = BtcTurkClient(
        base_url=sim.base_url, graph_url=sim.graph_url,
        credentials=Credentials(api_key=sim.api_key, api_secret=SecretStr(sim.api_secret)),
        clock=clock, resilience=ResilienceSettings(), timeout_s=10.0, rng=random.Random(7),
    )  # fmt: skip
    sim.admin.set_fault("*", kind="error", status=503, probability=0.02)
    cycles, degraded = 150, 0
    for _ in range(cycles):
        try:
            client.tickers()
            client.balances()
            client.open_orders()
        except ExchangeError:
            degraded += 1
        if any(s.state is not BreakerStatus.CLOSED for s in client.breakers.export()):
            degraded += 1
        sim.admin.advance(10)  # one cycle every 10 s of market time (cooldown 60 s = 6 cycles)
    injected = sum(1 for r in sim.state()["request_log"] if r["status"] == 503)
    assert injected >= 3, "the scenario must actually inject 503s"
    assert degraded == 0, f"{degraded} of {cycles} cycles degraded by {injected} bare 503s"
