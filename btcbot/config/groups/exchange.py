"""exchange: where and how to talk to BTC Turk."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, HttpUrl

from btcbot.config.groups._base import Group


class ExchangeSettings(Group):
    base_url: HttpUrl = Field(HttpUrl("https://api.btcturk.com"), description="REST host (public /api/v2, private /api/v1).")
    graph_url: HttpUrl = Field(HttpUrl("https://graph-api.btcturk.com"), description="Graph host for candles (/v1/klines/history).")
    api_timeout: float = Field(10.0, gt=0, le=120, description="Seconds before an HTTP request times out.")
    min_notional_margin: Decimal = Field(Decimal("0.05"), ge=0, le=1, description="Extra fraction kept above minExchangeValue (0.05 = 5 %).")
    orderbook_depth: int = Field(50, ge=1, le=1000, description="Order book levels fetched when a book is needed.")
