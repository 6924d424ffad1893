"""Wire schemas of the public endpoints (REST /api/v2 and the graph host) and their parsers."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from btcbot.adapters.btcturk.wire._decode import unwrap, validate, validate_rows
from btcbot.adapters.btcturk.wire._types import (
    OptDecimal,
    WireBool,
    WireDecimal,
    WireInt,
    WireMillis,
    WireModel,
    WireSeconds,
    WireSymbol,
    to_symbol,
)
from btcbot.domain.errors import MalformedPayload
from btcbot.domain.market import BookLevel, Candle, OrderBook, SymbolRules, Ticker

#: Status given to a symbol that has no PRICE_FILTER: we cannot check its minimum, so never trade it.
NO_PRICE_FILTER = "NO_PRICE_FILTER"


class ServerTimeWire(WireModel):
    """``GET /api/v2/server/time`` (bare JSON, no envelope)."""

    server_time: WireMillis

    def to_domain(self) -> datetime:
        return self.server_time


class FilterWire(WireModel):
    filter_type: str
    min_price: OptDecimal = None
    max_price: OptDecimal = None
    tick_size: OptDecimal = None
    min_exchange_value: OptDecimal = None
    min_amount: OptDecimal = None
    max_amount: OptDecimal = None


class CurrencyWire(WireModel):
    symbol: str
    precision: WireInt | None = None


class SymbolWire(WireModel):
    name: WireSymbol
    status: str
    numerator: str
    denominator: str
    numerator_scale: WireInt
    denominator_scale: WireInt
    has_fraction: WireBool = True
    filters: list[FilterWire] = Field(default_factory=list)
    minimum_limit_order_price: OptDecimal = None
    maximum_limit_order_price: OptDecimal = None

    def to_domain(self, quote_precision: int) -> SymbolRules:
        price_filter = next((f for f in self.filters if f.filter_type.upper() == "PRICE_FILTER"), None)
        has_minimum = price_filter is not None and price_filter.min_exchange_value is not None
        return SymbolRules(
            symbol=self.name,
            base=self.numerator.upper(),
            quote=self.denominator.upper(),
            status=self.status if has_minimum else NO_PRICE_FILTER,
            numerator_scale=self.numerator_scale,
            denominator_scale=self.denominator_scale,
            has_fraction=self.has_fraction,
            min_exchange_value=(price_filter.min_exchange_value or Decimal(0)) if price_filter else Decimal(0),
            tick_size=price_filter.tick_size if price_filter else None,
            min_price=price_filter.min_price if price_filter else None,
            max_price=price_filter.max_price if price_filter else None,
            min_amount=price_filter.min_amount if price_filter else None,
            max_amount=price_filter.max_amount if price_filter else None,
            min_limit_price=self.minimum_limit_order_price,
            max_limit_price=self.maximum_limit_order_price,
            quote_precision=quote_precision,
        )


class ExchangeInfoWire(WireModel):
    """Symbols and currencies are validated row by row (see ``validate_rows``)."""

    symbols: list[Any]
    currencies: list[Any] = Field(default_factory=list)

    def to_domain(self, endpoint: str) -> list[SymbolRules]:
        currencies = validate_rows(endpoint, CurrencyWire, self.currencies, prefix="data.currencies.") if self.currencies else []
        precision = {c.symbol.upper(): c.precision for c in currencies if c.precision is not None}
        symbols = validate_rows(endpoint, SymbolWire, self.symbols, prefix="data.symbols.") if self.symbols else []
        # TRY's currency precision is 2; it bounds a market-buy quote amount (btcturk_api.md 5.6).
        return [s.to_domain(precision.get(s.denominator.upper(), 2)) for s in symbols]


class TickerWire(WireModel):
    pair: WireSymbol
    timestamp: WireMillis
    last: WireDecimal
    high: WireDecimal
    low: WireDecimal
    bid: WireDecimal
    ask: WireDecimal
    open: WireDecimal
    volume: WireDecimal

    def to_domain(self) -> Ticker:
        return Ticker(
            symbol=self.pair,
            bid=self.bid,
            ask=self.ask,
            last=self.last,
            high=self.high,
            low=self.low,
            open=self.open,
            volume=self.volume,
            timestamp=self.timestamp,
        )


class OrderBookWire(WireModel):
    timestamp: WireMillis
    bids: list[list[WireDecimal]]
    asks: list[list[WireDecimal]]

    def to_domain(self, symbol: str, endpoint: str) -> OrderBook:
        def levels(rows: list[list[Decimal]], name: str) -> list[BookLevel]:
            if any(len(row) < 2 for row in rows):
                raise MalformedPayload(endpoint, f"data.{name}", "level needs [price, amount]")
            return [BookLevel(row[0], row[1]) for row in rows]

        # Samples are already best-first; sorting makes that a guarantee, not an assumption.
        bids = sorted(levels(self.bids, "bids"), key=lambda lv: lv.price, reverse=True)
        asks = sorted(levels(self.asks, "asks"), key=lambda lv: lv.price)
        return OrderBook(symbol=symbol, timestamp=self.timestamp, bids=tuple(bids), asks=tuple(asks))


class KlinesWire(WireModel):
    """TradingView UDF: parallel arrays, ``t`` = bar open time in seconds."""

    s: str
    t: list[WireSeconds] = Field(default_factory=list)
    o: list[WireDecimal] = Field(default_factory=list)
    h: list[WireDecimal] = Field(default_factory=list)
    l: list[WireDecimal] = Field(default_factory=list)  # noqa: E741 - the UDF field name
    c: list[WireDecimal] = Field(default_factory=list)
    v: list[WireDecimal] = Field(default_factory=list)

    def to_domain(self, symbol: str, interval_s: int, start: datetime, end: datetime, endpoint: str) -> list[Candle]:
        if self.s.lower() == "no_data":
            return []
        if self.s.lower() != "ok":
            raise MalformedPayload(endpoint, "s", "status is neither ok nor no_data")
        n = len(self.t)
        if any(len(col) != n for col in (self.o, self.h, self.l, self.c, self.v)):
            raise MalformedPayload(endpoint, "t", "arrays have different lengths")
        bars = {
            self.t[i]: Candle(symbol, interval_s, self.t[i], self.o[i], self.h[i], self.l[i], self.c[i], self.v[i])
            for i in range(n)
            if start <= self.t[i] <= end
        }
        return [bars[k] for k in sorted(bars)]


# ----------------------------------------------------------------------------- parsers


def parse_server_time(endpoint: str, doc: Any) -> datetime:
    return validate(endpoint, ServerTimeWire, doc).to_domain()


def parse_exchange_info(endpoint: str, doc: Any) -> list[SymbolRules]:
    return validate(endpoint, ExchangeInfoWire, unwrap(endpoint, doc), prefix="data.").to_domain(endpoint)


def parse_tickers(endpoint: str, doc: Any, symbols: Collection[str] | None = None) -> list[Ticker]:
    """Rows with a missing or invalid member are dropped (that symbol is then stale for the
    caller), even when that leaves none: one bad row never fails the whole call.

    ``symbols`` (normalized pair symbols): rows whose pair names another symbol are left out
    before validation, unparsed and unlogged. A row whose pair cannot be read is validated (and
    dropped with a warning) as without the filter: it might be one of ours."""
    data = unwrap(endpoint, doc)
    if symbols is not None and isinstance(data, list):
        data = [row for row in data if _maybe_wanted(row, symbols)]
    rows = validate_rows(endpoint, TickerWire, data, prefix="data.", allow_none=True)
    return [t.to_domain() for t in rows]


def _maybe_wanted(row: Any, symbols: Collection[str]) -> bool:
    """False only for a row that names a readable pair outside ``symbols``."""
    if not isinstance(row, dict):
        return True
    pairs = [value for key, value in row.items() if isinstance(key, str) and key.lower() == "pair"]
    if len(pairs) != 1:
        return True
    try:
        return to_symbol(pairs[0]) in symbols
    except ValueError:
        return True


def parse_order_book(endpoint: str, doc: Any, symbol: str) -> OrderBook:
    return validate(endpoint, OrderBookWire, unwrap(endpoint, doc), prefix="data.").to_domain(symbol, endpoint)


def parse_klines(
    endpoint: str, doc: Any, symbol: str, interval_s: int, start: datetime, end: datetime
) -> list[Candle]:
    return validate(endpoint, KlinesWire, doc).to_domain(symbol, interval_s, start, end, endpoint)
