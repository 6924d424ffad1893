"""Issue 11, in-process trading cycles against the simulator over HTTP:

- the scenario of the issue: BTC Turk carries out a BUY but the bot reads the answer as a
  rejection (the order is REJECTED locally) while another order of the same cycle is still being
  looked up. The next cycles must not buy that symbol again: the reconciler finds the order,
  takes the exchange's state and books its fills once. End: one order on the exchange for the
  symbol, no cap exceeded, books equal to the exchange;
- the shortfall gate: money missing from the exchange with nothing to explain it blocks new risk
  in the very cycle that sees it (REDUCING follows if it persists), until `reconcile --apply
  --reason` records it;
- `reconcile --apply` never records a flow of a coin it cannot price (equity would move as if
  the coin were worth 0).

The bot's exchange client is the real one, wrapped so chosen submits are answered the way a
confused exchange would (the request still takes effect, or never leaves).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from btcbot.adapters.btcturk.client import build_btcturk_client
from btcbot.app import operations
from btcbot.app.admin import MarketDataMissing, reconcile
from btcbot.app.operations import OnceOutcome
from btcbot.app.wiring import App, breaker_settings
from btcbot.config.secrets import load_credentials
from btcbot.config.settings import Settings, load_settings
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.enums import Side
from btcbot.domain.errors import AmbiguousOutcome, ExchangeRejected
from btcbot.domain.exchange_models import OrderRequest, SubmitAck
from btcbot.domain.market import Ticker
from btcbot.persistence.migrations import upgrade
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle, SimLinkedClock, running_simulator
from cycle.harness import bot_settings, consistency_violations, read_book, sqlite_url

INTERVAL_S = 30.0
BTC_CAP = Decimal("600")  # one 400 TRY buy fits, a second does not


@dataclass
class ConfusedExchange:
    """The real client, except: a BUY of a ``misread`` symbol is carried out and answered as a
    definitive rejection (the first time); a BUY of a ``lost`` symbol never leaves and is answered
    as ambiguous (the order stays UNKNOWN until its grace period ends)."""

    inner: Any
    misread: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)
    unpriced: set[str] = field(default_factory=set)  # symbols left out of the ticker answer

    def tickers(self, symbols: Collection[str] | None = None) -> list[Ticker]:
        return [t for t in self.inner.tickers(symbols) if t.symbol not in self.unpriced]

    def submit_order(self, request: OrderRequest) -> SubmitAck:
        if request.side is Side.BUY and request.symbol in self.lost:
            self.lost.discard(request.symbol)
            raise AmbiguousOutcome("read timed out", endpoint="POST /api/v1/order")
        ack: SubmitAck = self.inner.submit_order(request)
        if request.side is Side.BUY and request.symbol in self.misread:
            self.misread.discard(request.symbol)
            raise ExchangeRejected("UNKNOWN_ERROR", code=0, endpoint="POST /api/v1/order")
        return ack

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Rig:
    sim: SimHandle
    app: App
    settings: Settings
    url: str
    clock: SimLinkedClock
    exchange: ConfusedExchange

    def cycle(self) -> OnceOutcome:
        outcome = operations._guarded_cycle(self.app)
        self.clock.sleep(INTERVAL_S)
        return outcome

    def orders_on_exchange(self, symbol: str) -> list[dict[str, Any]]:
        return [o for o in self.sim.state()["orders"] if o["symbol"] == symbol]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.app.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    url = sqlite_url(tmp_path / "bot.db")
    upgrade(url)
    with running_simulator(SimConfig(seed=11, rate_limits=False)) as sim:
        env = bot_settings(sim, url, BTCBOT_TRADING__UNKNOWN_GRACE_S="45",
                           BTCBOT_RISK__MAX_NOTIONAL_OVERRIDES=f'{{"BTCTRY": "{BTC_CAP}"}}')
        settings = load_settings(environ=env).settings
        clock = SimLinkedClock(sim)
        inner = build_btcturk_client(settings, load_credentials(settings, required=True), clock,
                                     breakers=BreakerBoard(breaker_settings(settings)))
        exchange = ConfusedExchange(inner)
        app = operations.start(settings, clock=clock, exchange=exchange, candle_store=MemoryCandleStore())
        try:
            yield Rig(sim, app, settings, url, clock, exchange)
        finally:
            app.close()


def test_a_buy_the_exchange_carried_out_but_the_bot_read_as_rejected_is_never_bought_twice(rig: Rig) -> None:
    rig.exchange.misread.add("BTCTRY")
    rig.exchange.lost.add("ETHTRY")  # in flight on TRY: once enough to hide the TRY shortfall
    rig.cycle()
    for _ in range(3):  # the ETH lookup runs out its grace period meanwhile
        rig.cycle()

    btc = rig.orders_on_exchange("BTCTRY")
    assert len(btc) == 1, btc  # never bought twice
    book = read_book(rig.url)
    cid = btc[0]["client_id"]
    assert book.orders[cid] == ("FILLED", btc[0]["id"])  # the exchange's state and id, adopted
    sim_trades = [t for t in rig.sim.state()["trades"] if t["order_id"] == btc[0]["id"]]
    assert sim_trades and all(book.fill_order_ids.get(int(t["id"])) == btc[0]["id"] for t in sim_trades)
    journal = rig.scalar("SELECT count(*) FROM order_events WHERE client_order_id = :c AND event = "
                         "'corrected_by_exchange'", c=cid)
    assert journal == 1
    held_btc = book.wallet["BTC"]
    last = next(t.last for t in rig.app.exchange.tickers() if t.symbol == "BTCTRY")
    assert held_btc * last <= BTC_CAP * Decimal("1.02")
    assert consistency_violations(rig.sim.state(), book) == []
    assert book.trading_state == "ACTIVE"


def test_an_unexplained_shortfall_blocks_new_risk_from_the_cycle_that_sees_it(rig: Rig) -> None:
    rig.exchange.lost.add("ETHTRY")
    rig.cycle()  # four buys; ETH stays UNKNOWN (nothing reached the exchange)
    assert rig.orders_on_exchange("ETHTRY") == []
    cash = read_book(rig.url).wallet["TRY"]
    rig.sim.admin.set_balance("TRY", cash - Decimal("5000"))  # money gone, nothing explains it
    rig.clock.sleep(60)  # the ETH lookup's grace period is over: the strategy wants ETH again

    first = rig.cycle()
    assert first.result is not None
    assert rig.orders_on_exchange("ETHTRY") == []  # no new risk in the cycle that saw the shortfall
    assert any("ETHTRY denied RISK_TRADING_REDUCING" in d for d in first.result.decisions), first.result.decisions
    second = rig.cycle()
    assert second.result is not None and second.result.trading_state.value == "REDUCING"  # it persisted
    assert rig.orders_on_exchange("ETHTRY") == []

    rig.app.lease.release()  # the operator's command takes the lease between two cycles
    plan = reconcile(rig.settings, apply=True, reason="owner withdrew 5000 TRY", clock=rig.clock,
                     exchange=rig.exchange, candle_store=MemoryCandleStore())
    rig.app.lease.acquire()
    assert plan.cleared_reducing
    rig.cycle()
    assert len(rig.orders_on_exchange("ETHTRY")) == 1  # explained: risk may be taken again
    assert consistency_violations(rig.sim.state(), read_book(rig.url)) == []


def test_reconcile_apply_refuses_to_record_a_withdrawal_of_a_coin_it_cannot_price(rig: Rig) -> None:
    rig.cycle()
    held = read_book(rig.url).wallet["BTC"]
    rig.sim.admin.set_balance("BTC", (held / 2).quantize(Decimal("0.00000001")))
    rig.exchange.unpriced.add("BTCTRY")
    rig.app.lease.release()
    with pytest.raises(MarketDataMissing, match="no price for BTC"):
        reconcile(rig.settings, apply=True, reason="withdrew BTC", clock=rig.clock, exchange=rig.exchange,
                  candle_store=MemoryCandleStore())
    assert rig.scalar("SELECT count(*) FROM ledger_entries WHERE account = 'external' AND asset = 'BTC'") == 0
    rig.exchange.unpriced.clear()
    plan = reconcile(rig.settings, apply=True, reason="withdrew BTC", clock=rig.clock, exchange=rig.exchange,
                     candle_store=MemoryCandleStore())
    assert plan.applied
    assert consistency_violations(rig.sim.state(), read_book(rig.url)) == []
