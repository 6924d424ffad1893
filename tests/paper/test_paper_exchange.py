"""PaperExchange against the simulator's PUBLIC routes over real HTTP.

The simulator plays "BTC Turk's public API" (its book, tickers and candles); the paper account
is simulated locally. Checked: fills happen only where the live book allows (market orders walk
it, limit orders rest until the market crosses them, thin books give partial fills), fee and
tax on the fee are exact and land in the ledger, the account survives a restart, and not a
single private endpoint is ever requested.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.paper import MemoryPaperStateStore, MetaPaperStateStore, PaperExchange
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.domain.enums import OrderType, Side, VenueOrderStatus
from btcbot.domain.errors import ExchangeRejected, OrderNotFound
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.ledger import Account, genesis_postings, postings_for_fill
from btcbot.domain.market import OrderBook
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.sim.engine.settlement import FeeSchedule
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator

FEES = FeeSchedule(maker_rate=Decimal("0.0010"), taker_rate=Decimal("0.0020"), tax_rate=Decimal("0.20"))
START = Decimal("100000")
Q10 = Decimal("1E-10")


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    # The simulator's own account is irrelevant here: the paper account lives in the test.
    with running_simulator(SimConfig(seed=3, history_minutes=30)) as handle:
        yield handle


def market_client(sim: SimHandle) -> BtcTurkClient:
    """The production client WITHOUT credentials, pointed at the simulator."""
    return BtcTurkClient(
        base_url=sim.base_url, graph_url=sim.graph_url, credentials=None, clock=SimLinkedClock(sim),
        resilience=ResilienceSettings(), timeout_s=10.0,
    )


def paper(sim: SimHandle, store: MemoryPaperStateStore | MetaPaperStateStore | None = None) -> PaperExchange:
    return PaperExchange(market_client(sim), store or MemoryPaperStateStore(), SimLinkedClock(sim), FEES, "TRY", START)


def fee_tax(notional: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    fee = (notional * rate).quantize(Q10)
    return fee, (fee * Decimal("0.20")).quantize(Q10)


def private_requests(sim: SimHandle) -> list[str]:
    log = sim.state()["request_log"]
    return [e["path"] for e in log if e["path"].startswith("/api/v1/") or "users" in e["path"]]


def expected_market_buy(book: OrderBook, quote: Decimal, scale: int) -> list[tuple[Decimal, Decimal]]:
    """Walk the asks by hand: (price, base amount) per level within the 5 % band."""
    out = []
    best = book.asks[0].price
    remaining = quote
    for level in book.asks:
        if level.price > best * Decimal("1.05"):
            break
        amount = min(level.quantity, (remaining / level.price).quantize(Decimal(1).scaleb(-scale), ROUND_DOWN))
        if amount <= 0:
            break
        out.append((level.price, amount))
        remaining -= amount * level.price
    return out


def test_market_buy_walks_the_live_book_with_taker_fee_and_tax(sim: SimHandle) -> None:
    ex = paper(sim)
    book = ex.order_book("BTCTRY", 50)
    quote = Decimal("60000.00")  # larger than one level: must walk several
    expected = expected_market_buy(book, quote, 8)
    assert len(expected) > 1
    ack = ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-1"), quote_amount=quote))
    fills = sorted(ex.trades_for_order(ack.exchange_order_id), key=lambda f: f.trade_id)
    assert [(f.price, f.quantity) for f in fills] == expected
    spent = Decimal(0)
    for f in fills:
        fee, tax = fee_tax(f.quantity * f.price, FEES.taker_rate)
        assert (f.fee, f.tax, f.fee_asset) == (fee, tax, "TRY")
        spent += f.quantity * f.price + fee + tax
    balances = {b.asset: b for b in ex.balances()}
    assert balances["TRY"].free == START - spent and balances["TRY"].locked == 0
    assert balances["BTC"].total == sum((q for _, q in expected), Decimal(0))
    row = ex.get_order(ack.exchange_order_id)
    assert row is not None and row.status is VenueOrderStatus.CLOSED
    assert private_requests(sim) == []


def test_limit_buy_rests_until_the_market_trades_through_it(sim: SimHandle) -> None:
    ex = paper(sim)
    best_ask = ex.order_book("BTCTRY", 50).asks[0].price
    limit = (best_ask * Decimal("0.98")).quantize(Decimal(1))
    ack = ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("bb-t-2"),
                                       base_quantity=Decimal("0.01"), price=limit))
    sim.admin.advance(2)
    [row] = ex.open_orders("BTCTRY")
    assert row.status is VenueOrderStatus.UNTOUCHED and ex.trades_for_order(ack.exchange_order_id) == []
    locked = {b.asset: b for b in ex.balances()}["TRY"].locked
    assert locked > limit * Decimal("0.01")  # notional + the worst-case fee reserve
    # The market falls through the limit: the next read fills it at the limit, as a maker.
    sim.admin.set_price("BTCTRY", limit * Decimal("0.99"))
    sim.admin.advance(2)
    assert ex.open_orders("BTCTRY") == []
    [fill] = ex.trades_for_order(ack.exchange_order_id)
    assert fill.price == limit and fill.quantity == Decimal("0.01")
    assert (fill.fee, fill.tax) == fee_tax(limit * Decimal("0.01"), FEES.maker_rate)
    balances = {b.asset: b for b in ex.balances()}
    assert balances["TRY"].locked == 0
    assert balances["TRY"].free == START - limit * Decimal("0.01") - fill.fee - fill.tax
    assert private_requests(sim) == []


def test_thin_book_gives_a_partial_fill(sim: SimHandle) -> None:
    ex = paper(sim)
    book = ex.order_book("ETHTRY", 50)
    limit = book.asks[1].price  # crosses two levels only
    crossing = book.asks[0].quantity + book.asks[1].quantity
    qty = (crossing * Decimal("1.2")).quantize(Decimal("0.0001"))
    ack = ex.submit_order(OrderRequest(Symbol("ETHTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("bb-t-3"), base_quantity=qty, price=limit))
    fills = ex.trades_for_order(ack.exchange_order_id)
    assert sum((f.quantity for f in fills), Decimal(0)) == crossing
    assert all(f.price <= limit for f in fills)
    [row] = ex.open_orders()
    assert row.status is VenueOrderStatus.PARTIAL and row.left_amount == qty - crossing
    ex.cancel_order(ack.exchange_order_id)
    assert ex.open_orders() == []
    assert {b.asset: b for b in ex.balances()}["TRY"].locked == 0


def test_refusals_use_btcturk_names(sim: SimHandle) -> None:
    ex = paper(sim)
    with pytest.raises(ExchangeRejected) as too_big:
        ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-4"), quote_amount=Decimal("200000")))
    assert too_big.value.error_name == "BALANCE_NOT_ENOUGH"
    with pytest.raises(ExchangeRejected) as tiny:
        ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-5"), quote_amount=Decimal("50")))
    assert tiny.value.error_name == "FAILED_MIN_TOTAL_AMOUNT"
    with pytest.raises(ExchangeRejected) as no_coins:
        ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.SELL, OrderType.MARKET, ClientOrderId("bb-t-6"), base_quantity=Decimal("1")))
    assert no_coins.value.error_name == "BALANCE_NOT_ENOUGH"
    with pytest.raises(OrderNotFound):
        ex.cancel_order(123)
    assert ex.get_order(123) is None
    assert {b.asset: b.total for b in ex.balances()} == {"TRY": START}


def test_fees_and_taxes_land_in_the_ledger(sim: SimHandle) -> None:
    ex = paper(sim)
    ack = ex.submit_order(OrderRequest(Symbol("XRPTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-7"), quote_amount=Decimal("5000")))
    fills = ex.trades_for_order(ack.exchange_order_id)
    store = FakeStore()
    with FakeUnitOfWork(store) as uow:
        uow.ledger.post(genesis_postings("TRY", START, "paper starting balance"), at=fills[0].timestamp, cycle_id=0)
        for fill in fills:
            uow.ledger.post(postings_for_fill(fill, "XRP", "TRY"), at=fill.timestamp, cycle_id=1)
        uow.commit()
    with FakeUnitOfWork(store) as uow:
        assert uow.ledger.balance(Account.FEES, "TRY") == sum((f.fee for f in fills), Decimal(0))
        assert uow.ledger.balance(Account.TAXES, "TRY") == sum((f.tax for f in fills), Decimal(0))
        exchange = {b.asset: b.total for b in ex.balances()}
        assert uow.ledger.balance(Account.WALLET, "XRP") == exchange["XRP"]
        assert uow.ledger.balance(Account.WALLET, "TRY") == exchange["TRY"]  # ledger == paper balances


def test_state_survives_a_restart_in_the_database(sim: SimHandle, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'paper.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    try:
        first = paper(sim, MetaPaperStateStore(lambda: SqlUnitOfWork(engine)))
        ack = first.submit_order(OrderRequest(Symbol("SOLTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-8"), quote_amount=Decimal("3000")))
        best_bid = first.order_book("SOLTRY", 5).bids[0].price
        resting = first.submit_order(OrderRequest(Symbol("SOLTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("bb-t-9"),
                                                  base_quantity=Decimal("0.5"), price=(best_bid * Decimal("0.9")).quantize(Decimal("0.1"))))
        before = (first.balances(), first.open_orders(), first.trades_for_order(ack.exchange_order_id))
        second = paper(sim, MetaPaperStateStore(lambda: SqlUnitOfWork(engine)))  # a new process: nothing in memory
        after = (second.balances(), second.open_orders(), second.trades_for_order(ack.exchange_order_id))
        assert after == before
        assert [o.exchange_order_id for o in after[1]] == [resting.exchange_order_id]
        nxt = second.submit_order(OrderRequest(Symbol("SOLTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-10"), quote_amount=Decimal("3000")))
        assert nxt.exchange_order_id == resting.exchange_order_id + 1
    finally:
        engine.dispose()


def test_no_private_endpoint_even_on_the_wire_level(sim: SimHandle) -> None:
    ex = paper(sim)
    ex.tickers()
    ex.exchange_info()
    ex.server_time()
    ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-11"), quote_amount=Decimal("1000")))
    ex.balances()
    ex.open_orders()
    ex.all_orders("BTCTRY")
    log = sim.state()["request_log"]
    routes = {e["route"] for e in log}
    assert routes and all(not r.startswith("/api/v1/") for r in routes), routes
    counts = ex.request_counts()
    assert counts.get("order_book", 0) >= 1 and counts.get("balances", 0) == 0
    assert not [name for name in counts if name in ("submit_order", "open_orders", "all_orders")]
    assert ex.paper_calls()["submit_order"] == 1


def test_finished_orders_are_pruned_after_the_retention(sim: SimHandle) -> None:
    store = MemoryPaperStateStore()
    ex = PaperExchange(market_client(sim), store, SimLinkedClock(sim), FEES, "TRY", START, keep_days=1)
    done = ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-12"), quote_amount=Decimal("1000")))
    bid = ex.order_book("BTCTRY", 5).bids[0].price
    resting = ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("bb-t-13"),
                                           base_quantity=Decimal("0.001"), price=(bid * Decimal("0.8")).quantize(Decimal(1))))
    sim.admin.advance(2 * 86_400)
    ex.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("bb-t-14"), quote_amount=Decimal("1000")))
    assert ex.get_order(done.exchange_order_id) is None and ex.trades_for_order(done.exchange_order_id) == []
    assert ex.get_order(resting.exchange_order_id) is not None  # open orders are never forgotten
