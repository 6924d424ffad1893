"""Engine objects -> BTC Turk JSON, with the reference's exact field names and types.

Strings vs numbers (reference §0.8): ticker and graph values are JSON numbers; book levels,
trade price/amount, order price/amount/quantity/leftAmount, balances, fee and tax are strings;
ids are JSON integers (int64, some above 2**53).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from btcbot.sim.engine.accounts import Accounts
from btcbot.sim.engine.book import Book
from btcbot.sim.engine.candles import Bar
from btcbot.sim.engine.instruments import ASSETS, PairSpec
from btcbot.sim.engine.money import fixed, plain
from btcbot.sim.engine.orders import BUY, MARKET, MARKET_BUY_ROW_QUANTITY, SELL, SimOrder, SimTrade
from btcbot.sim.engine.pairs import PairState

Json = dict[str, Any]


def number(value: Decimal) -> int | float:
    """A JSON number for a Decimal (integral -> int). Only for fields the venue sends as numbers."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def ok(data: Any, message: str | None = None) -> Json:
    """The success envelope."""
    return {"data": data, "success": True, "message": message, "code": 0}


def fail(message: str, code: int) -> Json:
    """The error envelope."""
    return {"success": False, "message": message, "code": code, "data": None}


def server_time(now_ms: int) -> Json:
    """Bare (not enveloped) server time with a 7-digit-fraction ISO string."""
    dt = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    iso = dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0+00:00"
    return {"serverTime": now_ms, "serverTime2": iso}


def _symbol(state: PairState) -> Json:
    spec = state.spec
    low, high = state.limit_price_band()
    return {
        "id": spec.pair_id,
        "name": spec.symbol,
        "nameNormalized": spec.normalized,
        "status": "TRADING",
        "numerator": spec.base,
        "denominator": spec.quote,
        "numeratorScale": spec.numerator_scale,
        "denominatorScale": spec.denominator_scale,
        "hasFraction": spec.denominator_scale > 0,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": plain(spec.tick_size),
                "maxPrice": plain(high),
                "tickSize": plain(spec.tick_size),
                "minExchangeValue": plain(spec.min_exchange_value),
                "minAmount": None,
                "maxAmount": None,
            }
        ],
        "orderMethods": ["MARKET", "LIMIT", "STOP_MARKET", "STOP_LIMIT"],
        "displayFormat": "#,###" if spec.denominator_scale == 0 else "#,###." + "0" * spec.denominator_scale,
        "commissionFromNumerator": False,
        "order": spec.display_order,
        "priceRounding": False,
        "isNew": False,
        "marketPriceWarningThresholdPercentage": 0.25,
        "maximumOrderAmount": None,
        "maximumLimitOrderPrice": number(high),
        "minimumLimitOrderPrice": number(low),
    }


def exchange_info(pairs: Iterable[PairState], now_ms: int) -> Json:
    states = list(pairs)
    assets = sorted(
        {a for s in states for a in (s.spec.base, s.spec.quote)}, key=lambda a: ASSETS[a].currency_id
    )
    return {
        "timeZone": "UTC",
        "serverTime": now_ms,
        "symbols": [_symbol(s) for s in states],
        "currencies": [
            {
                "id": ASSETS[a].currency_id,
                "symbol": a,
                "name": ASSETS[a].name,
                "minWithdrawal": 0,
                "minDeposit": 0,
                "precision": ASSETS[a].precision,
                "isNew": False,
            }
            for a in assets
        ],
        "currencyOperationBlocks": [
            {"currencySymbol": a, "withdrawalDisabled": False, "depositDisabled": False} for a in assets
        ],
    }


def ticker(state: PairState, book: Book, now_ms: int, stamp_ms: int) -> Json:
    spec = state.spec
    now_s = now_ms // 1000
    stats = state.candles.window_stats(now_s - 86_400 + 1, now_s)
    last = state.price
    open_ = stats.open if stats else last
    high = max(stats.high, last) if stats else last
    low = min(stats.low, last) if stats else last
    volume = stats.volume if stats else Decimal(0)
    total = stats.total if stats else Decimal(0)
    average = (total / volume).quantize(Decimal("0.01")) if volume else last
    daily = last - open_
    pct = (daily / open_ * 100).quantize(Decimal("0.01")) if open_ else Decimal(0)
    return {
        "pair": spec.symbol,
        "pairNormalized": spec.normalized,
        "timestamp": stamp_ms,
        "last": number(last),
        "high": number(high),
        "low": number(low),
        "bid": number(book.best_bid or last),
        "ask": number(book.best_ask or last),
        "open": number(open_),
        "volume": number(volume.quantize(Decimal("0.00000001"))),
        "average": number(average),
        "daily": number(daily),
        "dailyPercent": number(pct),
        "denominatorSymbol": spec.quote,
        "numeratorSymbol": spec.base,
        "order": spec.display_order,
    }


def order_book(book: Book, limit: int, stamp_ms: int) -> Json:
    return {
        "timestamp": stamp_ms,
        "bids": [[plain(lvl.price), plain(lvl.amount)] for lvl in book.bids[:limit]],
        "asks": [[plain(lvl.price), plain(lvl.amount)] for lvl in book.asks[:limit]],
    }


def public_trades(state: PairState, last: int) -> list[Json]:
    spec = state.spec
    rows = list(state.tape)[-last:] if last > 0 else []
    return [
        {
            "pair": spec.symbol,
            "pairNormalized": spec.normalized,
            "numerator": spec.base,
            "denominator": spec.quote,
            "date": t.timestamp_ms,
            "tid": str(t.tid),
            "price": plain(t.price),
            "amount": plain(t.amount),
            "side": t.side,
        }
        for t in reversed(rows)
    ]


def order(o: SimOrder, spec: PairSpec, *, zero_time: bool = False) -> Json:
    """An order row (openOrders / allOrders / single order)."""
    market_buy = o.method == MARKET and o.side == BUY
    return {
        "id": o.id,
        "price": fixed(o.price, spec.denominator_scale),
        "amount": plain(o.amount),
        "quantity": plain(MARKET_BUY_ROW_QUANTITY if market_buy else o.quantity),
        "stopPrice": "0",
        "pairSymbol": spec.symbol,
        "pairSymbolNormalized": spec.normalized,
        "type": o.side,
        "method": o.method,
        "orderClientId": o.client_id,
        "time": 0 if zero_time else o.created_ms,
        "updateTime": o.updated_ms,
        "status": o.status,
        "leftAmount": plain(o.left),
    }


def submit_ack(o: SimOrder, spec: PairSpec) -> Json:
    """POST /api/v1/order ``data``; ``quantity`` echoes what was sent (quote for a market buy)."""
    return {
        "id": o.id,
        "datetime": o.created_ms,
        "type": o.side,
        "method": o.method,
        "price": fixed(o.price, spec.denominator_scale),
        "stopPrice": "0",
        "quantity": plain(o.quantity),
        "pairSymbol": spec.symbol,
        "pairSymbolNormalized": spec.normalized,
        "newOrderClientId": o.client_id,
    }


def user_trade(t: SimTrade, spec: PairSpec) -> Json:
    signed = -t.amount if t.side == SELL else t.amount
    return {
        "price": plain(t.price),
        "numeratorSymbol": spec.base,
        "denominatorSymbol": spec.quote,
        "orderType": t.side,
        "orderId": t.order_id,
        "id": t.id,
        "timestamp": t.timestamp_ms,
        "amount": plain(signed),
        "preciseAmount": number(signed),
        "fee": plain(-t.fee),
        "tax": plain(-t.tax),
        "orderClientId": t.client_id,
    }


def balances(accounts: Accounts, now_ms: int) -> list[Json]:
    names = list(ASSETS) + [a for a in accounts.assets() if a not in ASSETS]
    rows = []
    for asset in names:
        bal = accounts.balance(asset)
        spec = ASSETS.get(asset)
        rows.append(
            {
                "asset": asset,
                "assetname": spec.name if spec else asset,
                "balance": plain(bal.total),
                "locked": plain(bal.locked),
                "free": plain(bal.free),
                "orderFund": plain(bal.locked),
                "requestFund": "0",
                "precision": spec.precision if spec else 8,
                "timestamp": now_ms,
            }
        )
    return rows


def klines(bars: list[Bar]) -> Json:
    """TradingView UDF arrays; ``t`` = bar open in seconds."""
    return {
        "s": "ok" if bars else "no_data",
        "t": [b.open_time_s for b in bars],
        "o": [number(b.open) for b in bars],
        "h": [number(b.high) for b in bars],
        "l": [number(b.low) for b in bars],
        "c": [number(b.close) for b in bars],
        "v": [number(b.volume.quantize(Decimal("0.00000001"))) for b in bars],
    }


def ohlcs(spec: PairSpec, bars: list[Bar]) -> list[Json]:
    rows = []
    for b in bars:
        change = b.close - b.open
        rows.append(
            {
                "pair": spec.symbol,
                "time": b.open_time_s,
                "open": number(b.open),
                "high": number(b.high),
                "low": number(b.low),
                "close": number(b.close),
                "volume": number(b.volume.quantize(Decimal("0.00000001"))),
                "total": number(b.total.quantize(Decimal("0.00000001"))),
                "average": number((b.total / b.volume).quantize(Decimal("0.01")) if b.volume else b.close),
                "dailyChangeAmount": number(change),
                "dailyChangePercentage": number((change / b.open * 100).quantize(Decimal("0.01"))),
            }
        )
    return rows
