"""The fetch step's market half: one ticker call for all pairs, candles only when a bar closed.

Freshness is judged on the EXCHANGE's clock: a ticker whose own timestamp is more than
``max_age_s`` away from the exchange's current time (either way) is stale. The exchange's time
comes from ``exchange_clock`` (by default the market's ``exchange_now()``: the last server-time
measurement plus the monotonic time since, see ``adapters/btcturk/time_sync.py``), so a local
clock that jumps backwards cannot make old tickers look fresh. When the market can tell the
exchange's time but does not know it now (no trusted measurement), every symbol is stale; a
market without an exchange clock (paper, fakes) is judged on the cycle's ``now``.

A missing row, a non-positive last/bid/ask or a crossed bid/ask also makes that symbol stale
(one bad row never blinds the others). Stale or missing symbols are reported, and the cycle
goes to safe mode for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from loguru import logger

from btcbot.contracts.data_feed import MarketState as MarketState  # the port's value; kept importable here
from btcbot.contracts.exchange import MarketData
from btcbot.domain.errors import AuthError, ExchangeError
from btcbot.domain.market import Candle, Ticker
from btcbot.services.candle_store import CandleStore, fetch_closed


def last_closed_open_time(now: datetime, interval_s: int) -> datetime:
    """Open time of the newest bar that has closed at ``now`` (bars aligned to the epoch)."""
    epoch = int(now.timestamp())
    current_open = epoch - epoch % interval_s
    return datetime.fromtimestamp(current_open - interval_s, tz=now.tzinfo)


#: Returns the exchange's current time, or None when it cannot be known right now.
ExchangeClock = Callable[[], datetime | None]


def _usable(ticker: Ticker) -> bool:
    return ticker.last > 0 and ticker.bid > 0 and ticker.ask > 0 and ticker.bid <= ticker.ask


class MarketFeed:
    def __init__(
        self,
        market: MarketData,
        store: CandleStore,
        universe: Sequence[str],
        interval_s: int,
        history: int,
        max_age_s: float,
        exchange_clock: ExchangeClock | None = None,
    ) -> None:
        self._market = market
        self._exchange_clock: ExchangeClock | None = (
            exchange_clock if exchange_clock is not None else getattr(market, "exchange_now", None)
        )
        self._store = store
        self._universe = tuple(universe)
        self._interval = interval_s
        self._history = max(1, history)
        self._max_age = max_age_s
        # The bars last read per symbol: closed bars never change, so until the next bar closes
        # a cycle reuses them instead of re-reading the store (the steady cycle's biggest cost).
        self._recent: dict[str, tuple[Candle, ...]] = {}

    def tickers(self, now: datetime) -> tuple[dict[str, Ticker], dict[str, float], tuple[str, ...]]:
        """Tickers of the universe, their ages (s, on the exchange's clock) and the stale symbols."""
        all_tickers = self._market.tickers(self._universe)  # only our rows are parsed
        tickers = {t.symbol: t for t in all_tickers if t.symbol in self._universe}
        reference, known = now, True
        if self._exchange_clock is not None:
            exchange_now = self._exchange_clock()  # after the fetch: never earlier than the data
            if exchange_now is None:
                known = False
                logger.bind(event="data_feed.clock_unknown").warning(
                    "exchange clock unknown (no trusted server-time measurement): all market data treated as stale"
                )
            else:
                reference = exchange_now
        skew = {s: (reference - t.timestamp).total_seconds() for s, t in tickers.items()}
        ages = {s: max(0.0, v) for s, v in skew.items()}
        stale = tuple(
            s for s in self._universe
            if not known or s not in tickers or abs(skew[s]) > self._max_age or not _usable(tickers[s])
        )  # fmt: skip
        return tickers, ages, stale

    def candles(self, now: datetime) -> tuple[dict[str, tuple[Candle, ...]], tuple[str, ...]]:
        """Closed bars per symbol (newest ``history``), fetching only what closed since last time."""
        newest_closed = last_closed_open_time(now, self._interval)
        result: dict[str, tuple[Candle, ...]] = {}
        errors: list[str] = []
        for symbol in self._universe:
            recent = self._recent.get(symbol)
            if recent and recent[-1].open_time >= newest_closed:
                result[symbol] = recent
                continue
            result[symbol] = self._refresh(symbol, recent, newest_closed, now, errors)
            self._recent[symbol] = result[symbol]
        return result, tuple(errors)

    def _refresh(
        self,
        symbol: str,
        recent: tuple[Candle, ...] | None,
        newest_closed: datetime,
        now: datetime,
        errors: list[str],
    ) -> tuple[Candle, ...]:
        """One symbol's newest ``history`` closed bars: the stored ones plus what closed since
        (a failed fetch appends to ``errors`` and keeps what is stored)."""
        full = recent is not None and len(recent) >= self._history
        stored = list(recent) if full and recent else self._store.latest(symbol, self._interval, self._history)
        if stored and stored[-1].open_time >= newest_closed:
            return tuple(stored)
        window = newest_closed - timedelta(seconds=self._interval * (self._history - 1))
        # Continue after the newest stored bar when the stored bars reach back to the window's
        # start (after a gap longer than the window: only the window, in pages); a store that
        # does not (a fresh symbol, a young pair) is asked for the whole window.
        start = (
            max(stored[-1].open_time + timedelta(seconds=self._interval), window)
            if stored and (len(stored) >= self._history or stored[0].open_time <= window)
            else window
        )
        try:
            fetched = fetch_closed(self._market, symbol, self._interval, start, newest_closed, now,
                                   previous=stored[-1] if stored else None).bars
        except AuthError:
            raise
        except ExchangeError as exc:
            errors.append(f"candles {symbol}: {type(exc).__name__}")
            logger.bind(event="data_feed.candles_failed", symbol=symbol).warning(str(exc))
            fetched = []
        if fetched:
            self._store.add(fetched)
            # The store's newest bars are now exactly these (no re-read of the history).
            merged = {c.open_time: c for c in stored}
            merged.update((c.open_time, c) for c in fetched)
            stored = [merged[t] for t in sorted(merged)][-self._history:]
        return tuple(stored)
