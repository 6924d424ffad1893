"""BTC Turk routes served by the simulator (public v2, private v1, graph v1)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from btcbot.sim.engine.candles import DAY_S, parse_resolution
from btcbot.sim.engine.orders import FAILED_ORDER_PARAMETER, SimReject, reject
from btcbot.sim.http import wire
from btcbot.sim.http.request import BadParam, Request, Response, wire_decimal

if TYPE_CHECKING:
    from btcbot.sim.http.app import CallContext, Route, SimApp

START_TIME_TOO_BIG = ("startTime cannot be bigger than current unix timestamp.", 1038)
_BODY_KEYS = ("quantity", "price", "stopprice", "neworderclientid", "ordermethod", "ordertype", "pairsymbol")


def build(app: SimApp) -> list[Route]:
    """The route table; templates are lower-case and match case-insensitively."""
    from btcbot.sim.http.app import Route

    h = _Handlers(app)
    table: list[tuple[str, str, Any, bool]] = [
        ("GET", "/api/v2/server/time", h.server_time, False),
        ("GET", "/api/v2/server/exchangeinfo", h.exchange_info, False),
        ("GET", "/api/v2/ticker", h.ticker, False),
        ("GET", "/api/v2/orderbook", h.orderbook, False),
        ("GET", "/api/v2/trades", h.trades, False),
        ("GET", "/api/v1/trades", h.trades, False),
        ("GET", "/v1/klines/history", h.klines, False),
        ("GET", "/v1/ohlcs", h.ohlcs, False),
        ("GET", "/api/v1/users/balances", h.balances, True),
        ("GET", "/api/v1/users/transactions/trade", h.user_trades, True),
        ("GET", "/api/v1/openorders", h.open_orders, True),
        ("GET", "/api/v1/allorders", h.all_orders, True),
        ("GET", "/api/v1/order/{id}", h.get_order, True),
        ("POST", "/api/v1/order", h.submit, True),
        ("DELETE", "/api/v1/order", h.cancel, True),
    ]
    routes = []
    for method, template, handler, private in table:
        regex = re.escape(template).replace(re.escape("{id}"), r"(?P<id>[^/]+)")
        routes.append(Route(method, re.compile(regex), template, handler, private))
    return routes


def _required(req: Request, *names: str) -> str:
    for name in names:
        value = req.arg(name)
        if value:
            return value
    raise BadParam(f"{names[0]} is required")


class _Handlers:
    def __init__(self, app: SimApp) -> None:
        self.app = app
        self.engine = app.engine

    # ----------------------------------------------------------------- public
    def server_time(self, req: Request, ctx: CallContext) -> Response:
        return Response(200, wire.server_time(self.engine.now_ms))

    def exchange_info(self, req: Request, ctx: CallContext) -> Response:
        return Response(200, wire.ok(wire.exchange_info(self.engine.pairs.values(), self.engine.now_ms)))

    def _stamp(self, ctx: CallContext) -> int:
        return self.engine.now_ms - int(ctx.ticker_lag_s * 1000)

    def ticker(self, req: Request, ctx: CallContext) -> Response:
        symbol = req.arg("pairSymbol")
        states = [self.engine.pair(symbol)] if symbol else list(self.engine.pairs.values())
        rows = [
            wire.ticker(s, self.engine.book(s.spec.symbol), self.engine.now_ms, self._stamp(ctx))
            for s in states
        ]
        return Response(200, wire.ok(rows))

    def orderbook(self, req: Request, ctx: CallContext) -> Response:
        symbol = _required(req, "pairSymbol")
        limit = min(max(req.int_arg("limit") or 100, 1), 1000)
        book = self.engine.book(symbol)
        return Response(200, wire.ok(wire.order_book(book, limit, self._stamp(ctx))))

    def trades(self, req: Request, ctx: CallContext) -> Response:
        state = self.engine.pair(_required(req, "pairSymbol"))
        last = min(max(req.int_arg("last") or 50, 1), 50)
        return Response(200, wire.ok(wire.public_trades(state, last)))

    def _graph_window(self, req: Request, default_span_s: int) -> tuple[int, int]:
        now_s = self.engine.now_ms // 1000
        to_s = req.int_arg("to") or now_s
        from_s = req.int_arg("from")
        return (from_s if from_s is not None else to_s - default_span_s), min(to_s, now_s)

    def klines(self, req: Request, ctx: CallContext) -> Response:
        try:
            state = self.engine.pair(_required(req, "symbol", "pair"))
            length = parse_resolution(req.arg("resolution") or "1")
        except (SimReject, BadParam, ValueError) as exc:
            return Response(400, {"s": "error", "errmsg": str(exc)})
        from_s, to_s = self._graph_window(req, 300 * length)
        bars = state.candles.bars(length, from_s, to_s)
        return Response(200, wire.klines(bars))

    def ohlcs(self, req: Request, ctx: CallContext) -> Response:
        state = self.engine.pair(_required(req, "pair", "pairSymbol"))
        from_s, to_s = self._graph_window(req, 30 * DAY_S)
        return Response(200, wire.ohlcs(state.spec, state.candles.bars(DAY_S, from_s, to_s)))

    # ----------------------------------------------------------------- private
    def balances(self, req: Request, ctx: CallContext) -> Response:
        return Response(200, wire.ok(wire.balances(self.engine.accounts, self.engine.now_ms)))

    def user_trades(self, req: Request, ctx: CallContext) -> Response:
        order_id = req.int_arg("orderId")
        symbol = req.arg("pairSymbol")
        trades = self.engine.user_trades(
            order_id=order_id,
            symbol=symbol,
            sides=tuple(s.lower() for s in req.args("type")),
            assets=tuple(req.args("symbol")),
            start_ms=req.int_arg("startDate"),
            end_ms=req.int_arg("endDate"),
        )
        rows = [wire.user_trade(t, self.engine.pairs[t.symbol].spec) for t in trades]
        return Response(200, wire.ok(rows, "SUCCESS"))

    def open_orders(self, req: Request, ctx: CallContext) -> Response:
        orders = self.engine.open_orders(req.arg("pairSymbol"))
        spec = {s: p.spec for s, p in self.engine.pairs.items()}
        asks = [wire.order(o, spec[o.symbol], zero_time=True) for o in orders if o.side == "sell"]
        bids = [wire.order(o, spec[o.symbol], zero_time=True) for o in orders if o.side == "buy"]
        return Response(200, wire.ok({"asks": asks, "bids": bids}))

    def all_orders(self, req: Request, ctx: CallContext) -> Response:
        symbol = _required(req, "pairSymbol")
        now_s = self.engine.now_ms // 1000
        start_s, end_s = req.int_arg("startTime"), req.int_arg("endTime")
        if start_s is not None and start_s > now_s:
            raise SimReject(*START_TIME_TOO_BIG)
        page = max(req.int_arg("page") or 1, 1)
        limit = min(max(req.int_arg("limit") or 100, 1), 1000)
        orders = self.engine.all_orders(
            symbol,
            min_id=req.int_arg("orderId") or 0,
            start_ms=None if start_s is None else start_s * 1000,
            end_ms=None if end_s is None else end_s * 1000 + 999,
        )
        chunk = orders[(page - 1) * limit : page * limit]
        spec = self.engine.pair(symbol).spec
        return Response(200, wire.ok([wire.order(o, spec) for o in chunk]))

    def get_order(self, req: Request, ctx: CallContext) -> Response:
        raw = ctx.match.group("id")
        try:
            order_id = int(raw)
        except ValueError:
            raise SimReject("Order not found", 1152) from None
        order = self.engine.get_order(order_id)
        return Response(200, wire.ok(wire.order(order, self.engine.pairs[order.symbol].spec)))

    def submit(self, req: Request, ctx: CallContext) -> Response:
        """POST /api/v1/order; every JSON answer carries ``httpStatusCode`` like the real one (§5.6)."""
        try:
            resp = self._submit(req, ctx)
        except SimReject as exc:
            resp = Response(exc.http_status, wire.fail(exc.message, exc.code))
        except BadParam as exc:
            resp = Response(400, wire.fail(exc.message, exc.code))
        if isinstance(resp.body, dict) and "success" in resp.body:
            resp.body["httpStatusCode"] = resp.status
        return resp

    def _submit(self, req: Request, ctx: CallContext) -> Response:
        content_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            problem = {
                "type": "https://tools.ietf.org/html/rfc7231#section-6.5.13",
                "title": "Unsupported Media Type",
                "status": 415,
            }
            return Response(415, problem, content_type="application/problem+json; charset=utf-8")
        body = self.app.json_body(req)
        if not isinstance(body, dict):
            raise reject(FAILED_ORDER_PARAMETER)
        fields: dict[str, Any] = {k.lower(): v for k, v in body.items() if k.lower() in _BODY_KEYS}
        for key in _BODY_KEYS:  # query wins over body (reference §3)
            if req.arg(key) is not None:
                fields[key] = req.arg(key)
        method = str(fields.get("ordermethod") or "").lower()
        price_raw = fields.get("price")
        price = wire_decimal(price_raw, "price") if method == "limit" and price_raw is not None else None
        client_id = fields.get("neworderclientid")
        order = self.engine.place_order(
            symbol=str(fields.get("pairsymbol") or ""),
            side=str(fields.get("ordertype") or ""),
            method=method,
            quantity=wire_decimal(fields.get("quantity"), "quantity"),
            price=price,
            client_id=str(client_id) if client_id not in (None, "") else None,
            visible_delay_ms=int(ctx.visibility_delay_s * 1000),
        )
        return Response(200, wire.ok(wire.submit_ack(order, self.engine.pairs[order.symbol].spec), "SUCCESS"))

    def cancel(self, req: Request, ctx: CallContext) -> Response:
        raw = req.arg("id")
        if raw is None:
            body = self.app.json_body(req) if req.body else {}
            raw = str(body.get("id")) if isinstance(body, dict) and body.get("id") is not None else None
        if raw is None or not raw.lstrip("-").isdigit():
            raise reject(FAILED_ORDER_PARAMETER)
        self.engine.cancel_order(int(raw))
        return Response(200, {"success": True, "message": "SUCCESS", "code": 0})
