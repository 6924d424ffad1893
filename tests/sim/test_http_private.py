"""Private routes: order lifecycle over HTTP with the reference's shapes, strings and errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btcbot.sim.testing import SimHandle

from .conftest import Api

ORDER_FIELDS = {
    "id", "price", "amount", "quantity", "stopPrice", "pairSymbol", "pairSymbolNormalized", "type", "method",
    "orderClientId", "time", "updateTime", "status", "leftAmount",
}  # fmt: skip


def _limit_buy(
    api: Api, client_id: str = "cid-1", qty: object = 0.001, price: object = 3_800_000
) -> dict[str, Any]:
    # The docs' Python sample sends numbers and the BTC_TRY form; both must work.
    resp = api.post_order(
        {"quantity": qty, "price": price, "stopPrice": 0, "newOrderClientId": client_id,
         "orderMethod": "limit", "orderType": "buy", "pairSymbol": "BTC_TRY"}
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_balances_rows_are_strings(api: Api) -> None:
    body = api.get("/api/v1/users/balances", signed=True).json()
    assert body["success"] is True
    row = next(r for r in body["data"] if r["asset"] == "TRY")
    assert row["free"] == "1000000" and row["locked"] == "0" and row["balance"] == "1000000"
    assert row["precision"] == 2 and isinstance(row["timestamp"], int)
    assert {"assetname", "orderFund", "requestFund"} <= set(row)


def test_submit_echoes_client_id_and_id_is_int64(api: Api) -> None:
    body = _limit_buy(api)
    data = body["data"]
    assert body["success"] is True and body["code"] == 0
    assert isinstance(data["id"], int) and data["id"] > 2**53
    assert data["newOrderClientId"] == "cid-1"
    assert (data["type"], data["method"], data["pairSymbol"], data["pairSymbolNormalized"]) == (
        "buy", "limit", "BTCTRY", "BTC_TRY",
    )  # fmt: skip
    assert data["price"] == "3800000" and data["quantity"] == "0.001" and isinstance(data["datetime"], int)


def test_open_orders_split_by_side_with_time_zero(api: Api) -> None:
    buy_id = _limit_buy(api)["data"]["id"]
    api.post_order({"quantity": "0.001", "price": "4100000", "orderMethod": "limit", "orderType": "sell",
                    "pairSymbol": "BTCTRY"})  # fmt: skip
    data = api.get("/api/v1/openOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    assert data["asks"] == []  # the sell had no BTC to lock
    (bid,) = data["bids"]
    assert set(bid) == ORDER_FIELDS
    assert bid["id"] == buy_id and bid["time"] == 0 and bid["status"] == "Untouched"
    assert bid["orderClientId"] == "cid-1" and bid["leftAmount"] == "0.001"
    single = api.get(f"/api/v1/order/{buy_id}", signed=True).json()["data"]
    assert single["time"] > 0 and single["id"] == buy_id


def test_sell_without_base_is_balance_not_enough(api: Api) -> None:
    resp = api.post_order({"quantity": "0.001", "price": "4100000", "orderMethod": "limit", "orderType": "sell",
                           "pairSymbol": "BTCTRY"})  # fmt: skip
    assert resp.status_code == 400
    assert resp.json() == {"success": False, "message": "BALANCE_NOT_ENOUGH", "code": 1055, "data": None,
                           "httpStatusCode": 400}


def test_market_buy_quote_quantity_rows_and_fills(api: Api, sim: SimHandle) -> None:
    resp = api.post_order({"pairSymbol": "BTCTRY", "quantity": "1000", "orderMethod": "market",
                           "orderType": "buy", "stopPrice": "0"})  # fmt: skip
    ack = resp.json()["data"]
    assert ack["quantity"] == "1000"  # echoes the QUOTE amount
    rows = api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY").json()["data"]
    row = next(r for r in rows if r["id"] == ack["id"])
    assert row["status"] == "Closed" and row["quantity"] == "0.0000000000000001"  # reference §6.3 oddity
    fills = api.get("/api/v1/users/transactions/trade", signed=True, orderId=ack["id"]).json()["data"]
    assert fills and all(f["orderId"] == ack["id"] for f in fills)
    assert sum(Decimal(f["amount"]) for f in fills) == Decimal(row["amount"])
    spent = sum(Decimal(f["amount"]) * Decimal(f["price"]) for f in fills)
    assert Decimal("990") < spent <= Decimal("1000")
    f = fills[0]
    assert f["fee"].startswith("-") and f["tax"].startswith("-") and isinstance(f["id"], int)
    assert f["orderType"] == "buy" and f["numeratorSymbol"] == "BTC" and f["denominatorSymbol"] == "TRY"
    assert isinstance(f["preciseAmount"], int | float)
    # sell it back: amounts of sells are negative strings
    sold = api.post_order({"pairSymbol": "BTCTRY", "quantity": row["amount"], "orderMethod": "market",
                           "orderType": "sell"}).json()["data"]  # fmt: skip
    sell_fills = api.get("/api/v1/users/transactions/trade", signed=True, orderId=sold["id"]).json()["data"]
    assert sell_fills and all(s["amount"].startswith("-") for s in sell_fills)
    by_pair = api.get("/api/v1/users/transactions/trade", signed=True, pairSymbol="BTCTRY",
                      startDate=1_767_225_000_000, endDate=1_767_226_000_000).json()["data"]  # fmt: skip
    assert {t["orderId"] for t in by_pair} == {ack["id"], sold["id"]}


def test_all_orders_times_in_seconds_and_ms_gives_1038(api: Api) -> None:
    _limit_buy(api)
    ok = api.get(
        "/api/v1/allOrders", signed=True, pairSymbol="BTCTRY", startTime=1_767_225_000, endTime=1_767_226_000
    )
    assert len(ok.json()["data"]) == 1
    bad = api.get("/api/v1/allOrders", signed=True, pairSymbol="BTCTRY", startTime=1_767_225_000_000)
    assert bad.status_code == 400
    assert bad.json()["message"] == "startTime cannot be bigger than current unix timestamp."
    assert bad.json()["code"] == 1038


def test_cancel_is_requested_then_canceled_after_the_delay(api: Api, sim: SimHandle) -> None:
    order_id = _limit_buy(api)["data"]["id"]
    resp = api.cancel(order_id)
    assert resp.status_code == 200 and resp.json() == {"success": True, "message": "SUCCESS", "code": 0}
    assert api.get(f"/api/v1/order/{order_id}", signed=True).json()["data"]["status"] == "Untouched"
    sim.admin.advance(1.0)
    assert api.get(f"/api/v1/order/{order_id}", signed=True).json()["data"]["status"] == "Canceled"
    assert api.get("/api/v1/openOrders", signed=True).json()["data"]["bids"] == []
    again = api.cancel(order_id)
    assert again.status_code == 400 and again.json()["message"] == "ORDER_COULD_NOT_BE_CANCELED"
    unknown = api.cancel(12345)
    assert unknown.json()["message"] == "NO_ORDER_MATCHES_YOUR_REQUEST" and unknown.json()["code"] == 1052


def test_unknown_single_order_is_400_1152(api: Api) -> None:
    resp = api.get("/api/v1/order/999", signed=True)
    assert resp.status_code == 400
    assert resp.json()["message"] == "Order not found" and resp.json()["code"] == 1152


def test_submit_without_json_content_type_is_415(api: Api, sim: SimHandle) -> None:
    resp = api.session.post(
        sim.base_url + "/api/v1/order",
        data=b'{"quantity":"1000","orderMethod":"market","orderType":"buy","pairSymbol":"BTCTRY"}',
        headers=api.headers(),
        timeout=5,
    )
    assert resp.status_code == 415
    assert sim.engine.orders == {}


def test_scale_errors_over_http(api: Api) -> None:
    price = api.post_order({"quantity": "0.001", "price": "3800000.5", "orderMethod": "limit", "orderType": "buy",
                            "pairSymbol": "BTCTRY"})  # fmt: skip
    assert (price.json()["message"], price.json()["code"]) == ("FAILED_INVALID_PRICE_SCALE", 1126)
    qty = api.post_order(
        {"quantity": "10.123", "orderMethod": "market", "orderType": "buy", "pairSymbol": "XRPTRY"}
    )
    # market buy quantity is TRY: more than 2 decimals is a quantity-scale error
    assert (qty.json()["message"], qty.json()["code"]) == ("FAILED_INVALID_QUANTITY_SCALE", 1127)
