"""The trading commands in-process against the simulator over HTTP: safe mode's exit code 3,
breakers persisted between `once` runs, REDUCING on balance drift and `reconcile --apply
--reason` clearing it with an external posting, halt/resume, `status --json`, and replay.

The CLI entry point (``btcbot.cli.main.main``) runs in this process with BTCBOT_* variables
set; the bot uses the system clock, so the simulator's market clock follows the wall clock.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from btcbot.cli.main import main
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle, running_simulator
from cycle.harness import (
    EXIT_SAFE_MODE,
    LIMIT_BUY,
    bot_settings,
    consistency_violations,
    read_book,
    sqlite_url,
    wall_sim_config,
)

TICKER = "GET /api/v2/ticker"


@dataclass
class Bot:
    sim: SimHandle
    url: str
    capsys: pytest.CaptureFixture[str]

    def cli(self, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main(list(args))
        return code, self.capsys.readouterr().out

    def status(self) -> dict[str, Any]:
        code, out = self.cli("status", "--json")
        assert code == 0, out
        doc: dict[str, Any] = json.loads(out)
        return doc

    def scalar(self, sql: str) -> Any:
        engine = create_engine_for(self.url, 5000)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def requests_to(self, route: str, since: int = 0) -> int:
        method, _, template = route.partition(" ")
        log = self.sim.state()["request_log"][since:]
        return sum(1 for r in log if r["method"] == method and r["route"] == template)

    def log_size(self) -> int:
        return len(self.sim.state()["request_log"])


@pytest.fixture
def bot(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Bot]:
    url = sqlite_url(tmp_cwd / "bot.db")
    upgrade(url)
    with running_simulator(wall_sim_config(request_log_size=100_000)) as sim:
        for name, value in bot_settings(sim, url, BTCBOT_RESILIENCE__BREAKER_THRESHOLD="2").items():
            monkeypatch.setenv(name, value)
        yield Bot(sim, url, capsys)


def test_once_exits_3_on_stale_tickers_and_sends_nothing(bot: Bot) -> None:
    bot.sim.admin.set_fault(TICKER, kind="stale_ticker", seconds=3600)
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert "SAFE MODE" in out and "stale market data" in out
    assert bot.sim.state()["orders"] == []
    assert bot.scalar("SELECT exit_code FROM cycles") == EXIT_SAFE_MODE
    bot.sim.admin.clear_faults()
    code, out = bot.cli("once")
    assert code == 0, out
    assert len(bot.sim.state()["orders"]) == 5


def test_market_data_breaker_opens_exits_3_and_stays_open_for_the_next_once(bot: Bot) -> None:
    bot.sim.admin.set_fault(TICKER, kind="error", status=503)
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert bot.status()["breakers"]["market_data"] == "OPEN"
    bot.sim.admin.clear_faults()  # the exchange is fine again, but the breaker's cool-down is not over
    before = bot.log_size()
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert "market_data breaker OPEN" in out
    assert bot.requests_to(TICKER, since=before) == 0  # the persisted breaker kept the call from being made
    assert bot.sim.state()["orders"] == []


def test_maintenance_while_holding_coins_is_safe_mode_not_a_loss(bot: Bot) -> None:
    assert bot.cli("once")[0] == 0  # buys all five
    snapshots = bot.scalar("SELECT count(*) FROM snapshots")
    bot.sim.admin.set_fault(TICKER, kind="maintenance", message="SYSTEM_UNDER_MAINTENANCE")
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    status = bot.status()
    assert status["trading_state"] == "ACTIVE"  # no marks is not a 100 % loss of the coins
    assert bot.scalar("SELECT count(*) FROM snapshots") == snapshots
    assert Decimal(status["equity"]) > Decimal("99000")


def test_balance_drift_goes_reducing_until_reconcile_apply_records_it(bot: Bot) -> None:
    assert bot.cli("once")[0] == 0
    held = read_book(bot.url).wallet["BTC"]
    lower = (held / 2).quantize(Decimal("0.00000001"))
    bot.sim.admin.set_balance("BTC", lower)  # someone withdrew half the BTC
    assert bot.cli("once")[0] == 0
    assert bot.status()["trading_state"] == "ACTIVE"  # one cycle of drift may be a fill in flight
    assert bot.cli("once")[0] == 0
    status = bot.status()
    assert status["trading_state"] == "REDUCING"
    assert "balance drift" in status["trading_state_reason"]

    code, out = bot.cli("reconcile")
    assert code == 0 and "BTC" in out and "plan only" in out
    assert bot.status()["trading_state"] == "REDUCING"  # the plan alone changes nothing
    code, out = bot.cli("reconcile", "--apply")
    assert code == 2, out  # recording a withdrawal needs a reason
    code, out = bot.cli("reconcile", "--apply", "--reason", "withdrew BTC to cold storage")
    assert code == 0, out
    assert "REDUCING cleared" in out
    assert bot.status()["trading_state"] == "ACTIVE"
    reason = bot.scalar("SELECT reason FROM ledger_entries WHERE account = 'external' AND asset = 'BTC'")
    assert reason is not None and "withdrew BTC to cold storage" in reason
    assert consistency_violations(bot.sim.state(), read_book(bot.url)) == []
    assert bot.cli("once")[0] == 0
    assert bot.status()["trading_state"] == "ACTIVE"


def test_halt_stops_trading_until_resume(bot: Bot) -> None:
    code, out = bot.cli("halt", "--reason", "exchange announcement")
    assert code == 0 and "HALTED" in out
    status = bot.status()
    assert status["trading_state"] == "HALTED" and "exchange announcement" in status["trading_state_reason"]
    assert bot.cli("once")[0] == 0
    assert bot.sim.state()["orders"] == []
    assert bot.status()["trading_state"] == "HALTED"  # never lifts by itself
    code, out = bot.cli("resume", "--reason", "announcement read")
    assert code == 0 and "ACTIVE" in out
    assert bot.cli("once")[0] == 0
    assert len(bot.sim.state()["orders"]) == 5


def test_status_json_reports_the_books(bot: Bot) -> None:
    assert bot.cli("once")[0] == 0
    status = bot.status()
    assert status["mode"] == "live"
    assert status["trading_state"] == "ACTIVE"
    assert set(status["wallet"]) == {"TRY", "BTC", "ETH", "XRP", "AVAX", "SOL"}
    book = read_book(bot.url)
    assert {a: Decimal(v) for a, v in status["wallet"].items()} == book.wallet
    assert len(status["recent_orders"]) == 5 and all(o["state"] == "FILLED" for o in status["recent_orders"])
    assert status["open_orders"] == []
    assert status["last_cycle"]["cycle_id"] == 1 and status["last_cycle"]["outcome"] == "ok"
    assert Decimal(status["equity"]) > Decimal("99000")
    assert set(status["breakers"].values()) <= {"CLOSED"}


def test_replay_of_a_recorded_cycle_matches_and_a_tampered_one_does_not(bot: Bot) -> None:
    assert bot.cli("once")[0] == 0
    code, out = bot.cli("replay", "1")
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "MATCH"
    # Tamper with what was recorded: replay must notice.
    engine = create_engine_for(bot.url, 5000)
    try:
        with engine.begin() as conn:
            doc = json.loads(conn.execute(text("SELECT decision_inputs FROM cycles WHERE cycle_id = 1")).scalar_one())
            doc["decisions"][0]["quantity"] = "1"
            conn.execute(text("UPDATE cycles SET decision_inputs = :d WHERE cycle_id = 1"), {"d": json.dumps(doc)})
    finally:
        engine.dispose()
    code, out = bot.cli("replay", "1")
    assert code != 0
    assert out.strip().splitlines()[-1] == "MISMATCH"


def test_safe_mode_cancels_resting_buys_and_sends_no_entry(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", LIMIT_BUY)
    assert bot.cli("once")[0] == 0
    resting = {o["client_id"] for o in bot.sim.state()["orders"] if o["status"] in ("Untouched", "Partial")}
    assert len(resting) == 5
    bot.sim.admin.set_fault(TICKER, kind="stale_ticker", seconds=3600)
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert {cid: s for cid, (s, _) in read_book(bot.url).orders.items()} == dict.fromkeys(resting, "CANCEL_REQUESTED")
    time.sleep(1.0)  # the simulator's asynchronous cancel completes
    assert bot.cli("once")[0] == EXIT_SAFE_MODE
    state = bot.sim.state()
    assert len(state["orders"]) == 5 and all(o["status"] == "Canceled" for o in state["orders"])
    assert {s for s, _ in read_book(bot.url).orders.values()} == {"CANCELED"}


def test_unreachable_exchange_is_safe_mode_exit_3(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bot.cli("once")[0] == 0  # venue rules now cached in the database
    dead = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("BTCBOT_EXCHANGE__BASE_URL", dead)
    monkeypatch.setenv("BTCBOT_EXCHANGE__GRAPH_URL", dead)
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert "SAFE MODE" in out and "unavailable" in out
    assert bot.status()["trading_state"] == "ACTIVE"


def test_unreachable_exchange_on_a_new_database_is_exit_3(bot: Bot, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_cwd: Path) -> None:
    url = sqlite_url(tmp_cwd / "fresh.db")
    upgrade(url)
    dead = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("BTCBOT_DATABASE__URL", url)
    monkeypatch.setenv("BTCBOT_EXCHANGE__BASE_URL", dead)
    monkeypatch.setenv("BTCBOT_EXCHANGE__GRAPH_URL", dead)
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert "skipped (safe mode)" in out


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connections are refused


@pytest.mark.parametrize(("route", "group"), [(TICKER, "market_data"), ("GET /api/v1/users/balances", "account")])
def test_reconcile_and_apply_work_while_a_saved_breaker_is_open(bot: Bot, route: str, group: str) -> None:
    assert bot.cli("once")[0] == 0
    bot.sim.admin.set_fault(route, kind="maintenance", message="SYSTEM_UNDER_MAINTENANCE")
    assert bot.cli("once")[0] == EXIT_SAFE_MODE
    assert bot.status()["breakers"][group] == "OPEN"  # saved: the next process starts with it open
    bot.sim.admin.clear_faults()
    held = read_book(bot.url).wallet["BTC"]
    bot.sim.admin.set_balance("BTC", (held / 2).quantize(Decimal("0.00000001")))  # a withdrawal

    code, out = bot.cli("reconcile")  # the operator's tool for exactly this moment
    assert code == 0, out
    assert "balance_drift" in out and "BTC" in out
    code, out = bot.cli("reconcile", "--apply", "--reason", "withdrew BTC during maintenance")
    assert code == 0, out
    assert consistency_violations(bot.sim.state(), read_book(bot.url)) == []
    assert bot.status()["breakers"][group] == "OPEN"  # the bot's own breaker is left to its cool-down


def test_reconcile_says_in_one_line_why_not_when_the_exchange_is_really_down(bot: Bot) -> None:
    assert bot.cli("once")[0] == 0
    bot.sim.admin.set_fault("GET /api/v1/users/balances", kind="maintenance", message="SYSTEM_UNDER_MAINTENANCE")
    code, out = bot.cli("reconcile")
    assert code == 1
    assert bot.scalar("SELECT count(*) FROM cycles WHERE settings_hash = 'reconcile'") == 0  # nothing written


def test_equity_while_a_held_coin_has_no_price_is_unknown_never_zero(
    bot: Bot, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    textfile = tmp_cwd / "btcbot.prom"
    monkeypatch.setenv("BTCBOT_OBSERVABILITY__METRICS_TEXTFILE", str(textfile))
    code, out = bot.cli("once")  # buys all five
    assert code == 0 and "equity unknown" not in out

    bot.sim.admin.set_fault(TICKER, kind="maintenance", message="SYSTEM_UNDER_MAINTENANCE")
    code, out = bot.cli("once")
    assert code == EXIT_SAFE_MODE, out
    assert "equity unknown" in out, out  # not the cash alone, as if the coins were worth 0
    gauges = dict(line.split(" ", 1) for line in textfile.read_text().splitlines()
                  if line.startswith(("portfolio_equity ", "drawdown_pct ")))
    assert gauges == {"portfolio_equity": "NaN", "drawdown_pct": "NaN"}
    assert Decimal(bot.status()["equity"]) > Decimal("99000")  # the last known equity, coins priced
