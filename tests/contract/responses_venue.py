"""A small stateful BTC Turk stand-in served through `responses`, for the contract suite.

Every answer is built from the example payloads in tests/fixtures/btcturk (copies of
/work/shared/btcturk_examples plus crafted exchangeinfo/klines/user trades): the example's keys,
casing and number types are kept and only the values change. Semantics are deliberately simple:
marketable orders fill completely at the best price, others rest; cancels complete one second
after they are accepted (BTC Turk cancels asynchronously).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import responses
from requests import PreparedRequest

from btcbot.adapters.clock import ManualClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "btcturk"
FEE_RATE = Decimal("0.002")
TAX_RATE = Decimal("0.20")
SPREAD = Decimal("0.001")
CANCEL_DELAY_S = 1.0
FIRST_ID = 2**53 + 1  # ids above 2**53, like the real venue

Reply = tuple[int, dict[str, str], str]


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _ok(data: Any, message: str | None = None) -> Reply:
    return 200, {}, json.dumps({"success": True, "message": message, "code": 0, "data": data})


def _error(message: str, code: int) -> Reply:
    body = _load("rest_400_order_error_docs.json")  # {"success": false, "message", "code"}
    body.update(message=message, code=code)
    return 400, {}, json.dumps(body)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@dataclass
class _Order:
    id: int
    symbol: str
    side: str  # "buy" / "sell"
    method: str  # "limit" / "market"
    price: Decimal
    amount: Decimal
    left: Decimal
    client_id: str
    time_ms: int
    update_ms: int
    status: str = "Untouched"
    locked: Decimal = Decimal(0)
    cancel_due_ms: int | None = None


class FakeVenue:
    """Register with :meth:`install`; drive time with the shared ManualClock."""

    def __init__(self, clock: ManualClock, base_url: str, graph_url: str, balances: dict[str, Decimal]) -> None:
        self.clock = clock
        self.base = base_url.rstrip("/")
        self.graph = graph_url.rstrip("/")
        self.info = _load("exchangeinfo_crafted.json")
        self.rules = {s["name"]: s for s in self.info["data"]["symbols"] if s["status"] == "TRADING"}
        self.prices = {"BTCTRY": Decimal("3612000"), "ETHTRY": Decimal("120000"), "XRPTRY": Decimal("25.1234"),
                       "AVAXTRY": Decimal("1300"), "SOLTRY": Decimal("6500"), "BTCUSDT": Decimal("100000")}  # fmt: skip
        self.free: dict[str, Decimal] = {a: Decimal(0) for a in ("TRY", "BTC", "ETH", "XRP", "AVAX", "SOL", "USDT")}
        self.locked: dict[str, Decimal] = dict.fromkeys(self.free, Decimal(0))
        self.free.update(balances)
        self.orders: dict[int, _Order] = {}
        self.fills: list[dict[str, Any]] = []
        self._next_id = FIRST_ID

    # ----------------------------------------------------------------- wiring

    def install(self, rsps: responses.RequestsMock) -> None:
        b, g = self.base, self.graph
        routes: list[tuple[str, str | re.Pattern[str], Any]] = [
            ("GET", f"{b}/api/v2/server/time", self.server_time),
            ("GET", f"{b}/api/v2/server/exchangeinfo", self.exchange_info),
            ("GET", re.compile(re.escape(f"{b}/api/v2/ticker") + r"(\?.*)?$"), self.ticker),
            ("GET", re.compile(re.escape(f"{b}/api/v2/orderbook") + r"\?.*"), self.order_book),
            ("GET", re.compile(re.escape(f"{g}/v1/klines/history") + r"\?.*"), self.klines),
            ("GET", f"{b}/api/v1/users/balances", self.balances),
            ("GET", re.compile(re.escape(f"{b}/api/v1/openOrders") + r"(\?.*)?$"), self.open_orders),
            ("GET", re.compile(re.escape(f"{b}/api/v1/allOrders") + r"\?.*"), self.all_orders),
            ("GET", re.compile(re.escape(f"{b}/api/v1/order/") + r"\d+$"), self.get_order),
            ("GET", re.compile(re.escape(f"{b}/api/v1/users/transactions/trade") + r"\?.*"), self.user_trades),
            ("POST", f"{b}/api/v1/order", self.submit),
            ("DELETE", re.compile(re.escape(f"{b}/api/v1/order") + r"\?.*"), self.cancel),
        ]
        for method, url, handler in routes:
            rsps.add_callback(method, url, callback=self._wrap(handler))

    def _wrap(self, handler: Any) -> Any:
        def callback(request: PreparedRequest) -> Reply:
            self._settle_cancels()
            query = {k: v[0] for k, v in parse_qs(urlparse(request.url or "").query).items()}
            reply: Reply = handler(request, query)
            return reply

        return callback

    # ----------------------------------------------------------------- helpers

    def _now_ms(self) -> int:
        return _ms(self.clock.now())

    def _bid_ask(self, symbol: str) -> tuple[Decimal, Decimal]:
        scale = Decimal(1).scaleb(-int(self.rules[symbol]["denominatorScale"]))
        mid = self.prices[symbol]
        return (mid * (1 - SPREAD)).quantize(scale, ROUND_DOWN), (mid * (1 + SPREAD)).quantize(scale, ROUND_DOWN)

    def _settle_cancels(self) -> None:
        now = self._now_ms()
        for o in self.orders.values():
            if o.cancel_due_ms is not None and now >= o.cancel_due_ms and o.status in ("Untouched", "Partial"):
                o.status, o.update_ms = "Canceled", now
                self._release(o)

    def _assets(self, symbol: str) -> tuple[str, str]:
        r = self.rules[symbol]
        return r["numerator"], r["denominator"]

    def _release(self, o: _Order) -> None:
        base, quote = self._assets(o.symbol)
        asset = quote if o.side == "buy" else base
        self.locked[asset] -= o.locked
        self.free[asset] += o.locked
        o.locked = Decimal(0)

    def _order_json(self, o: _Order, *, zero_time: bool = False) -> dict[str, Any]:
        row: dict[str, Any] = copy.deepcopy(_load("rest_open_orders_response_docs_truncated.json")["data"]["asks"][0])
        base, quote = self._assets(o.symbol)
        row.update(
            id=o.id, price=str(o.price), amount=str(o.amount), quantity=str(o.amount), stopPrice="0.00",
            pairSymbol=o.symbol, pairSymbolNormalized=f"{base}_{quote}", type=o.side, method=o.method,
            orderClientId=o.client_id, time=0 if zero_time else o.time_ms, updateTime=o.update_ms,
            status=o.status, leftAmount=str(o.left),
        )  # fmt: skip
        return row

    # ----------------------------------------------------------------- public routes

    def server_time(self, _r: PreparedRequest, _q: dict[str, str]) -> Reply:
        body = _load("rest_server_time_response_outlier1_docs.json")
        body["serverTime"] = self._now_ms()
        body["serverTime2"] = self.clock.now().isoformat()
        return 200, {}, json.dumps(body)

    def exchange_info(self, _r: PreparedRequest, _q: dict[str, str]) -> Reply:
        info = copy.deepcopy(self.info)
        info["data"]["serverTime"] = self._now_ms()
        return 200, {}, json.dumps(info)

    def ticker(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        template = _load("rest_ticker_response_docs_legacy.json")
        rows = []
        for symbol in self.rules:
            if q.get("pairSymbol") and q["pairSymbol"].replace("_", "") != symbol:
                continue
            bid, ask = self._bid_ask(symbol)
            base, quote = self._assets(symbol)
            row = dict(template["data"][0])
            last = self.prices[symbol]
            row.update(
                pair=symbol, pairNormalized=f"{base}_{quote}", timestamp=self._now_ms(), last=float(last),
                high=float(ask), low=float(bid), bid=float(bid), ask=float(ask), open=float(last), volume=12.5,
                average=float(last), daily=0, dailyPercent=0, denominatorSymbol=quote, numeratorSymbol=base,
            )  # fmt: skip
            rows.append(row)
        template["data"] = rows
        return 200, {}, json.dumps(template)

    def order_book(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        symbol = q["pairSymbol"].replace("_", "")
        limit = int(q.get("limit", "100"))
        bid, ask = self._bid_ask(symbol)
        step = Decimal(str(self.rules[symbol]["filters"][0]["tickSize"]))
        body = _load("rest_orderbook_response_docs.json")
        body["data"]["timestamp"] = self._now_ms()
        body["data"]["bids"] = [[str(bid - i * step), "0.5"] for i in range(min(limit, 10))]
        body["data"]["asks"] = [[str(ask + i * step), "0.5"] for i in range(min(limit, 10))]
        return 200, {}, json.dumps(body)

    def klines(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        symbol = q["symbol"].replace("_", "")
        length = int(q["resolution"]) * 60
        now_s = self._now_ms() // 1000
        start, end = int(q["from"]), min(int(q["to"]), now_s)
        first = -(-start // length) * length
        times = list(range(first, end + 1, length))
        if not times:
            return 200, {}, json.dumps(_load("klines_no_data_crafted.json"))
        price = float(self.prices[symbol])
        body = _load("klines_crafted.json")
        body.update(t=times, o=[price] * len(times), h=[price * 1.01] * len(times), l=[price * 0.99] * len(times),
                    c=[price] * len(times), v=[1.5] * len(times))  # fmt: skip
        return 200, {}, json.dumps(body)

    # ----------------------------------------------------------------- private routes

    def balances(self, _r: PreparedRequest, _q: dict[str, str]) -> Reply:
        item = _load("rest_account_balance_item_outlier1_docs.json")
        rows = []
        for asset in self.free:
            row = dict(item)
            total = self.free[asset] + self.locked[asset]
            row.update(asset=asset, assetname=asset, balance=str(total), locked=str(self.locked[asset]),
                       free=str(self.free[asset]), orderFund=str(self.locked[asset]), requestFund="0",
                       precision=2 if asset == "TRY" else 8)  # fmt: skip
            rows.append(row)
        return _ok(rows)

    def open_orders(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        pair = q.get("pairSymbol", "").replace("_", "")
        live = [o for o in self.orders.values() if o.status in ("Untouched", "Partial") and (not pair or o.symbol == pair)]
        return _ok({
            "asks": [self._order_json(o, zero_time=True) for o in live if o.side == "sell"],
            "bids": [self._order_json(o, zero_time=True) for o in live if o.side == "buy"],
        })  # fmt: skip

    def all_orders(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        pair = q["pairSymbol"].replace("_", "")
        start = int(q["startTime"]) * 1000 if "startTime" in q else 0
        end = int(q["endTime"]) * 1000 + 999 if "endTime" in q else 2**62
        rows = [self._order_json(o) for o in sorted(self.orders.values(), key=lambda o: -o.id)
                if o.symbol == pair and start <= o.time_ms <= end]  # fmt: skip
        return _ok(rows[: int(q.get("limit", "100"))])

    def get_order(self, r: PreparedRequest, _q: dict[str, str]) -> Reply:
        order_id = int((r.url or "").rsplit("/", 1)[1])
        if order_id not in self.orders:
            return 400, {}, json.dumps(_load("rest_get_single_order_not_found_docs.json"))
        body = _load("rest_get_single_order_response_docs.json")
        body["data"] = self._order_json(self.orders[order_id])
        return 200, {}, json.dumps(body)

    def user_trades(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        rows = self.fills
        if "orderId" in q:
            rows = [f for f in rows if f["orderId"] == int(q["orderId"])]
        if "pairSymbol" in q:
            pair = q["pairSymbol"].replace("_", "")
            rows = [f for f in rows if f["numeratorSymbol"] + f["denominatorSymbol"] == pair]
        if "startDate" in q:
            rows = [f for f in rows if int(q["startDate"]) <= f["timestamp"] <= int(q["endDate"])]
        return _ok(rows, "SUCCESS")

    def submit(self, r: PreparedRequest, _q: dict[str, str]) -> Reply:
        if r.headers.get("Content-Type") != "application/json":
            return 415, {}, ""
        body = json.loads(r.body or b"{}")
        symbol = body["pairSymbol"].replace("_", "")
        rules = self.rules[symbol]
        side, method = body["orderType"].lower(), body["orderMethod"].lower()
        qty = Decimal(body["quantity"])
        base, quote = self._assets(symbol)
        bid, ask = self._bid_ask(symbol)
        minimum = Decimal(rules["filters"][0]["minExchangeValue"])
        cost_factor = 1 + FEE_RATE * (1 + TAX_RATE)
        now = self._now_ms()
        if method == "market" and side == "buy":
            notional, lock_asset, lock = qty, quote, qty * cost_factor
            price = ask
        else:
            price = Decimal(body["price"]) if method == "limit" else (bid if side == "sell" else ask)
            notional = qty * price
            lock_asset, lock = (quote, notional * cost_factor) if side == "buy" else (base, qty)
        if notional < minimum:
            return _error("FAILED_MIN_TOTAL_AMOUNT", 1123)
        if self.free[lock_asset] < lock:
            return _error("BALANCE_NOT_ENOUGH", 1055)
        self.free[lock_asset] -= lock
        self.locked[lock_asset] += lock
        amount = qty if not (method == "market" and side == "buy") else Decimal(0)
        order = _Order(self._next_id, symbol, side, method, price, amount, amount, body.get("newOrderClientId", ""),
                       now, now, locked=lock)  # fmt: skip
        self._next_id += 1
        self.orders[order.id] = order
        marketable = method == "market" or (side == "buy" and price >= ask) or (side == "sell" and price <= bid)
        if marketable:
            self._fill(order, ask if side == "buy" else bid, qty)
        ack = _load("rest_submit_order_response_docs.json")
        ack["data"].update(id=order.id, datetime=now, type=side.title(), method=method.title(), price=str(price),
                           stopPrice="0", quantity=body["quantity"], pairSymbol=symbol,
                           pairSymbolNormalized=f"{base}_{quote}", newOrderClientId=order.client_id)  # fmt: skip
        return 200, {}, json.dumps(ack)

    def _fill(self, o: _Order, price: Decimal, qty: Decimal) -> None:
        scale = Decimal(1).scaleb(-int(self.rules[o.symbol]["numeratorScale"]))
        base_qty = (qty / price).quantize(scale, ROUND_DOWN) if o.method == "market" and o.side == "buy" else qty
        notional = base_qty * price
        fee = notional * FEE_RATE
        tax = fee * TAX_RATE
        base, quote = self._assets(o.symbol)
        self._release(o)
        if o.side == "buy":
            self.free[quote] -= notional + fee + tax
            self.free[base] += base_qty
        else:
            self.free[base] -= base_qty
            self.free[quote] += notional - fee - tax
        o.amount = o.amount or base_qty
        o.left, o.status, o.update_ms = Decimal(0), "Closed", self._now_ms()
        row = dict(_load("user_trades_crafted.json")["data"][0])
        row.update(price=str(price), numeratorSymbol=base, denominatorSymbol=quote, orderType=o.side, orderId=o.id,
                   id=o.id + 10**6, timestamp=self._now_ms(),
                   amount=str(base_qty if o.side == "buy" else -base_qty), preciseAmount=float(base_qty),
                   fee=str(-fee), tax=str(-tax), orderClientId=o.client_id)  # fmt: skip
        self.fills.append(row)

    def cancel(self, _r: PreparedRequest, q: dict[str, str]) -> Reply:
        order = self.orders.get(int(q["id"]))
        if order is None:
            return 400, {}, json.dumps(_load("rest_400_order_error_docs.json"))
        if order.status not in ("Untouched", "Partial"):
            return _error("ORDER_COULD_NOT_BE_CANCELED", 0)
        order.cancel_due_ms = self._now_ms() + int(CANCEL_DELAY_S * 1000)
        return 200, {}, json.dumps(_load("rest_cancel_order_response_docs.json"))

    def set_balance(self, asset: str, amount: Decimal) -> None:
        self.free[asset] = amount
