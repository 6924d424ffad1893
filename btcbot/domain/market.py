"""Market data values: venue rules, tickers, order books, candles. All money is Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """One pair's trading rules from ``/api/v2/server/exchangeinfo``.

    ``min_exchange_value`` is the minimum order notional in the quote asset.
    ``min_limit_price``/``max_limit_price`` are the limit-price band (maximum/minimumLimitOrderPrice).
    ``quote_precision`` is the decimals allowed for a market-buy quote amount (TRY: 2).
    """

    symbol: str
    base: str
    quote: str
    status: str
    numerator_scale: int
    denominator_scale: int
    has_fraction: bool
    min_exchange_value: Decimal
    tick_size: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    min_limit_price: Decimal | None = None
    max_limit_price: Decimal | None = None
    quote_precision: int = 2

    @property
    def tradable(self) -> bool:
        return self.status.upper() == "TRADING"


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    high: Decimal
    low: Decimal
    open: Decimal
    volume: Decimal
    timestamp: datetime

    @property
    def mid(self) -> Decimal:
        if self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2
        return self.last


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids best (highest) first, asks best (lowest) first."""

    symbol: str
    timestamp: datetime
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, slots=True)
class Candle:
    """One bar; ``open_time`` is the bar's start (UTC), ``interval_s`` its length in seconds."""

    symbol: str
    interval_s: int
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def close_time(self) -> datetime:
        return self.open_time + timedelta(seconds=self.interval_s)

    def is_closed(self, now: datetime) -> bool:
        return now >= self.close_time


@dataclass(frozen=True, slots=True)
class Balance:
    """``total`` = free + locked (BTC Turk's ``balance``)."""

    asset: str
    free: Decimal
    locked: Decimal
    total: Decimal
