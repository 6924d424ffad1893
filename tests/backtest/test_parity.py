"""Acceptance 1: the same strategy (each built-in) through the backtester and through the LIVE trading cycle
against the simulator, both fed the same candles, produce the same intents at every bar.

The simulator replays the candles (``SimConfig.replay``, manual clock). The live side is the
real application (``btcbot.app.operations.start`` + ``app.cycle().run()``: real HTTP client,
SQLite database, reconcile, risk, order service), stepped one bar at a time; its strategy is
wrapped to record what it returned. The backtester replays the same candles with the same
settings. Each replayed bar is flat (open = high = low = close), so the simulator's price at a bar
boundary - the live ticker - is exactly the last closed bar's close, which is what the
backtester's ticker shows.

The edge minimum is set above any possible edge so every buy is denied on both sides: the
portfolio stays all cash, so equality of every intent (quantities and reasons included) at every
bar is required, not just of their direction; the denial codes must match too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from btcbot.app.operations import start
from btcbot.backtest.engine import BacktestEngine
from btcbot.config.settings import Settings, load_settings
from btcbot.contracts.strategy import MarketSnapshot, Strategy
from btcbot.data.synthetic import generate_candles
from btcbot.domain.intents import OrderIntent
from btcbot.domain.market import Candle
from btcbot.domain.portfolio import PortfolioView
from btcbot.persistence.migrations import upgrade
from btcbot.sim.engine.candles import Bar
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator
from btcbot.strategies.ema_cross import EmaCrossParams, EmaCrossStrategy
from btcbot.strategies.registry import load_strategy

SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
START = datetime(2026, 1, 1, tzinfo=UTC)
HISTORY_MIN = 200
LIVE_BARS = 12


def flat_candles() -> dict[str, list[Candle]]:
    """Synthetic 1m closes, each bar flattened to its close."""
    raw = generate_candles(SYMBOLS, 60, START - timedelta(minutes=HISTORY_MIN),
                           START + timedelta(minutes=LIVE_BARS + 2), seed=21)
    return {
        s: [Candle(s, 60, c.open_time, c.close, c.close, c.close, c.close, c.volume) for c in bars]
        for s, bars in raw.items()
    }


def as_bars(candles: Sequence[Candle]) -> list[Bar]:
    return [Bar(int(c.open_time.timestamp()), c.open, c.high, c.low, c.close, c.volume, c.volume * c.close)
            for c in candles]


SHORT_EMA_CROSS = "tests.backtest.test_parity:short_ema_cross"


def short_ema_cross(strategy_id: str) -> EmaCrossStrategy:
    """``ema_cross`` with EMA 5/12 and a 48-bar warmup (96 bars of history)."""
    return EmaCrossStrategy(strategy_id=strategy_id,
                            params=EmaCrossParams(fast_period=5, slow_period=12, warmup_multiple=4))


@dataclass
class Recorder:
    """A Strategy that delegates and records (now, intents) per decide call."""

    inner: Strategy
    calls: list[tuple[datetime, tuple[OrderIntent, ...]]] = field(default_factory=list)

    @property
    def strategy_id(self) -> str:
        return self.inner.strategy_id

    def required_history(self) -> int:
        return self.inner.required_history()

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> list[OrderIntent]:
        intents = self.inner.decide(snapshot, portfolio, tradable)
        self.calls.append((snapshot.now, tuple(intents)))
        return intents


@pytest.fixture
def candles() -> dict[str, list[Candle]]:
    return flat_candles()


@pytest.fixture
def sim(candles: dict[str, list[Candle]]) -> Iterator[SimHandle]:
    config = SimConfig(seed=21, start_time=START, history_minutes=HISTORY_MIN, rate_limits=False,
                       replay={s: as_bars(bars) for s, bars in candles.items()})
    with running_simulator(config) as handle:
        yield handle


def settings_for(sim: SimHandle, tmp_path: Path, strategy: str) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    environ = {
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": strategy,
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'live.db'}",
        "BTCBOT_CAPITAL__EDGE_MIN_BPS": "10000",
    }
    return load_settings(env_file=empty, environ=environ).settings


@pytest.mark.parametrize("strategy", ["trend", "rebalance", SHORT_EMA_CROSS])
def test_backtest_and_live_cycle_decide_the_same_intents_per_bar(
    sim: SimHandle, candles: dict[str, list[Candle]], tmp_path: Path, strategy: str
) -> None:
    settings = settings_for(sim, tmp_path, strategy)
    upgrade(settings.database.url)

    # ---- live: the real app, one cycle per bar boundary, on the simulator's market clock
    app = start(settings, clock=SimLinkedClock(sim))
    live_denials: dict[datetime, tuple[str, ...]] = {}
    try:
        cycle = app.cycle()
        recorder = Recorder(cycle.d.strategy)
        cycle.d.strategy = recorder
        for _ in range(LIVE_BARS):
            sim.admin.advance(60)
            result = cycle.run()
            assert not result.safe_mode, result.reasons
            live_denials[sim.clock.now()] = result.denied
    finally:
        app.close()
    live = dict(recorder.calls)
    assert len(live) == LIVE_BARS

    # ---- backtest: the same candles, the same settings, a decision at every bar close
    engine = BacktestEngine(settings, load_strategy(strategy, settings.trading.strategy_id), 60,
                            record_decisions=True)
    backtest_result = engine.run(candles)
    backtest = {d.at: d.intents for d in backtest_result.decisions}
    backtest_denied = {d.at: d.denied for d in backtest_result.decisions}

    assert sum(len(v) for v in live.values()) > 0, "the fixture must make the strategy want to trade"
    for at, intents in sorted(live.items()):
        assert at in backtest, at
        assert backtest[at] == intents, at
    # the risk engine denied the same intents for the same reasons on both sides, bar by bar
    for at, denied in sorted(live_denials.items()):
        assert backtest_denied[at] == denied, at
    assert any(live_denials.values())
