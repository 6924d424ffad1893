"""Admin routes under the reserved ``/__sim/`` prefix (never used by a BTC Turk client).

POST   /__sim/advance   {"seconds": N}              move the market clock (and the engine)
POST   /__sim/balance   {"asset": "TRY", "amount": "1000"}  set a free balance
POST   /__sim/price     {"symbol": "BTCTRY", "price": "3900000"}  jump a price (fills crossed orders)
GET    /__sim/state     orders, trades, balances, prices, clock, faults, request log
GET    /__sim/faults    active faults
POST   /__sim/faults    {"route": "POST /api/v1/order", "kind": "ghost", "count": 1, ...}
DELETE /__sim/faults    clear all faults
GET    /__sim/counters  request, fault and reply-class counts
DELETE /__sim/counters  reset the counts

Numbers must be finite and sensible (``nan``, ``inf``, ``1e309``, negatives and absurd magnitudes
are a 400 with a message naming the field); nothing is changed by a refused call.
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


#: Largest accepted single clock jump (one leap year) and the bounds of admin amounts/prices.
MAX_ADVANCE_S = Decimal(366 * 86_400)
MAX_AMOUNT = Decimal("1e15")
MAX_PRICE = Decimal("1e12")
MIN_PRICE = Decimal("1e-8")
#: A price is at least this many ticks of its pair (the random walk must not round to zero).
MIN_PRICE_TICKS = 1000


def _decimal(value: Any, name: str, low: Decimal, high: Decimal, *, low_open: bool = False) -> Decimal:
    """A finite decimal within bounds, else BadParam (400) naming the field."""
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str, Decimal)):
        raise BadParam(f"{name} must be a decimal number")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise BadParam(f"{name} must be a decimal number, not {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise BadParam(f"{name} must be finite, not {str(value)[:40]!r}")
    too_low = number <= low if low_open else number < low
    if too_low or number > high:
        bracket = "(" if low_open else "["
        raise BadParam(f"{name} must be within {bracket}{low}, {high}], not {str(value)[:40]}")
    return number


def build(app: SimApp) -> list[Route]:
    from btcbot.sim.http.app import Route

    def body(req: Request) -> dict[str, Any]:
        data = app.json_body(req)
        if not isinstance(data, dict):
            raise BadParam("JSON object expected")
        return data

    def advance(req: Request, ctx: CallContext) -> Response:
        seconds = float(_decimal(body(req).get("seconds", 0), "seconds", Decimal(0), MAX_ADVANCE_S))
        app.clock.advance(seconds)
        now = app.sync()
        return Response(200, {"ok": True, "now_ms": now})

    def balance(req: Request, ctx: CallContext) -> Response:
        data = body(req)
        amount = _decimal(data.get("amount"), "amount", Decimal(0), MAX_AMOUNT)
        asset = str(data.get("asset", "")).strip().upper()
        if not asset.isalnum() or len(asset) > 10:
            raise BadParam("asset must be an asset symbol such as TRY or BTC")
        app.sync()
        app.engine.set_balance(asset, amount)
        return Response(200, {"ok": True})

    def price(req: Request, ctx: CallContext) -> Response:
        data = body(req)
        value = _decimal(data.get("price"), "price", MIN_PRICE, MAX_PRICE)
        symbol = str(data.get("symbol", ""))
        tick = app.engine.pair(symbol).spec.tick_size
        if value < tick * MIN_PRICE_TICKS:
            raise BadParam(f"price of {symbol} must be at least {MIN_PRICE_TICKS} ticks ({tick * MIN_PRICE_TICKS})")
        app.sync()
        app.engine.set_price(symbol, value)
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

    def counters_get(req: Request, ctx: CallContext) -> Response:
        return Response(200, app.counters.snapshot())

    def counters_reset(req: Request, ctx: CallContext) -> Response:
        app.counters.reset()
        return Response(200, {"ok": True})

    table = [
        ("POST", "/__sim/advance", advance),
        ("POST", "/__sim/balance", balance),
        ("POST", "/__sim/price", price),
        ("GET", "/__sim/state", state),
        ("GET", "/__sim/faults", faults_get),
        ("POST", "/__sim/faults", faults_add),
        ("DELETE", "/__sim/faults", faults_clear),
        ("GET", "/__sim/counters", counters_get),
        ("DELETE", "/__sim/counters", counters_reset),
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
        "counters": app.counters.snapshot(),
        "request_log": list(app.request_log),
    }
