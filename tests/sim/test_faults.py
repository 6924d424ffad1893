"""Fault injection over HTTP: ghost orders, timeouts, 5xx, maintenance, 429, visibility, staleness."""

from __future__ import annotations

import pytest
import requests

from btcbot.sim.faults import FaultRegistry, FaultSpec
from btcbot.sim.testing import SimConfig, SimHandle, running_simulator

from .conftest import Api

BUY = {
    "quantity": "0.001",
    "price": "3800000",
    "orderMethod": "limit",
    "orderType": "buy",
    "pairSymbol": "BTCTRY",
}


def _open_client_ids(api: Api) -> set[str]:
    data = api.get("/api/v1/openOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    return {o["orderClientId"] for o in data["bids"] + data["asks"]}


def test_ghost_order_is_placed_but_the_response_is_dropped(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="ghost", count=1)
    with pytest.raises(requests.ConnectionError):
        api.post_order({**BUY, "newOrderClientId": "ghost-1"})
    assert "ghost-1" in _open_client_ids(api)
    # count=1: the next submit answers normally
    assert api.post_order({**BUY, "newOrderClientId": "ok-2"}).status_code == 200


def test_timeout_hangs_past_the_client_timeout_after_placing(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="timeout", seconds=2.0, count=1)
    with pytest.raises(requests.Timeout):
        api.post_order({**BUY, "newOrderClientId": "slow-1"}, timeout=0.3)
    assert "slow-1" in _open_client_ids(api)


def test_timeout_without_processing_places_nothing(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="timeout", seconds=1.0, count=1, process=False)
    with pytest.raises(requests.Timeout):
        api.post_order({**BUY, "newOrderClientId": "never"}, timeout=0.3)
    assert sim.engine.orders == {}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_for_the_next_n_calls(api: Api, sim: SimHandle, status: int) -> None:
    sim.admin.set_fault("GET /api/v2/ticker", kind="error", status=status, count=2)
    codes = [api.get("/api/v2/ticker").status_code for _ in range(3)]
    assert codes == [status, status, 200]


def test_maintenance_messages(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("/api/v1/order", kind="maintenance", message="ORDER_INSERT_BLOCKED", count=1)
    resp = api.post_order(BUY)
    assert resp.status_code == 400 and resp.json()["message"] == "ORDER_INSERT_BLOCKED"
    sim.admin.set_fault("*", kind="maintenance", count=1)
    down = api.get("/api/v2/server/exchangeinfo")
    assert down.status_code == 503 and down.json()["message"] == "SYSTEM_UNDER_MAINTENANCE"
    assert sim.engine.orders == {}


def test_forced_429_with_retry_after(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v1/openorders", kind="rate_limit", seconds=7, count=1)
    resp = api.get("/api/v1/openOrders", signed=True)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
    assert resp.json()["message"] == "TOO_MANY_REQUESTS"


def test_delayed_visibility_of_a_new_order(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("POST /api/v1/order", kind="visibility_delay", seconds=3, count=1)
    order_id = api.post_order({**BUY, "newOrderClientId": "late"}).json()["data"]["id"]
    assert "late" not in _open_client_ids(api)
    all_ids = {o["id"] for o in api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"]}
    assert order_id not in all_ids
    sim.admin.advance(3)
    assert "late" in _open_client_ids(api)


def test_stale_ticker_timestamp(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v2/ticker", kind="stale_ticker", seconds=30)
    (row,) = api.get("/api/v2/ticker", pairSymbol="BTCTRY").json()["data"]
    assert row["timestamp"] == sim.clock.now_ms() - 30_000


def test_clear_faults_and_state_shows_them(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v2/*", kind="error", status=502)
    assert sim.admin.faults()[0]["kind"] == "error"
    assert api.get("/api/v2/orderbook", pairSymbol="BTCTRY").status_code == 502
    sim.admin.clear_faults()
    assert api.get("/api/v2/orderbook", pairSymbol="BTCTRY").status_code == 200
    log = sim.admin.state()["request_log"]
    assert [e["status"] for e in log[-2:]] == [502, 200]


def test_probability_faults_are_seeded() -> None:
    def pattern(seed: int) -> list[bool]:
        registry = FaultRegistry(seed)
        registry.add("GET /api/v2/ticker", FaultSpec(kind="error", probability=0.5))
        return [bool(registry.fire("GET", "/api/v2/ticker")) for _ in range(40)]

    first = pattern(3)
    assert first == pattern(3)
    assert 5 < sum(first) < 35
    assert first != pattern(4)


def test_bad_fault_specs_are_refused(sim: SimHandle) -> None:
    with pytest.raises(RuntimeError):
        sim.admin.set_fault("*", kind="explode")
    with pytest.raises(RuntimeError):
        sim.admin.set_fault("*", kind="error", status=418)


def test_admin_balance_price_and_linked_clock() -> None:
    from decimal import Decimal

    from btcbot.sim.testing import SimLinkedClock

    with running_simulator(SimConfig(history_minutes=10)) as sim:
        sim.admin.set_balance("BTC", Decimal("0.5"))
        sim.admin.set_price("BTCTRY", Decimal("4000000"))
        state = sim.admin.state()
        assert state["balances"]["BTC"] == {"free": "0.5", "locked": "0"}
        assert state["prices"]["BTCTRY"] == "4000000"
        clock = SimLinkedClock(sim)
        before = clock.now()
        clock.sleep(60)
        assert (clock.now() - before).total_seconds() == 60
        assert sim.engine.now_ms == int(clock.now().timestamp() * 1000)


def test_latency_delays_the_answer_past_a_short_client_timeout(api: Api, sim: SimHandle) -> None:
    sim.admin.set_fault("GET /api/v2/server/time", kind="latency", seconds=0.5, count=1)
    with pytest.raises(requests.Timeout):
        api.session.get(sim.base_url + "/api/v2/server/time", timeout=0.1)
    assert api.get("/api/v2/server/time").status_code == 200
