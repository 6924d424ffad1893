"""ExchangeClient: the one port between the bot and a venue (real BTC Turk, paper, simulator, fake).

Everything returned is a normalized domain value (Decimal money, aware UTC datetimes, int ids).
Errors are the taxonomy of ``btcbot.domain.errors``: reads raise TransientError (after retries),
RateLimited, MaintenanceError, AuthError, MalformedPayload, CircuitOpen; ``submit_order`` raises
ExchangeRejected for a definitive refusal and AmbiguousOutcome whenever the request may have
reached the venue without a readable answer; ``cancel_order`` returns a CancelAck that only
means "cancel requested".
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from btcbot.domain.exchange_models import CancelAck, ExchangeOrder, Fill, OrderRequest, SubmitAck
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.market import Balance, Candle, OrderBook, SymbolRules, Ticker


class MarketData(Protocol):
    """Public endpoints: no credentials needed."""

    def server_time(self) -> datetime: ...

    def exchange_info(self) -> list[SymbolRules]: ...

    def tickers(self, symbols: Collection[str] | None = None) -> list[Ticker]:
        """All pairs in one call (GET /api/v2/ticker); with ``symbols``, only those pairs' rows
        are read (BTC Turk lists ~200 pairs; a bot trading five need not parse the rest)."""
        ...

    def order_book(self, symbol: str, limit: int = 100) -> OrderBook: ...

    def candles(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]:
        """Bars whose open time lies in [start, end], oldest first (graph host klines)."""
        ...


class Account(Protocol):
    """Private (signed) endpoints."""

    def balances(self) -> list[Balance]: ...

    def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]: ...

    def all_orders(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ExchangeOrder]: ...

    def get_order(self, exchange_order_id: ExchangeOrderId) -> ExchangeOrder | None:
        """None when the exchange answers ``Order not found``."""
        ...

    def trades_for_order(self, exchange_order_id: ExchangeOrderId) -> list[Fill]: ...

    def trades(self, symbol: str, start: datetime, end: datetime) -> list[Fill]: ...

    def submit_order(self, request: OrderRequest) -> SubmitAck: ...

    def cancel_order(self, exchange_order_id: ExchangeOrderId) -> CancelAck: ...


class ExchangeClient(MarketData, Account, Protocol):
    """The full port the trading cycle uses."""

    def request_counts(self) -> dict[str, int]:
        """Requests made per endpoint name since construction (for benchmarks and tests)."""
        ...


__all__ = ["Account", "ExchangeClient", "MarketData", "Sequence"]
