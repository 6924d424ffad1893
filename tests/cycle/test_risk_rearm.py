"""``btcbot risk rearm --reason``: after the last drawdown tier the high-water mark can be reset to
the current equity by an operator, journaled and alerted (issue 11, item 10).

Before: the high-water mark never came down, so a bot at the last tier with a flat book was
denied every buy (``RISK_DRAWDOWN_DERISK_ACTIVE``) forever. The simulator ticks once a day here,
so prices move only when the test sets them.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import acquire
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import running_simulator
from cycle.harness import MARKET_BUY, bot_settings, read_book, sqlite_url, wall_sim_config
from cycle.test_cycle_commands import Bot

IDLE = "cycle.test_risk_rearm:Idle"
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


class Idle:
    """Never trades."""

    def __init__(self, strategy_id: str) -> None:
        self._strategy_id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    def required_history(self) -> int:
        return 0

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView,
               tradable_symbols: Sequence[str]) -> list[OrderIntent]:
        return []


@pytest.fixture
def bot(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Bot]:
    url = sqlite_url(tmp_cwd / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config(tick_seconds=86_400.0)) as sim:
        for name, value in bot_settings(sim, url, BTCBOT_TRADING__STRATEGY=IDLE).items():
            monkeypatch.setenv(name, value)
        yield Bot(sim, url, capsys)


def _execute(bot: Bot, sql: str) -> None:
    engine = create_engine_for(bot.url, 5000)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _stuck_at_the_last_tier(bot: Bot, high_water: str) -> None:
    """The state a bot reaches after a 23 % drawdown that it closed out: raise the recorded mark."""
    _execute(bot, f"UPDATE snapshots SET high_water_mark = '{high_water}'")


def test_a_flat_book_at_the_last_tier_buys_again_only_after_a_rearm(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bot.cli("once")[0] == 0  # genesis: 100 000 TRY, nothing traded
    _stuck_at_the_last_tier(bot, "130000")  # DD = 1 - 100 000 / 130 000 = 23 % >= 15 %: m_dd 0
    monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", MARKET_BUY)
    for _ in range(2):
        code, out = bot.cli("once")
        assert code == 0, out
        assert "RISK_DRAWDOWN_DERISK_ACTIVE" in out or "RISK_TRADING_REDUCING" in out
    assert bot.sim.state()["orders"] == []  # stuck: the mark never comes down by itself
    assert bot.status()["trading_state"] == "REDUCING"

    code, out = bot.cli("risk", "rearm", "--reason", "loss accepted after review")
    assert code == 0, out
    assert "high-water mark 130000 -> 100000" in out and "23.08 %" in out
    assert Decimal(bot.status()["high_water_mark"]) == Decimal("100000")
    # The next cycle lifts REDUCING (its decisions still saw it); the one after buys all five.
    assert bot.cli("once")[0] == 0
    assert bot.status()["trading_state"] == "ACTIVE"
    assert bot.cli("once")[0] == 0
    assert len(bot.sim.state()["orders"]) == len(SYMBOLS)


def test_a_rearm_is_journaled_alerted_and_shown(bot: Bot) -> None:
    assert bot.cli("once")[0] == 0
    _stuck_at_the_last_tier(bot, "130000")
    code, out = bot.cli("risk", "show")
    assert code == 0 and "last re-arm     never" in out and "m_dd 0" in out, out
    assert bot.cli("risk", "rearm", "--reason", "flat book, loss accepted")[0] == 0

    code, out = bot.cli("risk", "show", "--json")
    doc = json.loads(out)
    last = doc["last_rearm"]
    assert (last["old_high_water"], last["new_high_water"], last["reason"]) == (
        "130000", "100000", "flat book, loss accepted")
    assert doc["drawdown"] == "0" and doc["m_dd"] == "1.0"
    payload = bot.scalar("SELECT payload FROM order_events WHERE event = 'risk_rearm'")
    assert json.loads(payload)["reason"] == "flat book, loss accepted"
    assert bot.scalar("SELECT count(*) FROM outbox WHERE key LIKE 'alert:risk_rearm:%'") == 1
    assert bot.status()["last_rearm"] == last  # `status --json` shows it too
    code, out = bot.cli("status")
    assert code == 0 and "last re-arm" in out and "flat book, loss accepted" in out, out


def test_held_coins_are_valued_at_the_current_price(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", MARKET_BUY)
    assert bot.cli("once")[0] == 0  # buys all five
    prices = {"BTCTRY": Decimal("2000000"), "ETHTRY": Decimal("100000"), "XRPTRY": Decimal("20"),
              "AVAXTRY": Decimal("1000"), "SOLTRY": Decimal("5000")}
    for symbol, price in prices.items():
        bot.sim.admin.set_price(symbol, price)
    _stuck_at_the_last_tier(bot, "500000")
    assert bot.cli("risk", "rearm", "--reason", "revalued")[0] == 0
    wallet = read_book(bot.url).wallet
    expected = wallet["TRY"] + sum((wallet[s[:-3]] * p for s, p in prices.items()), Decimal(0))
    assert Decimal(bot.status()["high_water_mark"]) == expected


def test_no_price_for_held_coins_changes_nothing(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", MARKET_BUY)
    assert bot.cli("once")[0] == 0
    _stuck_at_the_last_tier(bot, "130000")
    bot.sim.admin.set_fault("GET /api/v2/ticker", kind="error", status=500)
    code, out = bot.cli("risk", "rearm", "--reason", "x")
    assert code == 1
    assert Decimal(bot.status()["high_water_mark"]) == Decimal("130000")
    assert bot.scalar("SELECT count(*) FROM order_events WHERE event = 'risk_rearm'") == 0


def test_refusals_write_nothing(bot: Bot) -> None:
    code, _ = bot.cli("risk", "rearm", "--reason", "   ")
    assert code == 2
    code, _ = bot.cli("risk", "rearm")  # --reason is required
    assert code == 2
    code, _ = bot.cli("risk", "rearm", "--reason", "before any cycle")
    assert code == 2  # no high-water mark yet
    assert bot.cli("once")[0] == 0
    _stuck_at_the_last_tier(bot, "130000")
    engine = create_engine_for(bot.url, 5000)
    try:  # another live instance on another host holds the lease
        acquire(engine, socket.gethostname() + "-other", os.getpid(), 600, datetime.now(UTC))
    finally:
        engine.dispose()
    code, _ = bot.cli("risk", "rearm", "--reason", "while another instance runs")
    assert code == 75
    assert Decimal(bot.status()["high_water_mark"]) == Decimal("130000")
    assert bot.scalar("SELECT count(*) FROM meta WHERE key = 'risk.last_rearm'") == 0
