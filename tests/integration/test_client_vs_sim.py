"""Acceptance: the real BtcTurkClient against the BTC Turk simulator over loopback HTTP.

The client's clock is ``SimLinkedClock``: it reads market time, and when the client sleeps
(backoff, Retry-After, rate-limit waits) the simulator's manual clock advances instead, so nothing
sleeps for real. Server-side facts (what was sent, how many requests arrived) are read from the
simulator, not from the client, so these tests check the wire, not the client's own bookkeeping.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.contracts.clock import Clock
from btcbot.domain.enums import OrderType, Side, VenueOrderStatus
from btcbot.domain.errors import AmbiguousOutcome, AuthError, CircuitOpen, TransientError
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock

OTHER_SECRET = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci0wMQ=="


@pytest.fixture
def sim_config() -> SimConfig:
    """The shared ``sim`` fixture with a manual market clock, funded, 10 hours of history."""
    return SimConfig(balances={"TRY": Decimal("1000000"), "BTC": Decimal("1")}, history_minutes=600)


def make_client(
    sim: SimHandle, clock: Clock | None = None, secret: str | None = None, timeout_s: float = 5.0
) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=sim.base_url,
        graph_url=sim.graph_url,
        credentials=Credentials(api_key=sim.api_key, api_secret=SecretStr(secret or sim.api_secret)),
        clock=clock or SimLinkedClock(sim),
        resilience=ResilienceSettings(),
        timeout_s=timeout_s,
    )


def limit_buy(client_id: str, price: str = "3800000", qty: str = "0.001") -> OrderRequest:
    return OrderRequest(
        symbol=Symbol("BTCTRY"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        client_order_id=ClientOrderId(client_id),
        base_quantity=Decimal(qty),
        price=Decimal(price),
    )


def requests_to(sim: SimHandle, route: str) -> list[dict[str, object]]:
    return [e for e in sim.state()["request_log"] if e["route"] == route]


def test_every_route_parses(sim: SimHandle) -> None:
    client = make_client(sim)
    assert client.server_time() == sim.clock.now()
    rules = {r.symbol for r in client.exchange_info()}
    assert {"BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY", "BTCUSDT"} <= rules
    assert len(client.tickers()) >= 5
    book = client.order_book("BTCTRY", limit=5)
    assert book.bids[0].price < book.asks[0].price
    now = sim.clock.now()
    candles = client.candles("BTCTRY", 3600, now - timedelta(hours=6), now)
    assert 5 <= len(candles) <= 7
    balances = {b.asset: b for b in client.balances()}
    assert balances["TRY"].free == Decimal("1000000")


def test_market_buy_sends_the_quote_amount(sim: SimHandle) -> None:
    client = make_client(sim)
    request = OrderRequest(
        symbol=Symbol("BTCTRY"), side=Side.BUY, order_type=OrderType.MARKET, client_order_id=ClientOrderId("mb-1"),
        quote_amount=Decimal("1000"),
    )  # fmt: skip
    ack = client.submit_order(request)
    venue = sim.engine.orders[ack.exchange_order_id]
    assert (venue.method, venue.side, venue.quantity) == ("market", "buy", Decimal("1000"))
    fills = client.trades_for_order(ack.exchange_order_id)
    spent = sum((f.price * f.quantity for f in fills), Decimal(0))
    assert Decimal("990") < spent <= Decimal("1000")
    assert all(f.fee > 0 and f.tax > 0 and f.fee_asset == "TRY" for f in fills)


def test_client_order_id_round_trips(sim: SimHandle) -> None:
    client = make_client(sim)
    ack = client.submit_order(limit_buy("cid-round-trip"))
    assert ack.client_order_id == "cid-round-trip"
    assert ack.exchange_order_id > 2**53  # int64 ids survive parsing
    assert sim.engine.orders[ack.exchange_order_id].client_id == "cid-round-trip"  # sent as newOrderClientId
    (row,) = client.open_orders("BTCTRY")
    assert row.client_order_id == "cid-round-trip" and row.exchange_order_id == ack.exchange_order_id


def test_ghost_submit_is_ambiguous_and_found_by_client_id(sim: SimHandle) -> None:
    client = make_client(sim)
    sim.admin.set_fault("POST /api/v1/order", kind="ghost", count=1)
    with pytest.raises(AmbiguousOutcome):
        client.submit_order(limit_buy("ghost-1"))
    assert [o.client_order_id for o in client.open_orders("BTCTRY")] == ["ghost-1"]
    assert "ghost-1" in {o.client_order_id for o in client.all_orders("BTCTRY")}
    assert len(requests_to(sim, "/api/v1/order")) == 1  # never re-sent


def test_timed_out_submit_is_ambiguous_and_found_later(sim: SimHandle) -> None:
    client = make_client(sim, timeout_s=0.3)
    sim.admin.set_fault("POST /api/v1/order", kind="timeout", seconds=2.0, count=1)
    sim.admin.set_fault("POST /api/v1/order", kind="visibility_delay", seconds=2.0, count=1)
    with pytest.raises(AmbiguousOutcome):
        client.submit_order(limit_buy("slow-1"))
    assert client.open_orders("BTCTRY") == []  # not visible yet
    sim.admin.advance(2)
    found = [o for o in client.all_orders("BTCTRY") if o.client_order_id == "slow-1"]
    assert len(found) == 1 and found[0].status is VenueOrderStatus.UNTOUCHED


def test_429_waits_retry_after_on_the_clock(sim: SimHandle) -> None:
    clock = SimLinkedClock(sim)
    client = make_client(sim, clock=clock)
    client.balances()  # time sync + first call
    before = sim.clock.now()
    sim.admin.set_fault("GET /api/v1/users/balances", kind="rate_limit", seconds=7, count=1)
    balances = client.balances()
    assert balances
    assert any(s >= 7 for s in clock.slept)
    assert sim.clock.now() - before >= timedelta(seconds=7)
    statuses = [e["status"] for e in requests_to(sim, "/api/v1/users/balances")]
    assert statuses[-2:] == [429, 200]


def test_5xx_reads_retry_then_open_the_breaker(sim: SimHandle) -> None:
    client = make_client(sim)
    sim.admin.set_fault("GET /api/v2/ticker", kind="error", status=502)
    with pytest.raises(TransientError):
        client.tickers()
    assert len(requests_to(sim, "/api/v2/ticker")) == ResilienceSettings().retry_max_attempts
    with pytest.raises((TransientError, CircuitOpen)):
        client.tickers()
    sent = len(requests_to(sim, "/api/v2/ticker"))
    with pytest.raises(CircuitOpen):
        client.tickers()
    assert len(requests_to(sim, "/api/v2/ticker")) == sent  # open breaker: nothing sent


def test_bad_signature_is_auth_error(sim: SimHandle) -> None:
    client = make_client(sim, secret=OTHER_SECRET)
    with pytest.raises(AuthError):
        client.balances()
    log = requests_to(sim, "/api/v1/users/balances")
    assert [e["status"] for e in log] == [401]


def test_stale_stamp_resyncs_and_retries_once(sim: SimHandle) -> None:
    clock = ManualClock(sim.clock.now())  # the client's own clock, not linked
    client = make_client(sim, clock=clock)
    client.balances()
    sim.admin.advance(10)  # market time moves, the client's clock does not: its stamps are 10 s old
    client.balances()  # 401 Invalid Nonce -> new server-time measurement -> the one retry is fresh
    statuses = [e["status"] for e in requests_to(sim, "/api/v1/users/balances")]
    assert statuses == [200, 401, 200]


def test_cancel_is_only_requested_until_the_order_shows_canceled(sim: SimHandle) -> None:
    client = make_client(sim)
    ack = client.submit_order(limit_buy("to-cancel"))
    cancel = client.cancel_order(ack.exchange_order_id)
    assert cancel.exchange_order_id == ack.exchange_order_id
    order = client.get_order(ack.exchange_order_id)
    assert order is not None and order.status is VenueOrderStatus.UNTOUCHED
    sim.admin.advance(1)
    order = client.get_order(ack.exchange_order_id)
    assert order is not None and order.status is VenueOrderStatus.CANCELED
    assert client.get_order(12345) is None
