"""Issue 11 scope item 11 (client part): answers the client used to misread.

- user-trade rows without ``orderId`` (the real 2019 payload) were given the order id that was
  asked for; now they count only when their ``orderClientId`` and pair are the order's, else they
  are ignored (and logged); an answer without ``data`` is not "no fills";
- one ticker row with a missing field made the whole call fail when it was the only kind of row;
- an allOrders answer without ``success`` was refused;
- openOrders without ``pairSymbol`` (docs disagree whether it is required): when the exchange
  refuses it, the client asks per symbol and remembers that.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from pydantic import SecretStr
from responses import matchers

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.errors import ExchangeRejected, MalformedPayload, TransientError

from .payloads import API_KEY, API_SECRET, body, doc

BASE = "https://api.test"
T0 = datetime(2025, 1, 3, tzinfo=UTC)
TRADES = f"{BASE}/api/v1/users/transactions/trade"
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/api/v2/server/time", json={"serverTime": int(T0.timestamp() * 1000)})
        yield mock


def make(**resilience: Any) -> BtcTurkClient:
    return BtcTurkClient(
        base_url=BASE, graph_url="https://graph.test",
        credentials=Credentials(api_key=API_KEY, api_secret=SecretStr(API_SECRET)), clock=ManualClock(T0),
        resilience=ResilienceSettings(**resilience), timeout_s=5.0, rng=random.Random(1), allowed_symbols=SYMBOLS,
    )  # fmt: skip


def single_order(order_id: int, client_id: str, pair: str = "BTCTRY") -> dict[str, Any]:
    order = doc("rest_get_single_order_response_docs.json")
    order["data"].update({"id": order_id, "orderClientId": client_id, "pairSymbol": pair})
    decoded: dict[str, Any] = json.loads(json.dumps(order, default=str))
    return decoded


# ----------------------------------------------------------------------------- user trades


def test_trade_rows_without_order_id_are_never_given_the_requested_id(rsps: responses.RequestsMock) -> None:
    rsps.get(TRADES, body=body("rest_user_trade_transactions_docs_legacy.json"))  # 2019: no orderId at all
    client = make()
    assert client.trades_for_order(77) == []
    assert "get_order" not in client.request_counts()  # no client id to compare: nothing to look up


def test_trade_rows_without_order_id_count_when_their_client_id_is_the_orders(rsps: responses.RequestsMock) -> None:
    rows = doc("user_trades_crafted.json")
    mine, other = rows["data"][0], rows["data"][1]
    del mine["orderId"], other["orderId"]  # both rows lost their orderId; only "mine" names our client id
    other["numeratorSymbol"], other["denominatorSymbol"] = "BTC", "TRY"
    rsps.get(TRADES, body=json.dumps(rows, default=str))
    rsps.get(f"{BASE}/api/v1/order/9007199254740993", json=single_order(9007199254740993, mine["orderClientId"]))
    client = make()
    fills = client.trades_for_order(9007199254740993)
    assert [(f.trade_id, f.order_id) for f in fills] == [(9007199254741001, 9007199254740993)]
    assert client.request_counts()["get_order"] == 1


def test_a_row_whose_client_id_matches_on_another_pair_is_ignored(rsps: responses.RequestsMock) -> None:
    rows = doc("user_trades_crafted.json")
    del rows["data"][0]["orderId"]
    rsps.get(TRADES, body=json.dumps({**rows, "data": rows["data"][:1]}, default=str))
    order = single_order(5, rows["data"][0]["orderClientId"], pair="ETHTRY")
    rsps.get(f"{BASE}/api/v1/order/5", json=order)
    assert make().trades_for_order(5) == []


def test_window_trades_drop_rows_without_order_id(rsps: responses.RequestsMock) -> None:
    rows = doc("user_trades_crafted.json")
    del rows["data"][0]["orderId"]
    rsps.get(TRADES, body=json.dumps(rows, default=str))
    fills = make().trades("BTCTRY", T0, T0)
    assert [f.trade_id for f in fills] == [9007199254741002]


@pytest.mark.parametrize("answer", [{"success": True, "message": "SUCCESS", "code": 0}, {"success": True}])
def test_a_trades_answer_without_data_is_not_no_fills(rsps: responses.RequestsMock, answer: dict[str, Any]) -> None:
    rsps.get(TRADES, json=answer)
    client = make(retry_max_attempts=2)
    with pytest.raises(MalformedPayload):
        client.trades_for_order(9007199254740993)
    assert client.request_counts()["trades_for_order"] == 2  # retried like any unreadable read


def test_a_trades_answer_with_null_data_is_no_fills(rsps: responses.RequestsMock) -> None:
    rsps.get(TRADES, json={"success": True, "message": "SUCCESS", "code": 0, "data": None})
    assert make().trades_for_order(1) == []


# ----------------------------------------------------------------------------- tickers, allOrders


def test_a_ticker_answer_whose_only_rows_are_bad_is_no_tickers_not_a_failure(rsps: responses.RequestsMock) -> None:
    tickers = doc("rest_ticker_response_docs_legacy.json")
    for row in tickers["data"]:
        del row["last"]
    rsps.get(f"{BASE}/api/v2/ticker", body=json.dumps(tickers, default=str))
    client = make()
    assert client.tickers() == []
    assert client.request_counts()["tickers"] == 1


def test_all_orders_without_success_member_is_accepted(rsps: responses.RequestsMock) -> None:
    answer = doc("rest_all_orders_response_docs_legacy.json")
    del answer["success"]
    rsps.get(f"{BASE}/api/v1/allOrders", body=json.dumps(answer, default=str))
    assert len(make().all_orders("BTCTRY")) == 3


def test_all_orders_with_success_false_is_still_refused(rsps: responses.RequestsMock) -> None:
    answer = doc("rest_all_orders_response_docs_legacy.json")
    answer["success"] = False
    rsps.get(f"{BASE}/api/v1/allOrders", body=json.dumps(answer, default=str))
    with pytest.raises(ExchangeRejected):
        make(retry_max_attempts=1).all_orders("BTCTRY")


# ----------------------------------------------------------------------------- openOrders without pairSymbol


def _open_orders_for(pair: str) -> dict[str, Any]:
    answer = doc("rest_open_orders_response_docs_truncated.json")
    rows = [*answer["data"]["asks"], *answer["data"]["bids"]]
    for i, row in enumerate(rows):
        row.update({"pairSymbol": pair, "id": 1000 * (SYMBOLS.index(pair) + 1) + i})
    decoded: dict[str, Any] = json.loads(json.dumps(answer, default=str))
    return decoded


def test_open_orders_fall_back_to_one_call_per_symbol_and_remember_it(rsps: responses.RequestsMock) -> None:
    url = f"{BASE}/api/v1/openOrders"
    rsps.get(url, status=400, json={"success": False, "message": "FAILED_ORDER_PARAMETER", "code": 0},
             match=[matchers.query_param_matcher({})])  # fmt: skip
    for pair in SYMBOLS:
        rsps.get(url, json=_open_orders_for(pair), match=[matchers.query_param_matcher({"pairSymbol": pair})])
    client = make()
    orders = client.open_orders()
    assert {o.symbol for o in orders} == set(SYMBOLS) and len(orders) == 3 * len(SYMBOLS)
    tries = ResilienceSettings().retry_max_attempts  # a refused read is asked again within the budget
    assert client.request_counts()["open_orders"] == tries + len(SYMBOLS)
    again = client.open_orders()  # remembered: no all-pairs attempt any more
    assert again == orders
    assert client.request_counts()["open_orders"] == tries + 2 * len(SYMBOLS)
    fresh = make()  # remembered per client instance: a new client tries the all-pairs form first
    fresh.open_orders()
    assert fresh.request_counts()["open_orders"] == tries + len(SYMBOLS)


def test_open_orders_all_pairs_form_is_used_while_it_works(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/api/v1/openOrders", json=_open_orders_for("BTCTRY"), match=[matchers.query_param_matcher({})])
    client = make()
    client.open_orders()
    client.open_orders()
    assert client.request_counts()["open_orders"] == 2


def test_a_transient_open_orders_failure_does_not_switch_the_form(rsps: responses.RequestsMock) -> None:
    url = f"{BASE}/api/v1/openOrders"
    rsps.get(url, status=500, body="")
    client = make(retry_max_attempts=1)
    with pytest.raises(TransientError):
        client.open_orders()
    rsps.replace(responses.GET, url, json=_open_orders_for("BTCTRY"))
    client.open_orders()
    assert client.request_counts()["open_orders"] == 2


@pytest.mark.parametrize("member", ["fee", "tax"])
def test_a_trade_row_without_fee_or_tax_is_unreadable_not_zero(rsps: responses.RequestsMock, member: str) -> None:
    """Soak finding F3: a row missing ``fee`` was booked with fee 0 (ledger off by one fee)."""
    rows = doc("user_trades_crafted.json")
    del rows["data"][0][member]
    rsps.get(TRADES, body=json.dumps(rows, default=str))
    with pytest.raises(MalformedPayload) as info:
        make(retry_max_attempts=1).trades_for_order(9007199254740993)
    assert info.value.field == f"data.0.{member}"
