"""Wire schemas: every example parses, drift is tolerated, junk is MalformedPayload, never a crash."""

from __future__ import annotations

import contextlib
import filecmp
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loguru import logger

from btcbot.adapters.btcturk import wire
from btcbot.adapters.btcturk.wire.market import NO_PRICE_FILTER
from btcbot.domain.enums import OrderType, Side, VenueOrderStatus
from btcbot.domain.errors import MalformedPayload
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol

from .payloads import FIXTURES, SHARED_EXAMPLES, doc, raw

E = "test"
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 10, tzinfo=UTC)
REQUEST = OrderRequest(Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("cid-1"), base_quantity=Decimal("0.005"), price=Decimal("3612000"))


def test_fixtures_match_shared_examples() -> None:
    if not SHARED_EXAMPLES.is_dir():
        pytest.skip("../shared/btcturk_examples not present")
    for source in sorted(SHARED_EXAMPLES.glob("*.json")):
        copy = FIXTURES / source.name
        assert copy.is_file(), f"{source.name} not copied into tests/fixtures/btcturk"
        assert filecmp.cmp(source, copy, shallow=False), f"{source.name} differs from the shared example"


def test_decode_uses_decimal_never_float() -> None:
    value = wire.decode_json(E, b'{"a": 0.1, "b": 9007199254740993}')
    assert value == {"a": Decimal("0.1"), "b": 9007199254740993}
    assert isinstance(value["a"], Decimal)


def test_server_time_bare_json() -> None:
    assert wire.parse_server_time(E, doc("rest_server_time_response_outlier1_docs.json")) == datetime(
        2021, 2, 14, 14, 37, 42, 21000, tzinfo=UTC
    )


def test_exchange_info_crafted() -> None:
    rules = {r.symbol: r for r in wire.parse_exchange_info(E, doc("exchangeinfo_crafted.json"))}
    btc = rules["BTCTRY"]
    assert (btc.base, btc.quote, btc.numerator_scale, btc.denominator_scale) == ("BTC", "TRY", 8, 0)
    assert btc.has_fraction is False and btc.tick_size == Decimal("10")
    assert btc.min_exchange_value == Decimal("99.91")
    assert btc.min_limit_price == Decimal("375413.5") and btc.max_limit_price == Decimal("37541350")
    assert btc.quote_precision == 2 and btc.tradable
    assert rules["ETHTRY"].denominator_scale == 2  # scales given as strings
    assert rules["BTCUSDT"].quote_precision == 6
    assert rules["OLDTRY"].status == NO_PRICE_FILTER and not rules["OLDTRY"].tradable


def test_tickers_numbers_become_exact_decimals() -> None:
    tickers = wire.parse_tickers(E, doc("rest_ticker_response_docs_legacy.json"))
    assert [t.symbol for t in tickers] == ["BTCTRY", "ETHTRY"]
    assert tickers[0].volume == Decimal("304.41") and tickers[0].bid == Decimal("47472")


def test_tickers_for_symbols_read_only_those_rows() -> None:
    full = doc("rest_ticker_response_docs_legacy.json")
    assert [t.symbol for t in wire.parse_tickers(E, full, frozenset({"ETHTRY"}))] == ["ETHTRY"]
    assert wire.parse_tickers(E, full, frozenset()) == []
    # Equal to the unfiltered parse for the rows kept.
    assert wire.parse_tickers(E, full, frozenset({"BTCTRY", "ETHTRY"})) == wire.parse_tickers(E, full)


def test_tickers_filter_skips_foreign_rows_unparsed_but_still_checks_unreadable_and_own_rows() -> None:
    good = {"pair": "BTCTRY", "timestamp": 1700000000000, "last": "1", "high": "1", "low": "1",
            "bid": "1", "ask": "1", "open": "1", "volume": "1"}
    rows = [
        good,
        {"PAIR": "DOGE_TRY", "last": "garbage"},  # a foreign pair, malformed: never parsed
        {"pair": "ETHTRY", **{k: v for k, v in good.items() if k != "pair"}, "last": None},  # ours, broken
        {"pair": 7, "last": "1"},  # unreadable pair: validated (and dropped) as without the filter
        "not a row",
    ]
    logged: list[str] = []
    sink = logger.add(lambda m: logged.append(str(m)), level="WARNING")
    try:
        tickers = wire.parse_tickers(E, {"success": True, "data": rows}, frozenset({"BTCTRY", "ETHTRY"}))
    finally:
        logger.remove(sink)
    assert [t.symbol for t in tickers] == ["BTCTRY"]  # ETHTRY dropped: stale for the caller
    assert len(logged) == 1 and "skipped 3 malformed row(s)" in logged[0]  # ETHTRY, pair 7, the string


def test_order_book_levels_best_first() -> None:
    book = wire.parse_order_book(E, doc("rest_orderbook_response_docs.json"), "BTCTRY")
    assert book.bids[0].price == Decimal("33245.00") and book.asks[0].price == Decimal("33490.00")
    assert book.bids[0].price > book.bids[1].price and book.asks[0].price < book.asks[1].price


def test_klines_filtered_and_ordered() -> None:
    candles = wire.parse_klines(E, doc("klines_crafted.json"), "BTCTRY", 3600, START, END)
    assert [c.open_time for c in candles] == [
        datetime(2025, 1, 3, 0, tzinfo=UTC),
        datetime(2025, 1, 3, 1, tzinfo=UTC),
        datetime(2025, 1, 3, 2, tzinfo=UTC),
    ]
    assert candles[0].close == Decimal("3612000.5") and candles[2].volume == Decimal("10.125")
    late = wire.parse_klines(E, doc("klines_crafted.json"), "BTCTRY", 3600, datetime(2025, 1, 3, 1, tzinfo=UTC), END)
    assert len(late) == 2


def test_klines_no_data_is_empty() -> None:
    assert wire.parse_klines(E, doc("klines_no_data_crafted.json"), "BTCTRY", 60, START, END) == []


def test_klines_uneven_arrays_are_malformed() -> None:
    with pytest.raises(MalformedPayload) as info:
        wire.parse_klines(E, {"s": "ok", "t": [1], "o": [], "h": [], "l": [], "c": [], "v": []}, "BTCTRY", 60, START, END)
    assert info.value.field == "t"


def test_balances_comma_and_dot_separators() -> None:
    balances = wire.parse_balances(E, doc("rest_account_balance_response_docs.json"))
    assert balances[0].asset == "TRY" and balances[0].free == Decimal("22349.3654565035348765")
    assert balances[1].total == Decimal("9.7502186644553258")
    single = {"success": True, "data": [doc("rest_account_balance_item_outlier1_docs.json")]}
    assert wire.parse_balances(E, single)[0].total == Decimal("0.8462753436459292")


def test_open_orders_split_into_sides() -> None:
    orders = wire.parse_open_orders(E, doc("rest_open_orders_response_docs_truncated.json"))
    sides = {o.exchange_order_id: o.side for o in orders}
    assert sides == {16060235: Side.SELL, 16060237: Side.SELL, 16071095: Side.BUY}
    partial = next(o for o in orders if o.exchange_order_id == 16060237)
    assert partial.status is VenueOrderStatus.PARTIAL and partial.left_amount == Decimal("0.0412345")
    assert partial.created_at is None  # openOrders always sends time: 0


def test_all_orders_legacy_lowercase_keys_and_title_case() -> None:
    orders = wire.parse_orders(E, doc("rest_all_orders_response_docs_legacy.json"))
    assert orders[0].symbol == "BTCTRY" and orders[0].side is Side.BUY and orders[0].order_type is OrderType.LIMIT
    assert orders[2].status is VenueOrderStatus.CANCELED and orders[0].left_amount is None


def test_single_order() -> None:
    order = wire.parse_order(E, doc("rest_get_single_order_response_docs.json"))
    assert order.exchange_order_id == 61912740 and order.client_order_id == "BtcTurk API"
    assert order.order_type is OrderType.MARKET  # stopmarket


def test_user_trades_big_ids_negative_amounts() -> None:
    fills = wire.parse_user_trades(E, doc("user_trades_crafted.json"))
    buy, sell = fills
    assert buy.trade_id == 9007199254741001 and buy.order_id == 9007199254740993
    assert buy.fee == Decimal("18.06") and buy.tax == Decimal("3.612") and buy.fee_asset == "TRY"
    assert sell.side is Side.SELL and sell.quantity == Decimal("0.00100000")


def test_legacy_user_trades_without_order_id_are_orphans_never_assigned() -> None:
    rows = wire.parse_user_trade_rows(E, doc("rest_user_trade_transactions_docs_legacy.json"))
    assert rows.fills == [] and len(rows.orphans) == 3
    assert wire.parse_user_trades(E, doc("rest_user_trade_transactions_docs_legacy.json")) == []
    fills = [r.to_domain(E, 77) for r in rows.orphans]  # only a caller that proved the id may do this
    assert fills[0].side is Side.SELL and fills[2].side is Side.BUY  # orderType lowercase
    assert fills[2].symbol == "USDTTRY" and fills[0].fee == Decimal("0.0685423626")


@pytest.mark.parametrize(
    "name", ["rest_submit_order_response_docs.json", "submit_order_response_issue341_crafted.json"]
)
def test_submit_ack_both_casings(name: str) -> None:
    payload = doc(name)
    payload["data"]["newOrderClientId"] = REQUEST.client_order_id  # the venue echoes what we sent
    ack = wire.parse_submit_ack(E, payload, REQUEST, START)
    assert ack.client_order_id == "cid-1" and ack.quantity == Decimal("0.005")
    assert ack.exchange_order_id in (9932534, 9007199254740993)
    assert ack.created_at.year in (2018, 2025)


@pytest.mark.parametrize(
    "change",
    [{"newOrderClientId": "someone-else"}, {"pairSymbol": "ETHTRY"}, {"type": "sell"}, {"id": None}, {"id": "12a"}],
)
def test_submit_ack_naming_another_order_is_malformed(change: dict[str, object]) -> None:
    payload = doc("submit_order_response_issue341_crafted.json")
    payload["data"].update({"newOrderClientId": REQUEST.client_order_id, **change})
    with pytest.raises(MalformedPayload):
        wire.parse_submit_ack(E, payload, REQUEST, START)


def test_submit_ack_without_echo_members_is_accepted() -> None:
    payload = doc("submit_order_response_issue341_crafted.json")
    for member in ("newOrderClientId", "pairSymbol", "type", "datetime"):
        del payload["data"][member]
    assert wire.parse_submit_ack(E, payload, REQUEST, START).created_at == START


@pytest.mark.parametrize(
    "name", ["rest_cancel_order_response_docs.json", "rest_cancel_order_response_docs_legacy_shape.json"]
)
def test_cancel_shapes(name: str) -> None:
    wire.parse_cancel(E, doc(name))


@pytest.mark.parametrize(
    "payload,field",
    [
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "<body>"),
        (b"", "<body>"),
        (b"{not json", "<body>"),
        (b'{"a": NaN}', "<body>"),
        (b"\xff\xfe", "<body>"),
    ],
)
def test_undecodable_bodies(payload: bytes, field: str) -> None:
    with pytest.raises(MalformedPayload) as info:
        wire.decode_json(E, payload)
    assert info.value.field == field and info.value.endpoint == E


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"success": True, "data": {"bids": [], "asks": []}}, "data.timestamp"),
        ({"success": True, "data": {"bids": [["1"]], "asks": [], "timestamp": 1}}, "data.bids"),
        ({"success": True, "data": "nope"}, "data"),
        ({"data": []}, "success"),
    ],
)
def test_missing_fields_are_named(payload: Any, field: str) -> None:
    parsers: list[Callable[[Any], object]] = [
        lambda d: wire.parse_tickers(E, d),
        lambda d: wire.parse_order_book(E, d, "BTCTRY"),
    ]
    for parse in parsers:
        try:
            parse(payload)
        except MalformedPayload as exc:
            if exc.field == field:
                return
    pytest.fail(f"no parser named field {field}")


def test_wrong_types_are_malformed_not_crash() -> None:
    bad = json.loads(raw("rest_get_single_order_response_docs.json"))
    bad["data"]["price"] = {"nested": True}
    with pytest.raises(MalformedPayload) as info:
        wire.parse_order(E, bad)
    assert info.value.field == "data.price"
    bad["data"]["price"] = "1"
    bad["data"]["id"] = True
    with pytest.raises(MalformedPayload):
        wire.parse_order(E, bad)


# ----------------------------------------------------------------------------- fuzz

PARSERS: list[Callable[[Any], object]] = [
    lambda d: wire.parse_server_time(E, d),
    lambda d: wire.parse_exchange_info(E, d),
    lambda d: wire.parse_tickers(E, d),
    lambda d: wire.parse_order_book(E, d, "BTCTRY"),
    lambda d: wire.parse_klines(E, d, "BTCTRY", 60, START, END),
    lambda d: wire.parse_balances(E, d),
    lambda d: wire.parse_open_orders(E, d),
    lambda d: wire.parse_orders(E, d),
    lambda d: wire.parse_order(E, d),
    lambda d: wire.parse_user_trades(E, d),
    lambda d: wire.parse_submit_ack(E, d, REQUEST, START),
    lambda d: wire.parse_cancel(E, d),
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "0", "1,5", "1e999999", "-1", "Buy", "LIMIT", "Partial", "ok", "no_data", "TRADING"]),
)
keys = st.sampled_from(
    ["success", "data", "code", "message", "id", "price", "amount", "quantity", "pairSymbol", "type", "method",
     "status", "serverTime", "timestamp", "bids", "asks", "s", "t", "o", "h", "l", "c", "v", "symbols", "pair",
     "asset", "free", "locked", "balance", "orderId", "fee", "tax", "numeratorSymbol", "denominatorSymbol"]
) | st.text(max_size=6)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=8),
    max_leaves=30,
)


def _mutations(name: str) -> st.SearchStrategy[Any]:
    """A real example with one value replaced by junk, to reach deep into the schemas."""
    base = doc(name)

    def mutate(junk: Any, path_seed: int) -> Any:
        copy = json.loads(json.dumps(base, default=str), parse_float=Decimal)
        node = copy
        for _ in range(4):
            if isinstance(node, dict) and node:
                keys_ = sorted(node)
                key = keys_[path_seed % len(keys_)]
                if not isinstance(node[key], dict | list):
                    node[key] = junk
                    return copy
                node = node[key]
            elif isinstance(node, list) and node:
                idx = path_seed % len(node)
                if not isinstance(node[idx], dict | list):
                    node[idx] = junk
                    return copy
                node = node[idx]
            path_seed //= 3
        return copy

    return st.builds(mutate, scalars, st.integers(min_value=0, max_value=10**6))


def _assert_parsers_never_crash(payload: Any) -> None:
    for parse in PARSERS:
        with contextlib.suppress(MalformedPayload):
            parse(payload)


@settings(max_examples=150, deadline=None)
@given(json_like)
def test_fuzz_random_documents(payload: Any) -> None:
    _assert_parsers_never_crash(payload)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(
        [p.name for p in sorted(FIXTURES.glob("*.json")) if "request_body" not in p.name]
    ).flatmap(_mutations)
)
def test_fuzz_mutated_examples(payload: Any) -> None:
    _assert_parsers_never_crash(payload)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_fuzz_raw_bytes(payload: bytes) -> None:
    with contextlib.suppress(MalformedPayload):
        _assert_parsers_never_crash(wire.decode_json(E, payload))


def test_one_odd_ticker_or_symbol_row_is_skipped_not_fatal() -> None:
    tickers = doc("rest_ticker_response_docs_legacy.json")
    tickers["data"][1]["bid"] = None  # a freshly listed pair without quotes
    assert [t.symbol for t in wire.parse_tickers(E, tickers)] == ["BTCTRY"]
    info = doc("exchangeinfo_crafted.json")
    info["data"]["symbols"][2]["numeratorScale"] = None
    symbols = {r.symbol for r in wire.parse_exchange_info(E, info)}
    assert "XRPTRY" not in symbols and "BTCTRY" in symbols


def test_all_rows_bad_is_malformed_for_exchange_info_but_not_for_tickers() -> None:
    info_doc = doc("exchangeinfo_crafted.json")
    for row in info_doc["data"]["symbols"]:
        row["numeratorScale"] = None
    with pytest.raises(MalformedPayload):
        wire.parse_exchange_info(E, info_doc)
    tickers = doc("rest_ticker_response_docs_legacy.json")
    for row in tickers["data"]:
        row["bid"] = None
    assert wire.parse_tickers(E, tickers) == []  # every symbol stale for the caller; the call itself is fine


@pytest.mark.parametrize(
    "field,value", [("last", None), ("timestamp", "soon"), ("bid", "abc"), ("pair", None), ("volume", [])]
)
def test_a_bad_ticker_row_drops_only_that_symbol(field: str, value: object) -> None:
    tickers = doc("rest_ticker_response_docs_legacy.json")
    tickers["data"][0][field] = value
    assert [t.symbol for t in wire.parse_tickers(E, tickers)] == ["ETHTRY"]
    del tickers["data"][0][field]
    assert [t.symbol for t in wire.parse_tickers(E, tickers)] == ["ETHTRY"]


def test_order_without_price_or_quantity_still_parses() -> None:
    row = doc("rest_get_single_order_response_docs.json")
    del row["data"]["quantity"]
    row["data"]["price"] = None
    order = wire.parse_order(E, row)
    assert order.price == 0 and order.quantity == order.amount
