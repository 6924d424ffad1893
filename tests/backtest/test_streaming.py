"""Streamed backtests: candles read from the SQLite store as a stream give the same run as lists,
and the raw SQLite reader returns exactly what the paged SQLAlchemy reader returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from btcbot.backtest.engine import BacktestEngine
from btcbot.backtest.report import report_to_json
from btcbot.backtest.run_report import report_for_run
from btcbot.backtest.runner import NoCandles, stream_candles
from btcbot.backtest.tracking import PriceTrack
from btcbot.config.settings import Settings, load_settings
from btcbot.data.synthetic import generate_candles
from btcbot.persistence.candles import SqlCandleStore
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.strategies.registry import load_strategy

T0 = datetime(2025, 5, 1, tzinfo=UTC)
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return load_settings(env_file=empty, environ={}).settings


def test_streamed_from_the_store_equals_lists_in_memory(settings: Settings, tmp_path: Path) -> None:
    end = T0 + timedelta(hours=20)
    candles = generate_candles(SYMBOLS, 60, T0, end, seed=3)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    db = create_engine_for(url)
    try:
        store = SqlCandleStore(db)
        for series in candles.values():
            store.add(series)
        last = end - timedelta(seconds=1)
        for symbol in SYMBOLS:
            raw = list(store.iter_range(symbol, 60, T0, last))
            assert raw == list(store._iter_pages(symbol, 60, T0, last)) == candles[symbol]
        # bounds are inclusive, like range()
        assert [c.open_time for c in store.iter_range("BTCTRY", 60, T0 + timedelta(minutes=5),
                                                      T0 + timedelta(minutes=7))] == [
            T0 + timedelta(minutes=m) for m in (5, 6, 7)]
        listed = BacktestEngine(settings, load_strategy("ema_cross", "s1"), 60).run(candles)
        streamed = BacktestEngine(settings, load_strategy("ema_cross", "s1"), 60).run(
            {s: store.iter_range(s, 60, T0, last) for s in SYMBOLS}, keep_bars=False)
    finally:
        db.dispose()
    assert listed.trades, "the fixture should trade"
    assert streamed.trades == listed.trades
    assert streamed.equity_curve == listed.equity_curve
    assert streamed.base_bars == listed.base_bars == 5 * 20 * 60
    assert streamed.strategy_bars == listed.strategy_bars and streamed.bars == {}


def test_streamed_minutes_are_aggregated_on_the_fly(settings: Settings) -> None:
    candles = generate_candles(SYMBOLS, 60, T0, T0 + timedelta(days=3), seed=4)
    listed = BacktestEngine(settings, load_strategy("trend", "s1"), 3600).run(candles)
    streamed = BacktestEngine(settings, load_strategy("trend", "s1"), 3600).run(
        {s: iter(v) for s, v in candles.items()})
    assert streamed.bars == listed.bars and streamed.equity_curve == listed.equity_curve
    assert streamed.base_bars == 5 * 3 * 1440 and streamed.strategy_bars == 72


def test_streamed_report_equals_the_report_over_kept_bars(settings: Settings, tmp_path: Path) -> None:
    """PriceTrack (streamed buy-and-hold, last closes) + fill opens give the very report that the
    kept bars give; one symbol starts late so the benchmark buys after the first bar."""
    candles = generate_candles(SYMBOLS, 60, T0, T0 + timedelta(hours=30), seed=3)
    candles["SOLTRY"] = candles["SOLTRY"][95:]
    capital = settings.capital
    cash = capital.paper_starting_balance

    def engine() -> BacktestEngine:
        return BacktestEngine(settings, load_strategy("ema_cross", "s1"), 60)

    kept = engine().run(candles)
    track = PriceTrack(SYMBOLS, cash, capital.taker_fee_bps, capital.fee_tax_ratio, capital.slippage_bps, 3600)
    streamed = engine().run({s: iter(v) for s, v in candles.items()}, keep_bars=False, observer=track)
    track.finish()
    assert kept.trades and streamed.trades == kept.trades
    assert len(streamed.fill_opens) == len(kept.trades)
    assert streamed.bars == {}
    before = report_for_run(settings, 60, kept, cash)
    after = report_for_run(settings, 60, streamed, cash, track)
    assert before.benchmark_curve[0][1] == cash and before.benchmark_curve[-1][1] != cash
    assert after == before
    assert report_to_json(after) == report_to_json(before)
    # Chart series: the last close of every hour of bar time, and the very last close.
    btc = candles["BTCTRY"]
    assert track.samples["BTCTRY"][0] == (btc[59].close_time, btc[59].close)
    assert track.samples["BTCTRY"][-1] == (btc[-1].close_time, btc[-1].close)
    assert len(track.samples["BTCTRY"]) == 30
    assert track.samples["SOLTRY"][0] == (candles["SOLTRY"][24].close_time, candles["SOLTRY"][24].close)
    assert track.last_prices == {s: v[-1].close for s, v in candles.items()}


def test_stream_candles_reads_the_store_lazily_and_refuses_missing_symbols(settings: Settings, tmp_path: Path) -> None:
    end = T0 + timedelta(hours=2)
    candles = generate_candles(SYMBOLS, 60, T0, end, seed=5)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    db = create_engine_for(url)
    try:
        store = SqlCandleStore(db)
        for series in candles.values():
            store.add(series)
        streams = stream_candles(store, SYMBOLS, 3600, T0, T0 + timedelta(hours=1))
        assert not any(isinstance(s, list) for s in streams.values())
        assert {s: list(v) for s, v in streams.items()} == {s: v[:60] for s, v in candles.items()}
        with pytest.raises(NoCandles):
            stream_candles(store, SYMBOLS, 3600, end, end + timedelta(hours=1))
        with pytest.raises(NoCandles):
            stream_candles(store, (*SYMBOLS, "USDTTRY"), 3600, T0, end)
    finally:
        db.dispose()
