"""Database transactions per cycle (issue 14 item 6), counted with a SQLAlchemy ``begin`` listener
on the bot's engine: an idle cycle runs in at most two (the opening read + cycle row, and the
checkpoint); a cycle that trades needs more, and the count shows it. In-process cycles against
the simulator over HTTP (manual market clock).

Reading the books at the opening must not cost correctness: an operator's halt committed while
the cycle runs is never overwritten by the checkpoint's post-trade state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from btcbot.adapters.btcturk.client import build_btcturk_client
from btcbot.app import operations
from btcbot.app.operations import OnceOutcome
from btcbot.app.wiring import App, breaker_settings
from btcbot.config.secrets import load_credentials
from btcbot.config.settings import load_settings
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.enums import TradingState
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.persistence.lease import current_holder
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimLinkedClock, running_simulator
from cycle.harness import bot_settings, sqlite_url

IDLE_LIMIT = 2
LEASE_TTL_S = 30


@dataclass
class HookedExchange:
    """The real client; ``during_fetch`` runs once inside the cycle's open-orders request."""

    inner: Any
    during_fetch: list[Any] = field(default_factory=list)

    def open_orders(self) -> list[ExchangeOrder]:
        while self.during_fetch:
            self.during_fetch.pop()()
        rows: list[ExchangeOrder] = self.inner.open_orders()
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Rig:
    app: App
    clock: SimLinkedClock
    exchange: HookedExchange
    begins: list[int] = field(default_factory=lambda: [0])

    def cycle(self) -> tuple[OnceOutcome, int, Counter[str]]:
        """One cycle: its outcome, its database transactions and its exchange requests."""
        before = Counter(self.app.exchange.request_counts())
        self.begins[0] = 0
        outcome = operations._guarded_cycle(self.app)
        transactions = self.begins[0]
        requests = Counter(self.app.exchange.request_counts()) - before
        self.clock.sleep(10)
        return outcome, transactions, requests

    def set_state(self, state: TradingState, reason: str) -> None:
        with SqlUnitOfWork(self.app.engine) as uow:
            uow.trading_state.set(state, reason, self.clock.now())
            uow.commit()

    def lease_expiry(self) -> datetime:
        holder = current_holder(self.app.engine)
        assert holder is not None
        return holder.expires_at

    def state(self) -> tuple[TradingState, str]:
        with SqlUnitOfWork(self.app.engine) as uow:
            record = uow.trading_state.get()
        return record.state, record.reason


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(SimConfig(seed=5, rate_limits=False)) as sim:
        # Buys once, then idles; a 30 s lease is renewed every other 10 s cycle.
        env = bot_settings(sim, url, BTCBOT_DATABASE__LEASE_TTL_S=str(LEASE_TTL_S))
        settings = load_settings(environ=env).settings
        clock = SimLinkedClock(sim)
        inner = build_btcturk_client(settings, load_credentials(settings, required=True), clock,
                                     breakers=BreakerBoard(breaker_settings(settings)))
        exchange = HookedExchange(inner)
        app = operations.start(settings, clock=clock, exchange=exchange, candle_store=MemoryCandleStore())
        r = Rig(app, clock, exchange)

        def on_begin(_connection: object) -> None:
            r.begins[0] += 1

        event.listen(app.engine, "begin", on_begin)
        try:
            yield r
        finally:
            event.remove(app.engine, "begin", on_begin)
            app.close()


def _idle(requests: Counter[str]) -> bool:
    return not (requests["submit_order"] or requests["cancel_order"])


def test_an_idle_cycle_runs_in_at_most_two_transactions_and_a_trading_one_shows_more(rig: Rig) -> None:
    first, trading_transactions, requests = rig.cycle()  # buys (submit, fills booked)
    assert first.result is not None and requests["submit_order"] > 0
    assert trading_transactions > IDLE_LIMIT  # the listener counts: a cycle that writes shows it
    rig.clock.sleep(60)  # past the grace period: no late-fill lookups of the orders just filled
    counts = []
    for _ in range(4):
        outcome, transactions, requests = rig.cycle()
        assert outcome.result is not None and not outcome.safe_mode, outcome
        assert _idle(requests), requests
        counts.append(transactions)
    assert max(counts) <= IDLE_LIMIT, counts


def test_the_lease_renewal_rides_in_the_opening_transaction(rig: Rig) -> None:
    rig.cycle()
    rig.clock.sleep(60)
    expiries, counts = [], []
    for _ in range(6):  # 60 s of 10 s cycles: the 30 s lease is renewed about every other cycle
        _, transactions, requests = rig.cycle()
        assert _idle(requests), requests
        counts.append(transactions)
        expiries.append(rig.lease_expiry())
        assert expiries[-1] > rig.clock.now() - timedelta(seconds=10)  # never lapsed before this cycle ended
    assert len(set(expiries)) >= 3, expiries  # renewed repeatedly
    assert max(counts) <= IDLE_LIMIT, counts


def test_a_halt_committed_during_the_cycle_survives_its_checkpoint(rig: Rig) -> None:
    rig.cycle()
    rig.clock.sleep(60)
    rig.cycle()
    # A self-lifting REDUCING (a risk condition that has cleared): the checkpoint's post-trade
    # check would lift it to ACTIVE, had it decided on the state the cycle opened with.
    rig.set_state(TradingState.REDUCING, "daily loss limit reached")
    rig.exchange.during_fetch.append(lambda: rig.set_state(TradingState.HALTED, "manual: operator halt"))
    outcome, _, _ = rig.cycle()
    assert rig.state() == (TradingState.HALTED, "manual: operator halt")
    assert outcome.result is not None and outcome.result.trading_state is TradingState.HALTED


def test_without_the_halt_the_self_lifting_reducing_is_lifted(rig: Rig) -> None:
    """Control of the test above: the same cycle without the halt lifts REDUCING."""
    rig.cycle()
    rig.clock.sleep(60)
    rig.cycle()
    rig.set_state(TradingState.REDUCING, "daily loss limit reached")
    rig.cycle()
    assert rig.state()[0] is TradingState.ACTIVE
