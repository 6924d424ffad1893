"""The DataFeed port (design document: ``DataFeed``): fresh tickers and closed candles.

Implemented by :class:`btcbot.services.market_feed.MarketFeed` over the exchange's public
endpoints (``contracts.exchange.MarketData``). The design document's ``is_fresh(max_age)`` is the
stale-symbol tuple :meth:`DataFeed.tickers` returns (ages on the exchange's clock); its
``warm_start_snapshot`` is the first :meth:`DataFeed.candles` call, which fetches the history the
strategy needs and only new bars afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from btcbot.domain.market import Candle, Ticker


@dataclass(frozen=True)
class MarketState:
    """The fetch step's market half: tickers, their ages on the exchange's clock, the stale
    symbols (safe mode for them), closed bars per symbol and the fetches that failed."""

    tickers: dict[str, Ticker]
    ages_s: dict[str, float]
    stale: tuple[str, ...]
    candles: dict[str, tuple[Candle, ...]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @property
    def fresh_symbols(self) -> tuple[str, ...]:
        return tuple(s for s in sorted(self.tickers) if s not in self.stale)


class DataFeed(Protocol):
    def tickers(self, now: datetime) -> tuple[dict[str, Ticker], dict[str, float], tuple[str, ...]]:
        """Tickers of the universe, their ages in seconds, and the symbols whose data is stale."""
        ...

    def candles(self, now: datetime) -> tuple[dict[str, tuple[Candle, ...]], tuple[str, ...]]:
        """Closed bars per symbol (oldest first), and the symbols whose fetch failed."""
        ...


__all__ = ["DataFeed", "MarketState"]
