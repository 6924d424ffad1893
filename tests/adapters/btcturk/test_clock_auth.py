"""Issue 11, "Why" bullet 3 and scope item 5: clock and authentication errors by cause.

- One ``401 Unauthorized - Invalid Nonce`` (a clock hiccup) halted trading: now it resyncs the
  server time and sends a read or cancel once more; only a repeated 401, or one naming the key,
  signature or permission, is an AuthError (halt). An order POST is never resent: UNKNOWN.
- A slow server-time answer (a timeout, then a retry) left the offset ~5 s wrong because it was
  measured over the whole retried call: now one attempt is measured, and an attempt with a long
  round trip is measured again instead of trusted.
- A fresh process took its offset through the market-data breaker, so a 503 there blocked private
  calls: the sync does not use that breaker.
- Market-data freshness was judged on the local clock, so a clock 30 min behind made old tickers
  look fresh: it is judged on the exchange's clock now.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.clock import ManualClock
from btcbot.app.error_policy import Action, action_for
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.breaker import BreakerBoard, BreakerSettings, BreakerState, BreakerStatus
from btcbot.domain.enums import EndpointGroup, OrderType, Side
from btcbot.domain.errors import AmbiguousOutcome, AuthError, TransientError
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.services.market_feed import MarketFeed

from .payloads import API_KEY, API_SECRET, body

BASE = "https://api.test"
T0 = datetime(2026, 2, 1, 12, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
NONCE = {"success": True, "message": "Unauthorized - Invalid Nonce", "code": 1037}
SIGNATURE = {"success": False, "message": "Unauthorized - Invalid Signature", "code": 1037}
BALANCES = body("rest_account_balance_response_docs.json")
REQUEST = OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("cid-auth"), base_quantity=Decimal("0.001"),
                       price=Decimal("3000000"))  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make(clock: ManualClock, breakers: BreakerBoard | None = None, **resilience: Any) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=BASE, graph_url="https://graph.test",
        credentials=Credentials(api_key=API_KEY, api_secret=SecretStr(API_SECRET)), clock=clock,
        resilience=ResilienceSettings(**resilience), timeout_s=5.0, rng=random.Random(4), breakers=breakers,
    )  # fmt: skip


def server_time_now(rsps: responses.RequestsMock, clock: ManualClock, *, skew_ms: int = 0,
                    delay_s: float = 0.0) -> None:  # fmt: skip
    """The venue answers its time = our clock + skew, after ``delay_s`` of (injected) network time."""

    def answer(_request: Any) -> tuple[int, dict[str, str], str]:
        clock.advance(delay_s / 2)
        server = int(clock.now().timestamp() * 1000) + skew_ms
        clock.advance(delay_s / 2)
        return 200, {}, json.dumps({"serverTime": server})

    rsps.add_callback(responses.GET, f"{BASE}/api/v2/server/time", callback=answer)


def stamps(rsps: responses.RequestsMock, path: str) -> list[int]:
    return [int(c.request.headers["X-Stamp"]) for c in rsps.calls if (c.request.url or "").split("?")[0].endswith(path)]


# ----------------------------------------------------------------------------- 401 by cause


def test_one_stamp_401_resyncs_and_retries_the_read_once(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time_now(rsps, clock, skew_ms=1_000)
    rsps.get(f"{BASE}/api/v1/users/balances", status=401, json=NONCE)
    rsps.get(f"{BASE}/api/v1/users/balances", body=BALANCES)
    client = make(clock)
    assert client.balances()  # no AuthError, no halt
    assert client.request_counts() == {"server_time": 2, "balances": 2}


@pytest.mark.parametrize("reply", [{"json": NONCE}, {"body": "Unauthorized"}, {"body": ""}])
def test_a_stamp_401_on_an_order_post_is_unknown_resynced_and_never_resent(
    clock: ManualClock, rsps: responses.RequestsMock, reply: dict[str, Any]
) -> None:
    server_time_now(rsps, clock)
    rsps.post(f"{BASE}/api/v1/order", status=401, **reply)
    client = make(clock)
    with pytest.raises(AmbiguousOutcome) as info:
        client.submit_order(REQUEST)
    assert action_for(info.value) is Action.RECORD  # UNKNOWN, looked up; trading not halted
    assert client.request_counts() == {"server_time": 2, "submit_order": 1}


def test_a_stamp_401_on_a_cancel_is_sent_once_more(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time_now(rsps, clock)
    rsps.delete(f"{BASE}/api/v1/order", status=401, json=NONCE)
    rsps.delete(f"{BASE}/api/v1/order", json={"success": True, "message": "SUCCESS", "code": 0})
    client = make(clock)
    assert client.cancel_order(7).exchange_order_id == 7
    assert client.request_counts() == {"server_time": 2, "cancel_order": 2}


def test_a_401_naming_the_credentials_halts_at_once(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time_now(rsps, clock)
    rsps.get(f"{BASE}/api/v1/users/balances", status=401, json=SIGNATURE)
    client = make(clock)
    with pytest.raises(AuthError) as info:
        client.balances()
    assert type(info.value) is AuthError and action_for(info.value) is Action.HALT
    assert client.request_counts() == {"server_time": 1, "balances": 1}


def test_a_stamp_401_whose_resync_fails_is_transient_not_a_halt(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": T0_MS})
    rsps.get(f"{BASE}/api/v2/server/time", body=requests.ConnectionError("down"))
    rsps.get(f"{BASE}/api/v1/users/balances", status=401, json=NONCE)
    client = make(clock, retry_max_attempts=1)
    with pytest.raises(TransientError) as info:
        client.balances()
    assert action_for(info.value) is Action.SAFE_MODE


# ----------------------------------------------------------------------------- measuring the offset


def test_offset_comes_from_the_attempt_that_answered_not_the_whole_retried_call(
    clock: ManualClock, rsps: responses.RequestsMock
) -> None:
    """The soak failure: the first attempt times out after 10 s, the retry answers at once."""

    def slow_timeout(_request: Any) -> tuple[int, dict[str, str], str]:
        clock.advance(10)
        raise requests.ReadTimeout("read timed out")

    rsps.add_callback(responses.GET, f"{BASE}/api/v2/server/time", callback=slow_timeout)
    server_time_now(rsps, clock)  # true offset 0
    rsps.get(f"{BASE}/api/v1/users/balances", body=BALANCES)
    client = make(clock)
    client.balances()
    assert abs(client.time_offset_ms) <= 1
    assert stamps(rsps, "/balances") == [int(clock.now().timestamp() * 1000)]


def test_a_slow_round_trip_is_measured_again_not_trusted(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    server_time_now(rsps, clock, skew_ms=2_000, delay_s=3.0)  # answer stamped mid-way, 3 s round trip
    server_time_now(rsps, clock, skew_ms=2_000, delay_s=0.2)
    rsps.get(f"{BASE}/api/v1/users/balances", body=BALANCES)
    client = make(clock, time_sync_max_round_trip_s=1.0)
    client.balances()
    assert client.request_counts()["server_time"] == 2
    assert client.time_offset_ms == 2_000


def test_only_slow_answers_mean_no_measurement_and_nothing_private_is_sent(
    clock: ManualClock, rsps: responses.RequestsMock
) -> None:
    server_time_now(rsps, clock, delay_s=2.0)
    rsps.get(f"{BASE}/api/v1/users/balances", body=BALANCES)
    client = make(clock, retry_max_attempts=2, time_sync_max_round_trip_s=1.0)
    with pytest.raises(TransientError, match="round trip"):
        client.balances()
    assert "balances" not in client.request_counts()


def test_time_sync_does_not_go_through_the_market_data_breaker(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    """A fresh process whose saved market-data breaker is OPEN (a 503 on tickers) still signs."""
    opened = BreakerState(EndpointGroup.MARKET_DATA, BreakerStatus.OPEN, 5, T0, 0)
    board = BreakerBoard(BreakerSettings(), [opened])
    server_time_now(rsps, clock)
    rsps.get(f"{BASE}/api/v1/users/balances", body=BALANCES)
    client = make(clock, breakers=board)
    assert client.balances()
    assert client.request_counts() == {"server_time": 1, "balances": 1}
    assert board.state(EndpointGroup.MARKET_DATA) == opened  # neither probed nor touched


def test_a_failing_time_sync_does_not_count_toward_the_market_data_breaker(
    clock: ManualClock, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{BASE}/api/v2/server/time", status=503, body="")
    client = make(clock, retry_max_attempts=3, breaker_threshold=1)
    with pytest.raises(TransientError):
        client.balances()
    assert client.request_counts() == {"server_time": 3}
    assert client.breakers.state(EndpointGroup.MARKET_DATA).consecutive_failures == 0


# ----------------------------------------------------------------------------- freshness on the exchange's clock


def ticker_doc(age_s: float) -> dict[str, Any]:
    stamp = int((T0 - timedelta(seconds=age_s)).timestamp() * 1000)
    row = {"pair": "BTCTRY", "timestamp": stamp, "last": 3000000, "high": 3100000, "low": 2900000, "bid": 2999000,
           "ask": 3001000, "open": 2950000, "volume": 12.5}  # fmt: skip
    return {"success": True, "message": "", "code": 0, "data": [row]}


def feed_for(client: BtcTurkClient) -> MarketFeed:
    return MarketFeed(client, MemoryCandleStore(), ("BTCTRY",), 3600, 10, max_age_s=120)


def venue_at_t0(rsps: responses.RequestsMock, age_s: float) -> None:
    """The venue's clock stays at T0 (plus what our monotonic clock says passed); tickers are age_s old."""
    rsps.get(f"{BASE}/api/v2/server/time", json={"serverTime": T0_MS})
    rsps.get(f"{BASE}/api/v2/ticker", json=ticker_doc(age_s))


@pytest.mark.parametrize("jump_s", [-1800.0, +1800.0])
def test_old_tickers_stay_stale_and_fresh_ones_fresh_when_the_local_clock_jumps(
    clock: ManualClock, rsps: responses.RequestsMock, jump_s: float
) -> None:
    venue_at_t0(rsps, age_s=1200)  # 20 minutes old on the exchange's clock
    client = make(clock)
    feed = feed_for(client)
    assert feed.tickers(clock.now())[2] == ("BTCTRY",)
    clock.jump(jump_s)
    _, ages, stale = feed.tickers(clock.now())
    assert stale == ("BTCTRY",), "an old ticker must not look fresh"
    assert ages["BTCTRY"] == pytest.approx(1200, abs=1)
    rsps.replace(responses.GET, f"{BASE}/api/v2/ticker", json=ticker_doc(5))
    _, ages, stale = feed.tickers(clock.now())
    assert stale == () and ages["BTCTRY"] == pytest.approx(5, abs=1)


def test_an_unknown_exchange_clock_makes_every_symbol_stale(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/server/time", body=requests.ConnectionError("down"))
    rsps.get(f"{BASE}/api/v2/ticker", json=ticker_doc(5))
    feed = feed_for(make(clock, retry_max_attempts=1))
    tickers, _, stale = feed.tickers(clock.now())
    assert "BTCTRY" in tickers and stale == ("BTCTRY",)


class _Market:
    """A market without an exchange clock (paper, fakes): judged on the cycle's ``now``."""

    def __init__(self, age_s: float, **changes: object) -> None:
        self.doc = ticker_doc(age_s)
        self.doc["data"][0].update(changes)

    def tickers(self, symbols: Collection[str] | None = None) -> list[Any]:
        from btcbot.adapters.btcturk import wire

        return wire.parse_tickers("tickers", json.loads(json.dumps(self.doc), parse_float=Decimal), symbols)


@pytest.mark.parametrize(
    "age_s,changes,stale",
    [
        (5, {}, False),
        (500, {}, True),
        (-500, {}, True),  # from the future by more than the max age: not a real ticker
        (5, {"bid": 3002000}, True),  # crossed book
        (5, {"ask": 0}, True),
        (5, {"last": None}, True),  # a bad row: that symbol stale, the call fine
    ],
)
def test_ticker_checks_without_an_exchange_clock(age_s: float, changes: dict[str, object], stale: bool) -> None:
    feed = MarketFeed(_Market(age_s, **changes), MemoryCandleStore(), ("BTCTRY",), 3600, 10, max_age_s=120)  # type: ignore[arg-type]
    assert (feed.tickers(T0)[2] == ("BTCTRY",)) is stale


def test_an_injected_exchange_clock_is_used(clock: ManualClock) -> None:
    now: list[datetime | None] = [T0 + timedelta(minutes=30)]
    exchange_clock: Callable[[], datetime | None] = lambda: now[0]  # noqa: E731
    feed = MarketFeed(_Market(5), MemoryCandleStore(), ("BTCTRY",), 3600, 10, 120, exchange_clock)  # type: ignore[arg-type]
    assert feed.tickers(T0)[2] == ("BTCTRY",)  # 30 min old on the exchange's clock
    now[0] = None
    assert feed.tickers(T0)[2] == ("BTCTRY",)  # unknown clock
    now[0] = T0
    assert feed.tickers(T0)[2] == ()


def test_maintenance_on_server_time_is_not_asked_again(clock: ManualClock, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v2/server/time", status=503,
             json={"success": False, "message": "SYSTEM_UNDER_MAINTENANCE", "code": 0})  # fmt: skip
    client = make(clock)
    assert client.exchange_now() is None
    assert client.request_counts() == {"server_time": 1}
    assert client.breakers.state(EndpointGroup.MARKET_DATA).state is BreakerStatus.CLOSED
