"""MarketFeed.candles: a steady cycle (no bar closed since the last one) costs no request and no
store read; a closed bar costs one request per symbol and no re-read of the history, and the
bars handed out equal what the store holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.domain.market import Candle
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.services.market_feed import MarketFeed

SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
INTERVAL = 300
T0 = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def _bar(symbol: str, open_time: datetime) -> Candle:
    one = Decimal(1)
    return Candle(symbol, INTERVAL, open_time, one, one, one, one, one)


class CountingMarket:
    """Serves one bar per interval for any range; counts candle calls."""

    def __init__(self) -> None:
        self.candle_calls = 0

    def candles(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]:
        self.candle_calls += 1
        out, t = [], start
        while t <= end:
            out.append(_bar(symbol, t))
            t += timedelta(seconds=interval_s)
        return out


class CountingStore(MemoryCandleStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def latest(self, symbol: str, interval_s: int, count: int) -> list[Candle]:
        self.reads += 1
        return super().latest(symbol, interval_s, count)

    def add(self, candles: Sequence[Candle]) -> int:
        return super().add(candles)


def test_steady_cycles_reuse_bars_and_a_closed_bar_fetches_once_per_symbol() -> None:
    market, store = CountingMarket(), CountingStore()
    feed = MarketFeed(market, store, SYMBOLS, INTERVAL, history=10, max_age_s=60)  # type: ignore[arg-type]
    first, errors = feed.candles(T0)
    assert errors == () and all(len(first[s]) == 10 for s in SYMBOLS)
    calls, reads = market.candle_calls, store.reads
    for k in range(1, 20):  # same bar: 10 s steps inside it
        again, _ = feed.candles(T0 + timedelta(seconds=10 * k))
        assert again == first
    assert (market.candle_calls, store.reads) == (calls, reads)
    later = T0 + timedelta(seconds=INTERVAL)
    after, _ = feed.candles(later)
    assert market.candle_calls == calls + len(SYMBOLS)
    assert store.reads == reads  # the new bars are merged in memory, the history is not re-read
    assert all(store.latest(s, INTERVAL, 10) == list(after[s]) for s in SYMBOLS)
    assert all(after[s][-1].open_time == first[s][-1].open_time + timedelta(seconds=INTERVAL) for s in SYMBOLS)
    assert all(len(after[s]) == 10 for s in SYMBOLS)
