"""Small builders for strategy tests: candles, snapshots and portfolio views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.enums import TradingState
from btcbot.domain.market import Candle, Ticker
from btcbot.domain.portfolio import PortfolioView

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = 3600
DAY = 86400


def candles(symbol: str, closes: Sequence[str | Decimal], interval_s: int = DAY) -> tuple[Candle, ...]:
    out = []
    for i, close in enumerate(closes):
        c = Decimal(close)
        out.append(Candle(symbol, interval_s, T0 + timedelta(seconds=i * interval_s), c, c, c, c, Decimal(1)))
    return tuple(out)


def snapshot(
    series: Mapping[str, Sequence[str | Decimal]],
    interval_s: int = DAY,
    tickers: Mapping[str, Ticker] | None = None,
) -> MarketSnapshot:
    longest = max((len(v) for v in series.values()), default=0)
    now = T0 + timedelta(seconds=longest * interval_s)
    return MarketSnapshot(
        now=now,
        interval_s=interval_s,
        tickers=tickers or {},
        candles={s: candles(s, v, interval_s) for s, v in series.items()},
    )


def ticker(symbol: str, last: str) -> Ticker:
    p = Decimal(last)
    return Ticker(symbol, p, p, p, p, p, p, Decimal(1), T0)


def portfolio(
    cash: str | Decimal,
    holdings: Mapping[str, tuple[str | Decimal, str | Decimal]] | None = None,
    state: TradingState = TradingState.ACTIVE,
    open_buy: Mapping[str, Decimal] | None = None,
) -> PortfolioView:
    """``holdings``: symbol -> (base quantity, mark price); equity is marked to market."""
    holdings = holdings or {}
    positions = {s: Decimal(q) for s, (q, _) in holdings.items()}
    prices = {s: Decimal(p) for s, (_, p) in holdings.items()}
    equity = Decimal(cash) + sum((positions[s] * prices[s] for s in positions), Decimal(0))
    return PortfolioView(
        quote_asset="TRY",
        cash_free=Decimal(cash),
        cash_total=Decimal(cash),
        positions=positions,
        prices=prices,
        equity=equity,
        high_water=equity,
        day_start_equity=equity,
        trading_state=state,
        open_buy_qty=open_buy or {},
    )
