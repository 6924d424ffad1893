"""The real client against the simulator's injected faults, over loopback HTTP.

Complements the contract suite with what only a live HTTP peer can show: lost answers after the
order was placed, hangs past the client timeout, 5xx/429/maintenance answers, bad credentials
and a client clock far from the venue's.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.contracts.clock import Clock
from btcbot.domain.breaker import BreakerStatus
from btcbot.domain.enums import EndpointGroup, OrderType, Side
from btcbot.domain.errors import AmbiguousOutcome, AuthError, CircuitOpen, MaintenanceError
from btcbot.domain.exchange_models import OrderRequest

if importlib.util.find_spec("btcbot.sim.testing") is None:  # pragma: no cover - until the sim lands
    pytest.skip("simulator not available yet", allow_module_level=True)

from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator

SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(SimConfig(seed=11, balances={"TRY": Decimal("100000"), "BTC": Decimal("1")})) as handle:
        yield handle


def client_for(sim: SimHandle, *, clock: Clock | None = None, secret: str | None = None, **kw: Any) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=sim.base_url,
        graph_url=sim.graph_url,
        credentials=Credentials(api_key=sim.api_key, api_secret=SecretStr(secret or sim.api_secret)),
        clock=clock or SimLinkedClock(sim),
        resilience=kw.pop("resilience", ResilienceSettings()),
        timeout_s=kw.pop("timeout_s", 5.0),
        rng=random.Random(5),
        allowed_symbols=SYMBOLS,
        **kw,
    )


def resting_buy(client: BtcTurkClient, cid: str) -> OrderRequest:
    bid = client.order_book("BTCTRY", limit=1).bids[0].price
    price = (bid * Decimal("0.9")).quantize(Decimal("10"))
    return OrderRequest("BTCTRY", Side.BUY, OrderType.LIMIT, cid, base_quantity=Decimal("0.0005"), price=price)


def test_ghost_submit_is_ambiguous_and_the_order_exists(sim: SimHandle) -> None:
    client = client_for(sim)
    request = resting_buy(client, "ghost-1")
    sim.admin.set_fault("POST /api/v1/order", kind="ghost", count=1)
    with pytest.raises(AmbiguousOutcome):
        client.submit_order(request)
    assert client.request_counts()["submit_order"] == 1  # never resent
    found = [o for o in client.open_orders("BTCTRY") if o.client_order_id == "ghost-1"]
    assert len(found) == 1  # resolved by lookup, as the order manager will do


def test_submit_hang_past_timeout_is_ambiguous(sim: SimHandle) -> None:
    client = client_for(sim, timeout_s=0.3)
    request = resting_buy(client, "hang-1")
    sim.admin.set_fault("POST /api/v1/order", kind="timeout", seconds=1.0, count=1)
    with pytest.raises(AmbiguousOutcome):
        client.submit_order(request)
    assert client.request_counts()["submit_order"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_submit_5xx_is_ambiguous(sim: SimHandle, status: int) -> None:
    client = client_for(sim)
    request = resting_buy(client, f"err-{status}")
    sim.admin.set_fault("POST /api/v1/order", kind="error", status=status, count=1)
    with pytest.raises(AmbiguousOutcome):
        client.submit_order(request)


def test_read_5xx_is_retried(sim: SimHandle) -> None:
    client = client_for(sim)
    sim.admin.set_fault("GET /api/v2/ticker", kind="error", status=502, count=1)
    assert client.tickers()
    assert client.request_counts()["tickers"] == 2


def test_429_waits_retry_after_on_the_injected_clock(sim: SimHandle) -> None:
    clock = SimLinkedClock(sim)
    client = client_for(sim, clock=clock)
    client.balances()
    sim.admin.set_fault("GET /api/v1/users/balances", kind="rate_limit", seconds=4, count=1)
    assert client.balances()
    assert 4 in clock.slept
    assert client.request_counts()["balances"] == 3


def test_maintenance_opens_orders_breaker(sim: SimHandle) -> None:
    client = client_for(sim)
    request = resting_buy(client, "maint-1")
    sim.admin.set_fault("POST /api/v1/order", kind="maintenance", message="ORDER_INSERT_BLOCKED", count=1)
    with pytest.raises(MaintenanceError):
        client.submit_order(request)
    assert client.breakers.state(EndpointGroup.ORDERS).state is BreakerStatus.OPEN
    sent = sum(client.request_counts().values())
    with pytest.raises(CircuitOpen):
        client.open_orders("BTCTRY")
    assert sum(client.request_counts().values()) == sent
    assert client.balances()  # the account group still works


def test_wrong_secret_is_auth_error(sim: SimHandle) -> None:
    client = client_for(sim, secret="d3JvbmctYnV0LXZhbGlkLWJhc2U2NA==")
    with pytest.raises(AuthError):
        client.balances()


def test_time_sync_corrects_a_client_clock_far_from_the_venue(sim: SimHandle) -> None:
    skewed = ManualClock(sim.clock.now() + timedelta(hours=1))
    client = client_for(sim, clock=skewed)
    assert client.balances()
    assert -3_600_500 <= client.time_offset_ms <= -3_599_500
