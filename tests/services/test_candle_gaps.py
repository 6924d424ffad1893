"""A minute in which nothing traded has no klines bar; the bot fills such a hole with a flat bar at
the previous close and volume 0 (``services/candle_store.fill_gaps``), so one quiet minute inside
the window does not keep the strategy warming up for a whole window.

The CI failure that found it: the bundled simulator ticks every 10 s from its start, so when it
starts in the last 10 s of a minute that minute has no bar; a live bot started a minute later saw
"warming up: 143 of 144 bars" on every cycle (and would have for 144 minutes), and fetched the
whole window again on every bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.app.backfill import backfill_history
from btcbot.domain.market import Candle
from btcbot.services.candle_store import MemoryCandleStore, fetch_closed, fill_gaps
from btcbot.services.market_feed import MarketFeed

MINUTE = 60
NOW = datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC)
NEWEST = datetime(2026, 3, 2, 11, 59, tzinfo=UTC)  # the last bar closed at NOW


def bar(symbol: str, open_time: datetime) -> Candle:
    """A bar whose prices tell its minute apart (close = minutes since midnight)."""
    close = Decimal(open_time.hour * 60 + open_time.minute)
    return Candle(symbol, MINUTE, open_time, close - 1, close + 1, close - 2, close, Decimal(3))


class QuietHost:
    """One bar per minute from ``first``, except the ``quiet`` minutes (no trade, no bar)."""

    def __init__(self, first: datetime, quiet: set[datetime]) -> None:
        self.first, self.quiet = first, quiet
        self.asked: list[tuple[datetime, datetime]] = []

    def candles(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]:
        self.asked.append((start, end))
        out: list[Candle] = []
        t = max(start, self.first)
        while t <= end:
            if t not in self.quiet:
                out.append(bar(symbol, t))
            t += timedelta(seconds=interval_s)
        return out


def test_fill_gaps_fills_holes_between_real_bars_only() -> None:
    t = [NEWEST - timedelta(minutes=k) for k in range(10, -1, -1)]  # oldest first
    real = [bar("BTCTRY", t[i]) for i in (2, 3, 6, 7)]
    filled = fill_gaps(real)
    assert [c.open_time for c in filled] == t[2:8]  # nothing before the first or after the last
    for hole, before in ((t[4], real[1]), (t[5], real[1])):
        flat = next(c for c in filled if c.open_time == hole)
        assert (flat.open, flat.high, flat.low, flat.close) == (before.close,) * 4
        assert flat.volume == 0 and flat.interval_s == MINUTE and flat.symbol == "BTCTRY"
    # the bar before the first, when given, fills the slots before it as well
    with_previous = fill_gaps(real, previous=bar("BTCTRY", t[0]))
    assert [c.open_time for c in with_previous] == t[1:8]
    assert with_previous[0].close == bar("BTCTRY", t[0]).close and with_previous[0].volume == 0
    assert fill_gaps([]) == [] and fill_gaps([], previous=real[0]) == []


def test_fetch_closed_uses_previous_only_when_it_is_the_slot_before_start() -> None:
    quiet = {NEWEST - timedelta(minutes=4)}
    host = QuietHost(NEWEST - timedelta(days=1), quiet)
    start = NEWEST - timedelta(minutes=4)  # the quiet minute is the first asked
    adjacent = bar("BTCTRY", start - timedelta(minutes=1))
    got = fetch_closed(host, "BTCTRY", MINUTE, start, NEWEST, NOW, previous=adjacent)  # type: ignore[arg-type]
    assert [c.open_time for c in got.bars] == [start + timedelta(minutes=k) for k in range(5)]
    assert got.bars[0].close == adjacent.close and got.bars[0].volume == 0
    # a previous bar from long ago says nothing about the price at ``start``: the hole stays
    old = bar("BTCTRY", start - timedelta(minutes=30))
    got = fetch_closed(host, "BTCTRY", MINUTE, start, NEWEST, NOW, previous=old)  # type: ignore[arg-type]
    assert got.bars[0].open_time == start + timedelta(minutes=1)


def test_a_quiet_minute_inside_the_window_does_not_keep_a_fresh_bot_warming_up() -> None:
    hole = NEWEST - timedelta(minutes=1)  # like the simulator's start minute in the CI run
    host, store = QuietHost(NEWEST - timedelta(days=1), {hole}), MemoryCandleStore()
    report = backfill_history(host, store, ["BTCTRY"], MINUTE, 144, NOW)  # type: ignore[arg-type]
    assert report.complete and report.symbols[0].available == 144
    stored = store.latest("BTCTRY", MINUTE, 144)
    assert [c.open_time for c in stored] == [NEWEST - timedelta(minutes=143 - k) for k in range(144)]
    flat = stored[-2]
    assert flat.open_time == hole and flat.close == stored[-3].close and flat.volume == 0
    # the first cycle's feed finds the full window stored: it asks nothing and hands out 144 bars
    host.asked.clear()
    feed = MarketFeed(host, store, ["BTCTRY"], MINUTE, history=144, max_age_s=60)  # type: ignore[arg-type]
    bars, errors = feed.candles(NOW)
    assert errors == () and len(bars["BTCTRY"]) == 144 and host.asked == []


def test_the_feed_waits_for_a_missing_newest_bar_then_fills_it_when_the_next_one_comes() -> None:
    quiet_newest = NEWEST
    host = QuietHost(NEWEST - timedelta(days=1), {quiet_newest})
    store = MemoryCandleStore()
    feed = MarketFeed(host, store, ["BTCTRY"], MINUTE, history=60, max_age_s=60)  # type: ignore[arg-type]
    bars, _ = feed.candles(NOW)
    # not published (or nothing traded yet): no bar is made up at the end of the window
    assert bars["BTCTRY"][-1].open_time == NEWEST - timedelta(minutes=1)
    next_minute = NOW + timedelta(minutes=1)
    bars, _ = feed.candles(next_minute)
    got = bars["BTCTRY"]
    assert len(got) == 60 and got[-1].open_time == NEWEST + timedelta(minutes=1)
    assert got[-2].open_time == quiet_newest and got[-2].volume == 0
    assert got[-2].close == got[-3].close
    assert host.asked[-1] == (quiet_newest, NEWEST + timedelta(minutes=1))  # only the new range
