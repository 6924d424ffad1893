"""BtcTurkClient over `responses`: routes, parameters, signing, error mapping, retries, breakers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient, build_btcturk_client
from btcbot.adapters.btcturk.signing import sign
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.config.settings import load_settings
from btcbot.contracts.exchange import ExchangeClient
from btcbot.domain.breaker import BreakerStatus
from btcbot.domain.enums import EndpointGroup, OrderType, Side
from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    CircuitOpen,
    ConfigError,
    ExchangeError,
    ExchangeRejected,
    MaintenanceError,
    OrderNotFound,
    RateLimited,
    StampRejected,
    TransientError,
)
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol

from .payloads import API_KEY, API_SECRET, body

BASE = "https://api.test"
GRAPH = "https://graph.test"
T0 = datetime(2025, 1, 3, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
CREDS = Credentials(api_key=API_KEY, api_secret=SecretStr(API_SECRET))
LIMIT_BUY = OrderRequest(
    Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("s1-c42-BTCTRY-B-1a2b3c"), base_quantity=Decimal("0.005"), price=Decimal("3612000")
)
MARKET_BUY = OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.MARKET, ClientOrderId("s1-c43-BTCTRY-B-x"), quote_amount=Decimal("150.25"))

Calls = list[tuple[str, str, str, int, float]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def observed() -> Calls:
    return []


def make(
    clock: ManualClock,
    observed: Calls | None = None,
    *,
    credentials: Credentials | None = CREDS,
    resilience: ResilienceSettings | None = None,
    allowed: tuple[str, ...] | None = None,
) -> BtcTurkClient:
    def observer(group: str, endpoint: str, status: str, attempt: int, latency_ms: float) -> None:
        if observed is not None:
            observed.append((group, endpoint, status, attempt, latency_ms))

    import random

    return BtcTurkClient(
        base_url=BASE + "/",
        graph_url=GRAPH,
        credentials=credentials,
        clock=clock,
        resilience=resilience or ResilienceSettings(),
        timeout_s=5.0,
        rng=random.Random(3),
        observer=observer,
        allowed_symbols=allowed,
    )


def server_time(rsps: responses.RequestsMock, server_ms: int = T0_MS + 1500) -> None:
    rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": server_ms, "serverTime2": "x"})


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


# ----------------------------------------------------------------------------- protocol


def test_satisfies_exchange_client_protocol(clock: ManualClock) -> None:
    client: ExchangeClient = make(clock)
    assert client.request_counts() == {}


# ----------------------------------------------------------------------------- public


def test_tickers_is_one_call_for_all_pairs(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
    client = make(clock)
    tickers = client.tickers()
    assert {t.symbol for t in tickers} == {"BTCTRY", "ETHTRY"}
    assert client.request_counts() == {"tickers": 1}
    assert "pairSymbol" not in query(rsps.calls[0])


def test_exchange_info_and_server_time(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/server/exchangeinfo", body=body("exchangeinfo_crafted.json"))
    server_time(rsps)
    client = make(clock)
    assert {r.symbol for r in client.exchange_info()} >= {"BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY"}
    assert client.server_time() == T0 + timedelta(milliseconds=1500)


def test_order_book_params(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/orderbook", body=body("rest_orderbook_response_docs.json"))
    book = make(clock).order_book("btc_try", limit=5000)
    assert book.symbol == "BTCTRY" and book.bids[0].price == Decimal("33245.00")
    assert query(rsps.calls[0]) == {"pairSymbol": ["BTCTRY"], "limit": ["1000"]}


def test_candles_use_graph_host_minutes_and_seconds(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{GRAPH}/v1/klines/history", body=body("klines_crafted.json"))
    start, end = datetime(2025, 1, 3, tzinfo=UTC), datetime(2025, 1, 3, 1, tzinfo=UTC)
    candles = make(clock).candles("BTCTRY", 3600, start, end)
    assert [c.open_time for c in candles] == [start, end]
    assert query(rsps.calls[0]) == {
        "symbol": ["BTCTRY"], "resolution": ["60"], "from": [str(int(start.timestamp()))], "to": [str(int(end.timestamp()))],
    }  # fmt: skip


def test_candles_no_data(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{GRAPH}/v1/klines/history", json={"s": "no_data"})
    assert make(clock).candles("BTCTRY", 60, T0, T0 + timedelta(hours=1)) == []


# ----------------------------------------------------------------------------- private


def test_private_call_is_signed_with_synced_stamp(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps, T0_MS + 1500)
    rsps.get(f"{BASE}/api/v1/users/balances", body=body("rest_account_balance_response_docs.json"))
    client = make(clock)
    balances = client.balances()
    assert balances[0].free == Decimal("22349.3654565035348765")
    headers = rsps.calls[1].request.headers
    stamp = int(headers["X-Stamp"])
    assert stamp == T0_MS + 1500  # clock + measured offset
    assert headers["X-PCK"] == API_KEY
    assert headers["X-Signature"] == sign(API_KEY, API_SECRET, stamp)
    assert "X-Signature" not in rsps.calls[0].request.headers  # public call unsigned
    assert client.request_counts() == {"server_time": 1, "balances": 1}


def test_stamps_strictly_increase_across_calls(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/users/balances", body=body("rest_account_balance_response_docs.json"))
    client = make(clock)
    client.balances()
    client.balances()
    stamps = [int(c.request.headers["X-Stamp"]) for c in rsps.calls if "X-Stamp" in c.request.headers]
    assert stamps[1] > stamps[0]


def test_private_call_without_credentials_sends_nothing(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    client = make(clock, credentials=None)
    with pytest.raises(AuthError, match="no credentials"):
        client.balances()
    with pytest.raises(AuthError):
        client.submit_order(LIMIT_BUY)
    assert len(rsps.calls) == 0


def test_open_orders(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/openOrders", body=body("rest_open_orders_response_docs_truncated.json"))
    client = make(clock)
    orders = client.open_orders("BTCTRY")
    assert len(orders) == 3 and {o.side for o in orders} == {Side.BUY, Side.SELL}
    assert query(rsps.calls[-1]) == {"pairSymbol": ["BTCTRY"]}
    client.open_orders()
    assert query(rsps.calls[-1]) == {}


def test_all_orders_times_in_seconds(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/allOrders", body=body("rest_all_orders_response_docs_legacy.json"))
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    orders = make(clock).all_orders("BTCTRY", start, end, limit=50)
    assert len(orders) == 3
    assert query(rsps.calls[-1]) == {
        "pairSymbol": ["BTCTRY"], "limit": ["50"], "startTime": ["1735689600"], "endTime": ["1735776000"],
    }  # fmt: skip


def test_trades_times_in_ms_and_filtered_by_pair(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/users/transactions/trade", body=body("user_trades_crafted.json"))
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    fills = make(clock).trades("ETHTRY", start, end)
    assert fills == []  # the payload holds BTCTRY fills only
    assert query(rsps.calls[-1]) == {"pairSymbol": ["ETHTRY"], "startDate": ["1735689600000"], "endDate": ["1735776000000"]}


def test_trades_for_order_sends_order_id_alone(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/users/transactions/trade", body=body("user_trades_crafted.json"))
    fills = make(clock).trades_for_order(9007199254740993)
    assert [f.trade_id for f in fills] == [9007199254741001]
    assert query(rsps.calls[-1]) == {"orderId": ["9007199254740993"]}


def test_get_order_found_and_not_found(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/order/61912740", body=body("rest_get_single_order_response_docs.json"))
    rsps.get(f"{BASE}/api/v1/order/1", status=400, body=body("rest_get_single_order_not_found_docs.json"))
    client = make(clock)
    order = client.get_order(61912740)
    assert order is not None and order.exchange_order_id == 61912740
    assert client.get_order(1) is None
    assert client.request_counts()["get_order"] == 2  # not-found is not retried


# ----------------------------------------------------------------------------- submit / cancel


def test_submit_limit_body(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.post(f"{BASE}/api/v1/order", body=body("submit_order_response_issue341_crafted.json"))
    ack = make(clock).submit_order(LIMIT_BUY)
    assert ack.exchange_order_id == 9007199254740993 and ack.client_order_id == LIMIT_BUY.client_order_id
    request = rsps.calls[-1].request
    assert request.headers["Content-Type"] == "application/json"
    assert isinstance(request.body, bytes)
    assert json.loads(request.body) == {
        "quantity": "0.005", "price": "3612000", "stopPrice": "0", "newOrderClientId": LIMIT_BUY.client_order_id,
        "orderMethod": "limit", "orderType": "buy", "pairSymbol": "BTCTRY",
    }  # fmt: skip


def test_submit_market_buy_sends_quote_amount(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    ack = json.loads(body("rest_submit_order_response_docs.json"))
    ack["data"].update({"newOrderClientId": MARKET_BUY.client_order_id, "method": "market"})
    rsps.post(f"{BASE}/api/v1/order", json=ack)
    make(clock).submit_order(MARKET_BUY)
    raw_body = rsps.calls[-1].request.body
    assert isinstance(raw_body, bytes)
    sent = json.loads(raw_body)
    assert sent["quantity"] == "150.25" and sent["orderMethod"] == "market" and "price" not in sent


def test_submit_rejection_is_definitive_and_not_retried(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.post(f"{BASE}/api/v1/order", status=400, json={"success": False, "message": "BALANCE_NOT_ENOUGH", "code": 1055})
    client = make(clock)
    with pytest.raises(ExchangeRejected) as info:
        client.submit_order(LIMIT_BUY)
    assert (info.value.error_name, info.value.code) == ("BALANCE_NOT_ENOUGH", 1055)
    assert client.request_counts()["submit_order"] == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"body": requests.Timeout("read timed out")},
        {"body": requests.ConnectionError("reset")},
        {"status": 500, "json": {"success": False, "message": "INTERNAL", "code": 0}},
        {"status": 502, "body": "<html>bad gateway</html>"},
        {"status": 503, "body": ""},
        {"status": 200, "body": "<html>ok?</html>"},
        {"status": 200, "json": {"success": True, "message": "SUCCESS", "code": 0, "data": {"no": "id"}}},
    ],
)
def test_submit_unclear_outcomes_are_ambiguous_never_retried(
    clock: ManualClock, rsps: responses.RequestsMock, kwargs: dict[str, Any]
) -> None:
    server_time(rsps)
    rsps.post(f"{BASE}/api/v1/order", **kwargs)
    client = make(clock)
    with pytest.raises(AmbiguousOutcome) as info:
        client.submit_order(LIMIT_BUY)
    assert not isinstance(info.value, ExchangeRejected)
    assert client.request_counts()["submit_order"] == 1


def test_submit_outside_allowed_symbols_is_refused_before_sending(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    client = make(clock, allowed=("ETHTRY", "XRPTRY"))
    with pytest.raises(ConfigError):
        client.submit_order(LIMIT_BUY)
    assert len(rsps.calls) == 0


def test_cancel(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.delete(f"{BASE}/api/v1/order", body=body("rest_cancel_order_response_docs.json"))
    ack = make(clock).cancel_order(16060235)
    assert ack.exchange_order_id == 16060235
    assert query(rsps.calls[-1]) == {"id": ["16060235"]}
    assert rsps.calls[-1].request.body is None


def test_cancel_unknown_order(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.delete(f"{BASE}/api/v1/order", status=400, body=body("rest_400_order_error_docs.json"))
    with pytest.raises(OrderNotFound):
        make(clock).cancel_order(5)


def test_cancel_without_answer_is_ambiguous(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.delete(f"{BASE}/api/v1/order", body=requests.Timeout())
    client = make(clock)
    with pytest.raises(AmbiguousOutcome):
        client.cancel_order(5)
    assert client.request_counts()["cancel_order"] == 1


# ----------------------------------------------------------------------------- resilience


def test_read_retried_with_backoff_then_succeeds(
    clock: ManualClock, rsps: responses.RequestsMock, observed: Calls
) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", status=500, json={"success": False, "message": "x", "code": 0})
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
    client = make(clock, observed)
    before = clock.monotonic()
    assert len(client.tickers()) == 2
    assert client.request_counts() == {"tickers": 2}
    assert 0 <= clock.monotonic() - before <= 0.25  # full jitter below base delay for the first retry
    assert [(o[1], o[2], o[3]) for o in observed] == [("tickers", "TransientError", 1), ("tickers", "ok", 2)]
    assert all(o[0] == "market_data" for o in observed)


def test_read_gives_up_after_max_attempts(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", body=requests.ConnectionError("down"))
    client = make(clock, resilience=ResilienceSettings(retry_max_attempts=3, breaker_threshold=10))
    with pytest.raises(TransientError):
        client.tickers()
    assert client.request_counts() == {"tickers": 3}


def test_429_waits_retry_after_then_retries(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", status=429, headers={"Retry-After": "3"}, body=body("rest_429_ip_block_docs.json"))
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
    client = make(clock)
    before = clock.monotonic()
    client.tickers()
    assert clock.monotonic() - before == pytest.approx(3)
    assert client.breakers.state(EndpointGroup.MARKET_DATA).consecutive_failures == 0


def test_429_longer_than_allowed_is_raised(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", status=429, headers={"Retry-After": "300"}, body=body("rest_429_ip_block_docs.json"))
    client = make(clock)
    with pytest.raises(RateLimited) as info:
        client.tickers()
    assert info.value.retry_after_s == 300
    assert client.request_counts() == {"tickers": 1}
    with pytest.raises(RateLimited):  # the window stays blocked locally: nothing is sent
        client.tickers()
    assert client.request_counts() == {"tickers": 1}


def test_breaker_opens_and_refuses_without_sending(
    clock: ManualClock, rsps: responses.RequestsMock, observed: Calls
) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", status=500, body="oops")
    client = make(clock, observed, resilience=ResilienceSettings(retry_max_attempts=1, breaker_threshold=2))
    for _ in range(2):
        with pytest.raises(TransientError):
            client.tickers()
    with pytest.raises(CircuitOpen):
        client.tickers()
    assert client.request_counts() == {"tickers": 2}
    assert observed[-1][2] == "CircuitOpen"
    clock.advance(61)  # cooldown passed: one probe goes out
    rsps.replace(responses.GET, f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
    client.tickers()
    assert client.breakers.state(EndpointGroup.MARKET_DATA).state is BreakerStatus.CLOSED


def test_maintenance_opens_breaker_at_once_for_its_group_only(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.post(f"{BASE}/api/v1/order", status=400, json={"success": False, "message": "ORDER_INSERT_BLOCKED", "code": 0})
    rsps.get(f"{BASE}/api/v1/users/balances", body=body("rest_account_balance_response_docs.json"))
    client = make(clock)
    with pytest.raises(MaintenanceError):
        client.submit_order(LIMIT_BUY)
    with pytest.raises(CircuitOpen):
        client.cancel_order(1)
    client.balances()  # account group unaffected
    exported = {s.group: s.state for s in client.breakers.export()}
    assert exported[EndpointGroup.ORDERS] is BreakerStatus.OPEN
    assert exported[EndpointGroup.ACCOUNT] is BreakerStatus.CLOSED


def test_orderbook_bare_503_is_transient_not_maintenance(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/orderbook", status=503, body="")
    client = make(clock, resilience=ResilienceSettings(retry_max_attempts=1))
    with pytest.raises(TransientError) as info:
        client.order_book("BTCTRY")
    assert not isinstance(info.value, MaintenanceError)
    state = client.breakers.state(EndpointGroup.MARKET_DATA)
    assert state.state is BreakerStatus.CLOSED and state.consecutive_failures == 1


def test_a_persistent_stamp_401_is_retried_once_after_a_resync_then_halts(
    clock: ManualClock, rsps: responses.RequestsMock
) -> None:
    server_time(rsps)
    rsps.get(
        f"{BASE}/api/v1/users/balances", status=401,
        json={"success": True, "message": "Unauthorized - Invalid Nonce", "code": 1037},
    )  # fmt: skip
    client = make(clock)
    with pytest.raises(AuthError, match="again after a server-time resync") as info:
        client.balances()
    assert not isinstance(info.value, StampRejected)  # a plain AuthError: the runner halts
    assert client.request_counts() == {"server_time": 2, "balances": 2}


def test_business_rejections_count_as_breaker_success(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.post(f"{BASE}/api/v1/order", status=400, json={"success": False, "message": "FAILED_LIMIT_ORDER", "code": 1120})
    client = make(clock, resilience=ResilienceSettings(breaker_threshold=1))
    for _ in range(3):
        with pytest.raises(ExchangeRejected):
            client.submit_order(LIMIT_BUY)
    assert client.breakers.state(EndpointGroup.ORDERS).state is BreakerStatus.CLOSED


def test_observer_failure_does_not_change_outcome(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))

    def broken(*_: object) -> None:
        raise RuntimeError("metrics down")

    client = BtcTurkClient(
        base_url=BASE, graph_url=GRAPH, credentials=None, clock=clock, resilience=ResilienceSettings(),
        timeout_s=1, observer=broken,
    )  # fmt: skip
    assert len(client.tickers()) == 2


# ----------------------------------------------------------------------------- secrets


def test_secret_never_in_repr_or_errors(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.get(f"{BASE}/api/v1/users/balances", status=401, json={"success": False, "message": "Unauthorized - Invalid Signature"})
    rsps.post(f"{BASE}/api/v1/order", body=requests.ConnectionError(f"boom X-Signature {API_SECRET}"))
    client = make(clock)
    texts = [repr(client)]
    for call in (client.balances, lambda: client.submit_order(LIMIT_BUY)):
        try:
            call()
        except ExchangeError as exc:
            texts.append(str(exc))
            texts.append(repr(exc))
    assert len(texts) == 5
    for text in texts:
        assert API_SECRET not in text


# ----------------------------------------------------------------------------- factory


def test_build_from_settings(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    settings = load_settings(
        environ={
            "BTCBOT_EXCHANGE__BASE_URL": BASE,
            "BTCBOT_EXCHANGE__GRAPH_URL": GRAPH,
            "BTCBOT_TRADING__SYMBOLS": "ETHTRY,XRPTRY,AVAXTRY,SOLTRY,ADATRY",
        }
    ).settings
    client = build_btcturk_client(settings, CREDS, clock)
    with pytest.raises(ConfigError):
        client.submit_order(LIMIT_BUY)  # BTCTRY is not configured
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
    assert len(client.tickers()) == 2


def test_time_sync_outage_keeps_previous_offset(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps, T0_MS + 1500)
    rsps.get(f"{BASE}/api/v1/users/balances", body=body("rest_account_balance_response_docs.json"))
    client = make(clock, resilience=ResilienceSettings(retry_max_attempts=1))
    client.balances()
    clock.advance(301)  # offset is stale now
    rsps.replace(responses.GET, f"{BASE}/api/v2/server/time", body=requests.ConnectionError("down"))
    client.balances()
    stamp = int(rsps.calls[-1].request.headers["X-Stamp"])
    assert stamp == T0_MS + 301_000 + 1500


def test_private_call_not_sent_without_any_time_measurement(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/server/time", body=requests.ConnectionError("down"))
    rsps.get(f"{BASE}/api/v1/users/balances", body=body("rest_account_balance_response_docs.json"))
    client = make(clock, resilience=ResilienceSettings(retry_max_attempts=1))
    with pytest.raises(TransientError):
        client.balances()
    assert "balances" not in client.request_counts()


def test_unexpected_error_after_sending_a_write_is_ambiguous(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time(rsps)
    rsps.post(f"{BASE}/api/v1/order", body=RuntimeError("urllib3 internals exploded"))
    with pytest.raises(AmbiguousOutcome):
        make(clock).submit_order(LIMIT_BUY)
