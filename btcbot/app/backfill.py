"""Backfill at start: fetch the closed bars the strategy needs before the first cycle.

A fresh bot (or one restarted after a stop) needs ``strategy.required_history()`` closed bars per
symbol before the strategy can form an opinion: ``trend`` 144 hourly bars (six days), ``ema_cross``
520. Waiting for them to close one by one would keep the bot idle for days; the graph host's
klines route serves them at once. So when the trading cycle is built (``btcbot once``, ``btcbot
run``, again after a database outage), :func:`backfill_history` runs once per symbol:

* the store already holds the newest ``needed`` bars up to the last closed one: nothing is asked;
* it holds them but the newest is older (the bot was stopped: a gap): only the bars since then
  are fetched, and never more than the window of ``needed`` bars;
* it holds fewer (a fresh bot): the whole window is fetched.

Requests go in pages of ``PAGE_BARS`` bars (``btcbot.services.candle_store.fetch_closed``) through
the market client, whose rate limiter keeps them within the graph host's 600 requests per 10
minutes; klines is a public route, so a paper bot makes no private call. Every page is stored in
the candle store, where the cycle's market feed reads it.

A failure is never fatal: a symbol whose fetch fails is logged and left to the market feed, which
asks again in the first cycle (an ``AuthError`` still propagates, as everywhere); the symbols after
it are not asked (the host is down or its breaker open: one failed fetch, with its retries, is
what an unreachable exchange costs at start). When the
exchange has fewer bars than needed (a pair listed recently; the bundled simulator with a short
``history_minutes``), the log says how many are there and how long the strategy will warm up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from btcbot.contracts.exchange import MarketData
from btcbot.domain.errors import AuthError, ExchangeError
from btcbot.services.candle_store import PAGE_BARS, CandleStore, fetch_closed
from btcbot.services.market_feed import last_closed_open_time


@dataclass(frozen=True)
class SymbolBackfill:
    """What the backfill found and did for one symbol. ``available``: bars of the ``needed``
    newest the store holds afterwards; ``error``: why the fetch failed (None when it did not)."""

    symbol: str
    needed: int
    had: int
    fetched: int
    requests: int
    available: int
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.available >= self.needed


@dataclass(frozen=True)
class BackfillReport:
    interval_s: int
    needed: int
    symbols: tuple[SymbolBackfill, ...]

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.symbols)

    @property
    def fetched(self) -> int:
        return sum(s.fetched for s in self.symbols)

    @property
    def complete(self) -> bool:
        return all(s.complete for s in self.symbols)

    def summary(self) -> str:
        """One line for the log (see :func:`backfill_history`)."""
        head = (f"history backfill: {self.needed} bars of {self.interval_s} s per symbol needed; "
                f"fetched {self.fetched} bars in {self.requests} request{'s' if self.requests != 1 else ''}")
        if self.complete:
            return f"{head}; complete for {len(self.symbols)} symbol{'s' if len(self.symbols) != 1 else ''}"
        short = [s for s in self.symbols if not s.complete]
        parts = []
        for s in short:
            why = f"fetch failed ({s.error})" if s.error else "the exchange has no older bars"
            wait = _duration((s.needed - s.available) * self.interval_s)
            parts.append(f"{s.symbol} {s.available} of {s.needed} ({why}; warms up in about {wait})")
        return f"{head}; short: " + ", ".join(parts)


def _duration(seconds: int) -> str:
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{max(1, round(seconds / 60))} min"


def _one(
    market: MarketData, store: CandleStore, symbol: str, interval_s: int, needed: int, now: datetime,
    page_bars: int,
) -> SymbolBackfill:
    step = timedelta(seconds=interval_s)
    newest = last_closed_open_time(now, interval_s)
    window = newest - step * (needed - 1)
    stored = store.latest(symbol, interval_s, needed)
    if len(stored) >= needed and stored[-1].open_time >= newest:
        return SymbolBackfill(symbol, needed, len(stored), 0, 0, len(stored))
    start = max(stored[-1].open_time + step, window) if len(stored) >= needed else window
    try:
        got = fetch_closed(market, symbol, interval_s, start, newest, now, page_bars,
                           previous=stored[-1] if stored else None)
    except AuthError:
        raise
    except ExchangeError as exc:
        logger.bind(event="data_feed.backfill", symbol=symbol, outcome=type(exc).__name__).warning(
            f"backfill of {symbol} failed ({type(exc).__name__}); the first cycle asks again"
        )
        return SymbolBackfill(symbol, needed, len(stored), 0, 0, len(stored), type(exc).__name__)
    if got.bars:
        store.add(got.bars)
    times = {c.open_time for c in stored} | {c.open_time for c in got.bars}
    return SymbolBackfill(symbol, needed, len(stored), len(got.bars), got.requests, min(needed, len(times)))


def backfill_history(
    market: MarketData,
    store: CandleStore,
    symbols: Sequence[str],
    interval_s: int,
    needed: int,
    now: datetime,
    page_bars: int = PAGE_BARS,
) -> BackfillReport:
    """Make the store hold the ``needed`` newest closed bars of every symbol where the exchange
    has them (see the module docstring); logs one ``data_feed.backfill`` line and returns what it
    did. ``needed`` of 0 does nothing."""
    if needed <= 0:
        return BackfillReport(interval_s, needed, ())
    done: list[SymbolBackfill] = []
    for symbol in symbols:
        failed = next((d.error for d in done if d.error), None)
        if failed is not None:  # the host is down: one failed fetch is enough, the feed asks again
            stored = len(store.latest(symbol, interval_s, needed))
            done.append(SymbolBackfill(symbol, needed, stored, 0, 0, stored, failed))
            continue
        done.append(_one(market, store, symbol, interval_s, needed, now, page_bars))
    report = BackfillReport(interval_s, needed, tuple(done))
    if report.requests or not report.complete:
        logger.bind(event="data_feed.backfill", outcome="complete" if report.complete else "short",
                    requests=report.requests, bars=report.fetched).info(report.summary())
    return report


__all__ = ["BackfillReport", "SymbolBackfill", "backfill_history"]
