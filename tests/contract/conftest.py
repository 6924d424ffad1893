"""Backends for the ExchangeClient contract suite.

"responses": the real BtcTurkClient against payloads built from the BTC Turk examples
(tests/contract/responses_venue.py). "sim": the real BtcTurkClient over loopback HTTP to the
simulator (btcbot.sim.testing). "paper": the PaperExchange (dry run) with its public market data
from the simulator through the credential-less BtcTurkClient, its account in memory. All hand the
tests the same small Backend surface; a test that cannot apply to a backend skips with the reason
(``Backend.skip_unless``).
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
from btcbot.contracts.exchange import ExchangeClient

from .responses_venue import FakeVenue

START_BALANCES = {"TRY": Decimal("100000"), "BTC": Decimal("1")}
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@dataclass
class Backend:
    """What a contract test may use: the client under test and a few venue controls."""

    name: str
    client: ExchangeClient
    clock: Clock
    advance: Callable[[float], None]
    set_balance: Callable[[str, Decimal], None]
    #: The venue clock as the client measures it (the live client's ``exchange_now``), if any.
    exchange_now: Callable[[], datetime | None] | None = None

    def skip_unless(self, condition: bool, reason: str) -> None:
        if not condition:
            pytest.skip(f"{self.name}: {reason}")


def _client(base_url: str, graph_url: str, key: str | None, secret: str | None, clock: Clock) -> BtcTurkClient:
    import random

    return BtcTurkClient(
        base_url=base_url,
        graph_url=graph_url,
        credentials=Credentials(api_key=key, api_secret=SecretStr(secret)) if key and secret else None,
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
        client = _client(base, graph, key, secret, clock)
        yield Backend("responses", client, clock, clock.advance, venue.set_balance, client.exchange_now)


def _sim_backend() -> Iterator[Backend]:
    if importlib.util.find_spec("btcbot.sim.testing") is None:
        pytest.skip("simulator not available yet")
    from btcbot.sim.testing import SimConfig, SimLinkedClock, running_simulator

    with running_simulator(SimConfig(seed=7, balances=dict(START_BALANCES), symbols=SYMBOLS)) as sim:
        # Market time, and sleeping (backoff, Retry-After) advances the simulator instead of the test.
        clock = SimLinkedClock(sim)

        def advance(seconds: float) -> None:
            sim.admin.advance(seconds)

        client = _client(sim.base_url, sim.graph_url, sim.api_key, sim.api_secret, clock)
        yield Backend("sim", client, clock, advance, sim.admin.set_balance, client.exchange_now)


def _paper_backend() -> Iterator[Backend]:
    from btcbot.adapters.paper import MemoryPaperStateStore, PaperExchange, paper_fee_schedule
    from btcbot.sim.testing import SimConfig, SimLinkedClock, running_simulator

    with running_simulator(SimConfig(seed=7, symbols=SYMBOLS)) as sim:
        clock = SimLinkedClock(sim)
        market = _client(sim.base_url, sim.graph_url, None, None, clock)  # public endpoints only
        fees = paper_fee_schedule(Decimal("10"), Decimal("20"), Decimal("0.2"))
        paper = PaperExchange(market, MemoryPaperStateStore(), clock, fees, "TRY", START_BALANCES["TRY"],
                              sync_interval_s=0.0, allowed_symbols=SYMBOLS)

        def set_balance(asset: str, amount: Decimal) -> None:
            paper.state.accounts.set_free(asset, amount)

        for asset, amount in START_BALANCES.items():
            set_balance(asset, amount)
        def advance(seconds: float) -> None:
            sim.admin.advance(seconds)

        yield Backend("paper", paper, clock, advance, set_balance)


_BACKENDS = {"responses": _responses_backend, "sim": _sim_backend, "paper": _paper_backend}


@pytest.fixture(params=list(_BACKENDS))
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield from _BACKENDS[request.param]()
