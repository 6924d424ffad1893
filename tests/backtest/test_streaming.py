"""Streamed backtests: candles read from the SQLite store as a stream give the same run as lists,
and the raw SQLite reader returns exactly what the paged SQLAlchemy reader returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from btcbot.backtest.engine import BacktestEngine
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
