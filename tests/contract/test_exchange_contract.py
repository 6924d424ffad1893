"""One contract for every ExchangeClient backend (see conftest: "responses", "sim" and "paper").

Each test states behaviour the trading cycle relies on; none depends on a backend's prices.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from btcbot.contracts.exchange import ExchangeClient
from btcbot.domain.enums import OrderType, Side, VenueOrderStatus
from btcbot.domain.errors import ConfigError, ExchangeRejected, OrderNotFound
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.market import SymbolRules
from btcbot.domain.venue import build_order_request

from .conftest import SYMBOLS, Backend

MARGIN = Decimal("0.05")
SYMBOL = "BTCTRY"


def _rules(client: ExchangeClient, symbol: str = SYMBOL) -> SymbolRules:
    return next(r for r in client.exchange_info() if r.symbol == symbol)


def _resting_buy(backend: Backend, cid: str) -> OrderRequest:
    """A limit BUY well below the market (never fills), sized a little above the minimum."""
    client = backend.client
    rules = _rules(client)
    book = client.order_book(SYMBOL, limit=5)
    price = book.bids[0].price * Decimal("0.92")
    qty = rules.min_exchange_value * 2 / price
    request = build_order_request(
        rules, side=Side.BUY, order_type=OrderType.LIMIT, base_quantity=qty, price=price,
        client_order_id=ClientOrderId(cid), margin=MARGIN,
    )  # fmt: skip
    assert isinstance(request, OrderRequest), request
    return request


def test_server_time_is_aware_and_near_backend_clock(backend: Backend) -> None:
    server = backend.client.server_time()
    assert server.tzinfo is not None
    assert abs((server - backend.clock.now()).total_seconds()) < 5


def test_exchange_now_follows_the_venue_clock(backend: Backend) -> None:
    """Freshness and stamps are judged on this clock (synced from server time, then monotonic)."""
    backend.skip_unless(backend.exchange_now is not None,
                        "no venue-clock measurement of its own (the wiring reads the market client's)")
    assert backend.exchange_now is not None
    first = backend.exchange_now()
    assert first is not None and first.tzinfo is not None
    assert abs((first - backend.clock.now()).total_seconds()) < 5
    backend.advance(30)
    later = backend.exchange_now()
    assert later is not None and 25 <= (later - first).total_seconds() <= 35


def test_exchange_info_lists_the_universe_with_rules(backend: Backend) -> None:
    rules = {r.symbol: r for r in backend.client.exchange_info()}
    for symbol in SYMBOLS:
        r = rules[symbol]
        assert r.tradable and r.quote == "TRY" and f"{r.base}{r.quote}" == symbol
        assert isinstance(r.min_exchange_value, Decimal) and r.min_exchange_value > 0
        assert r.numerator_scale >= 0 and r.denominator_scale >= 0


def test_tickers_all_pairs_in_one_request(backend: Backend) -> None:
    before = backend.client.request_counts().get("tickers", 0)
    tickers = {t.symbol: t for t in backend.client.tickers()}
    assert backend.client.request_counts()["tickers"] == before + 1
    for symbol in SYMBOLS:
        t = tickers[symbol]
        assert isinstance(t.bid, Decimal) and 0 < t.bid <= t.ask
        assert t.timestamp.tzinfo is not None


def test_tickers_for_symbols_are_those_of_all_pairs(backend: Backend) -> None:
    every = {t.symbol: t for t in backend.client.tickers()}
    wanted = SYMBOLS[:2]
    some = backend.client.tickers(wanted)
    assert sorted(t.symbol for t in some) == sorted(wanted)
    assert set(wanted) <= set(every) and all(0 < t.bid <= t.ask for t in some)
    assert backend.client.tickers(()) == []


def test_order_book_sorted_best_first_and_limited(backend: Backend) -> None:
    book = backend.client.order_book(SYMBOL, limit=5)
    assert book.symbol == SYMBOL and 0 < len(book.bids) <= 5 and 0 < len(book.asks) <= 5
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
    assert book.bids[0].price < book.asks[0].price


def test_candles_in_range_oldest_first_aligned(backend: Backend) -> None:
    end = backend.clock.now()
    start = end - timedelta(hours=6)
    candles = backend.client.candles(SYMBOL, 3600, start, end)
    assert candles, "six hours of hourly bars expected"
    times = [c.open_time for c in candles]
    assert times == sorted(times) and len(set(times)) == len(times)
    for c in candles:
        assert start <= c.open_time <= end and c.interval_s == 3600
        assert int(c.open_time.timestamp()) % 3600 == 0
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high


def test_balances_decimal_and_consistent(backend: Backend) -> None:
    balances = {b.asset: b for b in backend.client.balances()}
    try_ = balances["TRY"]
    assert try_.free == Decimal("100000") and try_.total == try_.free + try_.locked
    assert balances["BTC"].free == Decimal("1")


def test_resting_limit_order_lifecycle(backend: Backend) -> None:
    client = backend.client
    request = _resting_buy(backend, "contract-rest-1")
    ack = client.submit_order(request)
    assert ack.client_order_id == request.client_order_id and ack.exchange_order_id > 0

    open_ = {o.exchange_order_id: o for o in client.open_orders(SYMBOL)}
    mine = open_[ack.exchange_order_id]
    assert mine.client_order_id == request.client_order_id and mine.side is Side.BUY
    assert mine.status is VenueOrderStatus.UNTOUCHED and mine.amount == request.base_quantity
    assert mine.price == request.price
    assert ack.exchange_order_id in {o.exchange_order_id for o in client.open_orders()}

    single = client.get_order(ack.exchange_order_id)
    assert single is not None and single.status.is_open and single.left_amount == request.base_quantity
    history = client.all_orders(SYMBOL, start=backend.clock.now() - timedelta(hours=1))
    assert ack.exchange_order_id in {o.exchange_order_id for o in history}
    locked = {b.asset: b for b in client.balances()}["TRY"].locked
    assert locked > 0

    cancel = client.cancel_order(ack.exchange_order_id)
    assert cancel.exchange_order_id == ack.exchange_order_id
    backend.advance(5)  # cancel is asynchronous on BTC Turk
    done = client.get_order(ack.exchange_order_id)
    assert done is not None and done.status is VenueOrderStatus.CANCELED
    assert ack.exchange_order_id not in {o.exchange_order_id for o in client.open_orders(SYMBOL)}
    assert client.trades_for_order(ack.exchange_order_id) == []


def test_market_buy_by_quote_amount_fills(backend: Backend) -> None:
    client = backend.client
    rules = _rules(client)
    ask = client.order_book(SYMBOL, limit=1).asks[0].price
    request = build_order_request(
        rules, side=Side.BUY, order_type=OrderType.MARKET, base_quantity=Decimal("500") / ask, price=ask,
        client_order_id=ClientOrderId("contract-mkt-1"), margin=MARGIN,
    )  # fmt: skip
    assert isinstance(request, OrderRequest) and request.quote_amount is not None
    started = backend.clock.now()
    ack = client.submit_order(request)
    backend.advance(2)
    fills = client.trades_for_order(ack.exchange_order_id)
    assert fills, "a market buy on a liquid book fills"
    assert all(f.order_id == ack.exchange_order_id and f.side is Side.BUY and f.symbol == SYMBOL for f in fills)
    assert all(f.fee_asset == "TRY" and f.fee >= 0 and f.tax >= 0 for f in fills)
    spent = sum((f.quote_value for f in fills), Decimal(0))
    assert 0 < spent <= request.quote_amount
    bought = sum((f.quantity for f in fills), Decimal(0))
    assert {b.asset: b for b in client.balances()}["BTC"].free == Decimal("1") + bought
    window = client.trades(SYMBOL, started - timedelta(minutes=1), backend.clock.now() + timedelta(minutes=1))
    assert {f.trade_id for f in fills} <= {f.trade_id for f in window}


def test_below_minimum_notional_is_rejected_definitively(backend: Backend) -> None:
    rules = _rules(backend.client)
    ask = backend.client.order_book(SYMBOL, limit=1).asks[0].price
    tiny = OrderRequest(Symbol(SYMBOL), Side.BUY, OrderType.MARKET, ClientOrderId("contract-min-1"),
                        quote_amount=(rules.min_exchange_value / 2).quantize(Decimal("0.01")))  # fmt: skip
    with pytest.raises(ExchangeRejected) as info:
        backend.client.submit_order(tiny)
    assert info.value.error_name == "FAILED_MIN_TOTAL_AMOUNT"
    assert ask > 0


def test_insufficient_balance_is_rejected(backend: Backend) -> None:
    backend.set_balance("TRY", Decimal("150"))
    request = _resting_buy(backend, "contract-bal-1")
    with pytest.raises(ExchangeRejected) as info:
        backend.client.submit_order(request)
    assert info.value.error_name in ("BALANCE_NOT_ENOUGH", "FAILED_ORDER_WITH_OPEN_ORDERS")


def test_unknown_order_ids(backend: Backend) -> None:
    assert backend.client.get_order(ExchangeOrderId(123456789)) is None
    with pytest.raises(OrderNotFound):
        backend.client.cancel_order(ExchangeOrderId(123456789))


def test_orders_outside_universe_refused_locally(backend: Backend) -> None:
    before = sum(backend.client.request_counts().values())
    request = OrderRequest(Symbol("BTCUSDT"), Side.BUY, OrderType.MARKET, ClientOrderId("contract-x"), quote_amount=Decimal("100"))
    with pytest.raises(ConfigError):
        backend.client.submit_order(request)
    assert sum(backend.client.request_counts().values()) == before
