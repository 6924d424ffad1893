"""Admin routes under the reserved ``/__sim/`` prefix (never used by a BTC Turk client).

POST   /__sim/advance   {"seconds": N}              move the market clock (and the engine)
POST   /__sim/balance   {"asset": "TRY", "amount": "1000"}  set a free balance
POST   /__sim/price     {"symbol": "BTCTRY", "price": "3900000"}  jump a price (fills crossed orders)
GET    /__sim/state     orders, trades, balances, prices, clock, faults, request log
GET    /__sim/faults    active faults
POST   /__sim/faults    {"route": "POST /api/v1/order", "kind": "ghost", "count": 1, ...}
DELETE /__sim/faults    clear all faults
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from btcbot.sim.engine.money import plain
from btcbot.sim.faults import FaultSpec
from btcbot.sim.http.request import BadParam, Request, Response

if TYPE_CHECKING:
    from btcbot.sim.http.app import CallContext, Route, SimApp


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BadParam(f"{name} must be a decimal") from None


def build(app: SimApp) -> list[Route]:
    from btcbot.sim.http.app import Route

    def body(req: Request) -> dict[str, Any]:
        data = app.json_body(req)
        if not isinstance(data, dict):
            raise BadParam("JSON object expected")
        return data

    def advance(req: Request, ctx: CallContext) -> Response:
        seconds = float(_decimal(body(req).get("seconds", 0), "seconds"))
        if seconds < 0:
            raise BadParam("seconds must be >= 0")
        app.clock.advance(seconds)
        now = app.sync()
        return Response(200, {"ok": True, "now_ms": now})

    def balance(req: Request, ctx: CallContext) -> Response:
        data = body(req)
        amount = _decimal(data.get("amount"), "amount")
        if amount < 0:
            raise BadParam("amount must be >= 0")
        app.sync()
        app.engine.set_balance(str(data.get("asset", "")).upper(), amount)
        return Response(200, {"ok": True})

    def price(req: Request, ctx: CallContext) -> Response:
        data = body(req)
        value = _decimal(data.get("price"), "price")
        if value <= 0:
            raise BadParam("price must be > 0")
        app.sync()
        app.engine.set_price(str(data.get("symbol", "")), value)
        return Response(200, {"ok": True})

    def state(req: Request, ctx: CallContext) -> Response:
        app.sync()
        return Response(200, snapshot(app))

    def faults_get(req: Request, ctx: CallContext) -> Response:
        return Response(200, {"faults": app.faults.describe()})

    def faults_add(req: Request, ctx: CallContext) -> Response:
        data = dict(body(req))
        route = str(data.pop("route", "*"))
        try:
            spec = FaultSpec.from_mapping(data)
        except (TypeError, ValueError) as exc:
            raise BadParam(str(exc)) from None
        app.faults.add(route, spec)
        return Response(200, {"ok": True, "faults": app.faults.describe()})

    def faults_clear(req: Request, ctx: CallContext) -> Response:
        app.faults.clear()
        return Response(200, {"ok": True})

    table = [
        ("POST", "/__sim/advance", advance),
        ("POST", "/__sim/balance", balance),
        ("POST", "/__sim/price", price),
        ("GET", "/__sim/state", state),
        ("GET", "/__sim/faults", faults_get),
        ("POST", "/__sim/faults", faults_add),
        ("DELETE", "/__sim/faults", faults_clear),
    ]
    return [Route(m, re.compile(re.escape(t)), t, fn, False) for m, t, fn in table]


def snapshot(app: SimApp) -> dict[str, Any]:
    """Full state as JSON-able data (Decimals as strings). Caller holds ``app.lock``."""
    engine = app.engine
    return {
        "now_ms": engine.now_ms,
        "clock": {"mode": app.clock.mode, "speed": app.clock.speed},
        "prices": {s: plain(p.price) for s, p in engine.pairs.items()},
        "balances": {
            a: {"free": plain(engine.accounts.free(a)), "locked": plain(engine.accounts.locked(a))}
            for a in engine.accounts.assets()
        },
        "orders": [
            {
                "id": o.id,
                "client_id": o.client_id,
                "symbol": o.symbol,
                "side": o.side,
                "method": o.method,
                "price": plain(o.price),
                "quantity": plain(o.quantity),
                "amount": plain(o.amount),
                "left": plain(o.left),
                "status": o.status,
                "created_ms": o.created_ms,
                "updated_ms": o.updated_ms,
                "visible_ms": o.visible_ms,
                "cancel_at_ms": o.cancel_at_ms,
                "lock_asset": o.lock_asset,
                "lock_remaining": plain(o.lock_remaining),
            }
            for o in engine.orders.values()
        ],
        "trades": [
            {
                "id": t.id,
                "order_id": t.order_id,
                "client_id": t.client_id,
                "symbol": t.symbol,
                "side": t.side,
                "price": plain(t.price),
                "amount": plain(t.amount),
                "fee": plain(t.fee),
                "tax": plain(t.tax),
                "timestamp_ms": t.timestamp_ms,
                "maker": t.maker,
            }
            for t in engine.trades
        ],
        "faults": app.faults.describe(),
        "request_log": list(app.request_log),
    }
