"""Backends for the ExchangeClient contract suite.

"responses": the real BtcTurkClient against payloads built from the BTC Turk examples
(tests/contract/responses_venue.py). "sim": the real BtcTurkClient over loopback HTTP to the
simulator (btcbot.sim.testing). Both hand the tests the same small Backend surface.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.contracts.clock import Clock

from .responses_venue import FakeVenue

START_BALANCES = {"TRY": Decimal("100000"), "BTC": Decimal("1")}
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@dataclass
class Backend:
    """What a contract test may use: the client under test and a few venue controls."""

    name: str
    client: BtcTurkClient
    clock: Clock
    advance: Callable[[float], None]
    set_balance: Callable[[str, Decimal], None]


def _client(base_url: str, graph_url: str, key: str, secret: str, clock: Clock) -> BtcTurkClient:
    import random

    return BtcTurkClient(
        base_url=base_url,
        graph_url=graph_url,
        credentials=Credentials(api_key=key, api_secret=SecretStr(secret)),
        clock=clock,
        resilience=ResilienceSettings(),
        timeout_s=10.0,
        rng=random.Random(1),
        allowed_symbols=SYMBOLS,
    )


def _responses_backend() -> Iterator[Backend]:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    base, graph = "https://api.btcturk.test", "https://graph-api.btcturk.test"
    venue = FakeVenue(clock, base, graph, dict(START_BALANCES))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        venue.install(rsps)
        key, secret = "contract-key", "YnRjYm90LWNvbnRyYWN0LXNlY3JldA=="
        yield Backend("responses", _client(base, graph, key, secret, clock), clock, clock.advance, venue.set_balance)


def _sim_backend() -> Iterator[Backend]:
    if importlib.util.find_spec("btcbot.sim.testing") is None:
        pytest.skip("simulator not available yet")
    from btcbot.sim.testing import SimConfig, SimLinkedClock, running_simulator

    with running_simulator(SimConfig(seed=7, balances=dict(START_BALANCES), symbols=SYMBOLS)) as sim:
        # Market time, and sleeping (backoff, Retry-After) advances the simulator instead of the test.
        clock = SimLinkedClock(sim)

        def advance(seconds: float) -> None:
            sim.admin.advance(seconds)

        yield Backend(
            "sim",
            _client(sim.base_url, sim.graph_url, sim.api_key, sim.api_secret, clock),
            clock,
            advance,
            sim.admin.set_balance,
        )


@pytest.fixture(params=["responses", "sim"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    factory = _responses_backend if request.param == "responses" else _sim_backend
    yield from factory()
