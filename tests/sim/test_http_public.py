"""Public and graph routes: envelopes, field names and JSON types exactly as the reference shows."""

from __future__ import annotations

from typing import Any

from btcbot.sim.testing import SimHandle

from .conftest import Api

CONFIGURED = {"BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY"}


def _envelope(body: dict[str, Any]) -> Any:
    assert body["success"] is True and body["code"] == 0 and "message" in body
    return body["data"]


def test_server_time_is_bare(api: Api, sim: SimHandle) -> None:
    body = api.get("/api/v2/server/time").json()
    assert set(body) == {"serverTime", "serverTime2"}
    assert body["serverTime"] == 1_767_225_600_000
    assert body["serverTime2"] == "2026-01-01T00:00:00.0000000+00:00"


def test_exchange_info_lists_extra_pairs_with_reference_types(api: Api) -> None:
    data = _envelope(api.get("/api/v2/server/exchangeinfo").json())
    assert isinstance(data, dict)
    names = {s["name"] for s in data["symbols"]}
    assert names > CONFIGURED and {"USDTTRY", "BTCUSDT", "ETHBTC"} <= names
    btc = next(s for s in data["symbols"] if s["name"] == "BTCTRY")
    assert btc["nameNormalized"] == "BTC_TRY" and btc["status"] == "TRADING"
    assert (btc["numerator"], btc["denominator"]) == ("BTC", "TRY")
    assert isinstance(btc["numeratorScale"], int) and isinstance(btc["denominatorScale"], int)
    assert isinstance(btc["hasFraction"], bool)
    (flt,) = btc["filters"]
    assert flt["filterType"] == "PRICE_FILTER"
    assert flt["minExchangeValue"] == "99.91" and isinstance(flt["tickSize"], str)
    assert isinstance(btc["maximumLimitOrderPrice"], int | float)
    assert isinstance(btc["minimumLimitOrderPrice"], int | float)
    usdt = next(s for s in data["symbols"] if s["name"] == "BTCUSDT")
    assert usdt["filters"][0]["minExchangeValue"] == "9.91"
    assert isinstance(data["serverTime"], int)


def test_ticker_numbers_all_pairs_and_filter(api: Api) -> None:
    rows = _envelope(api.get("/api/v2/ticker").json())
    assert isinstance(rows, list) and {r["pair"] for r in rows} >= CONFIGURED
    (one,) = _envelope(api.get("/api/v2/ticker", pairSymbol="BTC_TRY").json())
    assert one["pair"] == "BTCTRY" and one["pairNormalized"] == "BTC_TRY"
    for field in ("last", "high", "low", "bid", "ask", "open", "volume", "average", "daily", "dailyPercent"):
        assert isinstance(one[field], int | float) and not isinstance(one[field], bool), field
    assert one["bid"] < one["ask"]
    assert one["timestamp"] == 1_767_225_600_000


def test_orderbook_levels_are_strings_best_first(api: Api) -> None:
    data = _envelope(api.get("/api/v2/orderbook", pairSymbol="BTCTRY", limit=5).json())
    assert isinstance(data, dict)
    assert len(data["bids"]) == 5 and len(data["asks"]) == 5
    assert all(isinstance(p, str) and isinstance(a, str) for p, a in data["bids"] + data["asks"])
    bids = [float(p) for p, _ in data["bids"]]
    asks = [float(p) for p, _ in data["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]


def test_trades_shape_after_time_passes(api: Api, sim: SimHandle) -> None:
    sim.admin.advance(120)
    rows = _envelope(api.get("/api/v2/trades", pairSymbol="BTCTRY", last=5).json())
    assert isinstance(rows, list) and len(rows) == 5
    row = rows[0]
    assert set(row) == {
        "pair",
        "pairNormalized",
        "numerator",
        "denominator",
        "date",
        "tid",
        "price",
        "amount",
        "side",
    }
    assert isinstance(row["tid"], str) and isinstance(row["price"], str) and isinstance(row["date"], int)
    assert rows[0]["date"] >= rows[-1]["date"]


def test_klines_udf_arrays_in_seconds(api: Api, sim: SimHandle) -> None:
    body = api.get(
        "/v1/klines/history",
        symbol="BTCTRY",
        resolution="60",
        query={"from": 1_767_200_000, "to": 1_767_225_600},
    ).json()
    assert body["s"] == "ok"
    # 300 min of history, then the start hour's bar (the start price, no volume yet)
    assert len(body["t"]) == len(body["o"]) == len(body["c"]) == len(body["v"]) == 6
    assert body["v"][-1] == 0 and body["o"][-1] == body["c"][-1] == body["c"][-2]
    assert all(t % 3600 == 0 and t < 10**10 for t in body["t"])
    assert all(isinstance(x, int | float) for x in body["h"])


def test_ohlcs_bare_daily_numbers(api: Api) -> None:
    rows = api.get("/v1/ohlcs", pair="BTCTRY", query={"from": 1_767_000_000, "to": 1_767_225_600}).json()
    assert isinstance(rows, list) and rows
    assert all(r["time"] % 86_400 == 0 for r in rows)
    assert isinstance(rows[0]["close"], int | float) and rows[0]["pair"] == "BTCTRY"


def test_routes_are_case_insensitive_and_unknowns_are_404_405(api: Api, sim: SimHandle) -> None:
    assert api.get("/API/V2/OrderBook", pairSymbol="BTCTRY").status_code == 200
    assert api.get("/api/v2/server/exchangeInfo").status_code == 200
    assert api.get("/api/v2/nothing").status_code == 404
    assert api.session.put(sim.base_url + "/api/v1/order", timeout=5).status_code == 405


def test_ticker_follows_a_price_jump(api: Api, sim: SimHandle) -> None:
    from decimal import Decimal

    (before,) = api.get("/api/v2/ticker", pairSymbol="BTCTRY").json()["data"]
    sim.admin.set_price("BTCTRY", Decimal("5000000"))
    (after,) = api.get("/api/v2/ticker", pairSymbol="BTCTRY").json()["data"]
    assert after["last"] == after["high"] == 5_000_000 > before["high"]
    assert after["volume"] > before["volume"]
