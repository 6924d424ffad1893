"""The transport reuses a prepared GET per url/params/header names (transport._request): every
call must still carry its own stamp and signature, its own query string, and the session's
cookies once a response set some; writes are never reused."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.btcturk.signing import sign
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol

from .payloads import API_KEY, API_SECRET, body

BASE = "https://api.test"
T0 = datetime(2025, 1, 3, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
CREDS = Credentials(api_key=API_KEY, api_secret=SecretStr(API_SECRET))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make(clock: ManualClock, session: requests.Session | None = None) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=BASE, graph_url="https://graph.test", credentials=CREDS, clock=clock,
        resilience=ResilienceSettings(), timeout_s=5.0, rng=random.Random(3), session=session,
        allowed_symbols=("BTCTRY", "ETHTRY"),
    )


def test_repeated_signed_reads_carry_their_own_stamp_and_signature(rsps: responses.RequestsMock) -> None:
    clock = ManualClock(T0)
    rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": T0_MS, "serverTime2": "x"})
    rsps.get(f"{BASE}/api/v1/users/balances", body=body("rest_account_balance_response_docs.json"))
    client = make(clock)
    for _ in range(3):
        assert client.balances()[0].free == Decimal("22349.3654565035348765")
        clock.advance(1.5)
    signed = [c.request for c in rsps.calls if "X-Stamp" in c.request.headers]
    assert len(signed) == 3
    stamps = [int(r.headers["X-Stamp"]) for r in signed]
    assert stamps == sorted(set(stamps))  # three different, increasing stamps
    for request, stamp in zip(signed, stamps, strict=True):
        assert request.headers["X-Signature"] == sign(API_KEY, API_SECRET, stamp)
        assert request.headers["X-PCK"] == API_KEY
        assert request.headers["Accept"] == "application/json"
        assert request.method == "GET" and request.body is None


def test_reads_with_other_parameters_send_their_own_query(rsps: responses.RequestsMock) -> None:
    clock = ManualClock(T0)
    rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": T0_MS, "serverTime2": "x"})
    rsps.get(f"{BASE}/api/v1/openOrders", body=body("rest_open_orders_response_docs_truncated.json"))
    client = make(clock)
    for symbol in ("BTCTRY", "ETHTRY", "BTCTRY"):
        client.open_orders(symbol)
    client.open_orders()
    urls = [str(c.request.url) for c in rsps.calls]
    queries = [parse_qs(urlparse(url).query) for url in urls if "openOrders" in url]
    assert queries == [{"pairSymbol": ["BTCTRY"]}, {"pairSymbol": ["ETHTRY"]}, {"pairSymbol": ["BTCTRY"]}, {}]


def test_cookies_a_response_sets_are_sent_on_later_reads(rsps: responses.RequestsMock) -> None:
    clock = ManualClock(T0)
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"),
             headers={"Set-Cookie": "cf_bm=abc123; Path=/"})
    client = make(clock)
    client.tickers()
    assert "Cookie" not in rsps.calls[0].request.headers
    client.tickers()
    client.tickers()
    assert [c.request.headers.get("Cookie") for c in rsps.calls[1:]] == ["cf_bm=abc123", "cf_bm=abc123"]


def test_session_headers_are_sent_on_every_read(rsps: responses.RequestsMock) -> None:
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = "btcbot-test"
    rsps.get(f"{BASE}/api/v2/ticker", body=body("rest_ticker_response_docs_legacy.json"))
    client = make(ManualClock(T0), session)
    client.tickers()
    client.tickers()
    assert [c.request.headers["User-Agent"] for c in rsps.calls] == ["btcbot-test", "btcbot-test"]


def test_order_writes_are_never_reused(rsps: responses.RequestsMock) -> None:
    clock = ManualClock(T0)
    rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": T0_MS, "serverTime2": "x"})

    def echo(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body or b"{}")
        return 200, {}, json.dumps({"success": True, "message": "SUCCESS", "code": 0, "data": {
            "id": 9, "datetime": T0_MS, "type": "buy", "method": "limit", "price": "3612000", "quantity": "0.005",
            "pairSymbol": "BTCTRY", "pairSymbolNormalized": "BTC_TRY", "newOrderClientId": sent["newOrderClientId"]}})

    rsps.add_callback(responses.POST, f"{BASE}/api/v1/order", callback=echo)
    client = make(clock)
    for n in ("a", "b"):
        client.submit_order(OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId(f"s1-c1-BTCTRY-B-{n}"),
                                         base_quantity=Decimal("0.005"), price=Decimal("3612000")))
        clock.advance(timedelta(seconds=1).total_seconds())
    sent = [json.loads(c.request.body or b"{}") for c in rsps.calls if c.request.method == "POST"]
    assert [x["newOrderClientId"] for x in sent] == ["s1-c1-BTCTRY-B-a", "s1-c1-BTCTRY-B-b"]


@pytest.mark.parametrize("proxies", [{}, {"https": "http://proxy.test:3128", "http": None}, None])
@pytest.mark.parametrize(("verify", "cert", "stream"), [(True, None, False), ("/etc/ca.pem", ("c", "k"), None)])
def test_send_settings_are_what_requests_would_merge(
    proxies: dict[str, str | None] | None, verify: bool | str, cert: tuple[str, str] | None, stream: bool | None
) -> None:
    """A reused read is sent with exactly the settings requests' merge_environment_settings gives
    (trust_env off, the only case the reuse runs in), read from the session at each call."""
    from btcbot.adapters.btcturk.transport import _send_settings

    session = requests.Session()
    session.trust_env = False
    session.proxies = proxies  # type: ignore[assignment]
    session.verify, session.cert, session.stream = verify, cert, stream  # type: ignore[assignment]
    expected = session.merge_environment_settings(f"{BASE}/api/v2/ticker", {}, None, None, None)
    got = _send_settings(session)
    assert got == expected
    assert type(got["proxies"]) is type(expected["proxies"])
    session.verify = False  # changed later: seen by the next call
    assert _send_settings(session)["verify"] is False
