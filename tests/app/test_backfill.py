"""Backfill at start (issue 12 item 6): a fresh bot fetches the history its strategy needs from the
klines route before the first cycle, so it decides at once instead of holding for days.

End to end: a fresh paper bot with the DEFAULT settings (``trend`` on hourly bars: 144 bars)
against the simulator (rate limits on) decides on its first cycle, with no private call; a
restart after a stop fetches only the gap. Unit: paging, a host that caps its pages, a gap longer
than the window, a failing fetch, and the market feed after a gap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cycle.harness import bot_settings, sqlite_url, wall_sim_config

from btcbot.app.backfill import backfill_history
from btcbot.app.operations import start
from btcbot.cli.main import main
from btcbot.config.settings import Settings, load_settings
from btcbot.domain.errors import TransientError
from btcbot.domain.market import Candle
from btcbot.persistence.candles import SqlCandleStore
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.services.market_feed import MarketFeed
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator

SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
KLINES = "/v1/klines/history"


# ---- end to end: the simulator --------------------------------------------------------------------

@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(SimConfig(seed=11)) as handle:  # default history, rate limits on
        yield handle


def default_paper_settings(sim: SimHandle, tmp_path: Path) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    environ = {  # nothing about the strategy: the defaults (trend, 3600 s bars)
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'paper.db'}",
    }
    settings = load_settings(env_file=empty, environ=environ).settings
    assert settings.trading.dry_run and settings.trading.strategy == "trend"
    assert settings.trading.candle_interval_s == 3600
    upgrade(settings.database.url)
    return settings


def routes(sim: SimHandle) -> Counter[str]:
    return Counter(e["route"] for e in sim.state()["request_log"])


def stored_bars(settings: Settings, symbol: str) -> list[Candle]:
    engine = create_engine_for(settings.database.url)
    try:
        return SqlCandleStore(engine).latest(symbol, 3600, 1000)
    finally:
        engine.dispose()


def test_a_fresh_paper_bot_with_the_default_strategy_decides_on_its_first_cycle(
    sim: SimHandle, tmp_path: Path
) -> None:
    settings = default_paper_settings(sim, tmp_path)
    app = start(settings, clock=SimLinkedClock(sim))
    try:
        cycle = app.cycle()  # builds the cycle: the backfill runs here, before the first cycle
        assert routes(sim)[KLINES] == len(SYMBOLS)  # one page per symbol: 144 bars < 1000
        result = cycle.run()
    finally:
        app.close()
    # the strategy had its 144 bars: it formed an opinion and traded, it did not warm up
    assert result.intents > 0 and result.submitted > 0 and not result.safe_mode, result
    assert routes(sim)[KLINES] == len(SYMBOLS)  # the cycle found the bars in the store
    assert not [r for r in routes(sim) if r.startswith("/api/v1/")]  # paper: no private call
    for symbol in SYMBOLS:
        bars = stored_bars(settings, symbol)
        assert len(bars) == 144, symbol
        steps = {(b.open_time - a.open_time).total_seconds() for a, b in zip(bars, bars[1:], strict=False)}
        assert steps == {3600.0}  # contiguous hourly bars up to the last closed hour
        assert bars[-1].close_time <= sim.clock.now() < bars[-1].close_time + timedelta(hours=1)


def test_a_restart_after_a_stop_fetches_only_the_gap(sim: SimHandle, tmp_path: Path) -> None:
    settings = default_paper_settings(sim, tmp_path)
    app = start(settings, clock=SimLinkedClock(sim))
    try:
        app.cycle()
    finally:
        app.close()
    newest = stored_bars(settings, "BTCTRY")[-1].open_time
    sim.admin.advance(3 * 3600)  # the bot was stopped for three hours
    before = routes(sim)[KLINES]
    app = start(settings, clock=SimLinkedClock(sim))
    try:
        app.cycle()
    finally:
        app.close()
    assert routes(sim)[KLINES] - before == len(SYMBOLS)
    bars = stored_bars(settings, "BTCTRY")
    assert [b.open_time for b in bars[-4:]] == [newest + timedelta(hours=h) for h in range(4)]
    assert len(bars) == 147  # 144 + the 3 bars of the gap, nothing fetched twice


def test_a_fresh_live_bot_backfills_too_and_decides_on_its_first_once(
    tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_url(tmp_cwd / "live.db")
    upgrade(db)
    with running_simulator(wall_sim_config()) as live_sim:  # default history, market time = now
        settings = bot_settings(live_sim, db, BTCBOT_TRADING__STRATEGY="trend", BTCBOT_TRADING__CANDLE_INTERVAL_S="3600")
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        assert main(["once"]) == 0
        asked = routes(live_sim)
    engine = create_engine_for(db)
    try:
        assert len(SqlCandleStore(engine).latest("BTCTRY", 3600, 1000)) == 144
    finally:
        engine.dispose()
    assert asked[KLINES] == len(SYMBOLS)
    assert asked["/api/v1/order"] > 0  # live: the strategy decided and sent orders on its first cycle


# ---- unit: a fake klines host ------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
MINUTE = 60


def bar(symbol: str, open_time: datetime) -> Candle:
    one = Decimal(1)
    return Candle(symbol, MINUTE, open_time, one, one, one, one, one)


class Host:
    """Serves one 1m bar per minute from ``first``; ``cap`` bars per answer at most (oldest first);
    ``fail`` raises on every call; records every asked range."""

    def __init__(self, first: datetime, cap: int | None = None, fail: bool = False) -> None:
        self.first, self.cap, self.fail = first, cap, fail
        self.asked: list[tuple[str, datetime, datetime]] = []

    def candles(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]:
        self.asked.append((symbol, start, end))
        if self.fail:
            raise TransientError("graph host down")
        out: list[Candle] = []
        t = max(start, self.first)
        while t <= end and (self.cap is None or len(out) < self.cap):
            out.append(bar(symbol, t))
            t += timedelta(seconds=interval_s)
        return out


NEWEST = datetime(2026, 3, 2, 11, 59, tzinfo=UTC)  # the last bar closed at NOW


def test_pages_of_page_bars_fill_the_window() -> None:
    host, store = Host(NEWEST - timedelta(days=30)), MemoryCandleStore(keep=10_000)
    report = backfill_history(host, store, ["BTCTRY"], MINUTE, 2500, NOW, page_bars=1000)  # type: ignore[arg-type]
    assert report.complete and report.fetched == 2500 and report.requests == 3
    assert [(s, e - s) for _, s, e in host.asked] == [
        (NEWEST - timedelta(minutes=2499), timedelta(minutes=999)),
        (NEWEST - timedelta(minutes=1499), timedelta(minutes=999)),
        (NEWEST - timedelta(minutes=499), timedelta(minutes=499)),
    ]
    latest = store.latest("BTCTRY", MINUTE, 2500)
    assert len(latest) == 2500 and latest[-1].open_time == NEWEST
    # a second start finds everything stored: no request
    again = backfill_history(host, store, ["BTCTRY"], MINUTE, 2500, NOW, page_bars=1000)  # type: ignore[arg-type]
    assert again.requests == 0 and again.complete and len(host.asked) == 3


def test_a_host_that_caps_its_pages_is_asked_again_from_its_last_bar() -> None:
    host, store = Host(NEWEST - timedelta(days=1), cap=300), MemoryCandleStore()
    report = backfill_history(host, store, ["BTCTRY"], MINUTE, 520, NOW)  # type: ignore[arg-type]
    assert report.complete and report.fetched == 520 and report.requests == 2
    assert host.asked[1][1] == NEWEST - timedelta(minutes=519 - 300)


def test_a_gap_longer_than_the_window_fetches_only_the_window_and_a_short_host_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryCandleStore()
    old = NEWEST - timedelta(days=10)
    store.add([bar("BTCTRY", old - timedelta(minutes=i)) for i in range(520)])  # full, 10 days old
    host = Host(NEWEST - timedelta(days=30))
    report = backfill_history(host, store, ["BTCTRY"], MINUTE, 520, NOW)  # type: ignore[arg-type]
    assert [s for _, s, _ in host.asked] == [NEWEST - timedelta(minutes=519)]  # not 10 days of bars
    assert report.complete and report.fetched == 520
    # a pair listed 100 minutes ago: 100 of 520, and the line says how long the warm-up takes
    young = Host(NEWEST - timedelta(minutes=99))
    short = backfill_history(young, MemoryCandleStore(), ["ETHTRY"], MINUTE, 520, NOW)  # type: ignore[arg-type]
    assert not short.complete and short.symbols[0].available == 100
    assert short.summary().endswith(
        "short: ETHTRY 100 of 520 (the exchange has no older bars; warms up in about 7 hours)")


def test_a_failed_fetch_is_logged_not_raised_and_needed_zero_asks_nothing() -> None:
    host = Host(NEWEST, fail=True)
    report = backfill_history(host, MemoryCandleStore(), SYMBOLS, MINUTE, 520, NOW)  # type: ignore[arg-type]
    assert [s.error for s in report.symbols] == ["TransientError"] * len(SYMBOLS)
    assert len(host.asked) == 1  # the host is down: the other symbols are not asked
    assert "fetch failed (TransientError)" in report.summary()
    idle = Host(NEWEST)
    assert backfill_history(idle, MemoryCandleStore(), SYMBOLS, MINUTE, 0, NOW).symbols == ()  # type: ignore[arg-type]
    assert idle.asked == []


def test_the_market_feed_after_a_gap_fetches_only_the_window_in_pages() -> None:
    store = MemoryCandleStore(keep=10_000)
    host = Host(NEWEST - timedelta(days=30), cap=1000)
    feed = MarketFeed(host, store, ["BTCTRY"], MINUTE, history=1500, max_age_s=60)  # type: ignore[arg-type]
    bars, errors = feed.candles(NOW - timedelta(days=3))  # running, then the exchange was away 3 days
    assert errors == () and len(bars["BTCTRY"]) == 1500
    host.asked.clear()
    bars, errors = feed.candles(NOW)
    assert errors == () and len(bars["BTCTRY"]) == 1500 and bars["BTCTRY"][-1].open_time == NEWEST
    assert host.asked[0][1] == NEWEST - timedelta(minutes=1499)  # the window, not 3 days of bars
    assert len(host.asked) == 2  # 1500 bars in pages of at most 1000
