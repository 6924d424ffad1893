"""`btcbot status` answers "is my bot OK and why is it not trading" (issue 13 item 3), for a bot
that traded against the simulator: the human table and `--json` (every old key kept), the last
cycle's intents with their risk decisions and denial codes, the strategy's hold, a pending balance
shortfall or surplus, open breakers with their cool-down end, HALTED, an unpriced coin (equity
unknown), the capital-policy figures of the last cycle and the month's profit, fees and taxes. It
writes nothing.

In-process CLI (``btcbot.cli.main.main``) with BTCBOT_* variables, live mode against the
simulator over HTTP on 127.0.0.1 (the simulator's market clock follows the wall clock).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cycle.harness import bot_settings, read_book, sqlite_url, wall_sim_config
from cycle.harness import dump_tables as dump

from btcbot.cli.main import main
from btcbot.config.groups.capital import CapitalSettings
from btcbot.domain.ledger import Account
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.sim.testing import SimHandle, running_simulator

TICKER = "GET /api/v2/ticker"
KEYS_BEFORE_ISSUE_13 = {
    "mode", "trading_state", "trading_state_reason", "trading_state_since", "equity", "high_water_mark",
    "day_start_equity", "last_rearm", "reserve_bucket", "wallet", "open_orders", "recent_orders", "breakers",
    "last_cycle",
}



@dataclass
class Bot:
    sim: SimHandle
    db: Path
    capsys: pytest.CaptureFixture[str]

    def cli(self, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main(list(args))
        return code, self.capsys.readouterr().out

    def status(self) -> tuple[dict[str, Any], list[str]]:
        """(``status --json``, the human table's lines); both must exit 0 and write nothing."""
        before = dump(self.db)
        code, out = self.cli("status", "--json")
        assert code == 0, out
        code, table = self.cli("status")
        assert code == 0, table
        assert dump(self.db) == before
        doc: dict[str, Any] = json.loads(out)
        return doc, table.splitlines()


@pytest.fixture
def make_bot(
    tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., Bot]]:
    db = tmp_cwd / "bot.db"
    upgrade(sqlite_url(db))
    with running_simulator(wall_sim_config()) as sim:

        def make(**extra: str) -> Bot:
            for name, value in bot_settings(sim, sqlite_url(db), **extra).items():
                monkeypatch.setenv(name, value)
            return Bot(sim, db, capsys)

        yield make


def line(table: list[str], label: str) -> str:
    found = [x for x in table if x.startswith(label)]
    assert found, f"no line {label!r} in:\n" + "\n".join(table)
    return found[0]


def ledger(bot: Bot, account: Account) -> Decimal:
    engine = create_engine_for(sqlite_url(bot.db), 5000)
    try:
        with SqlUnitOfWork(engine) as uow:
            return uow.ledger.balance(account, "TRY")
    finally:
        engine.dispose()


def test_a_bot_that_traded_then_held(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    assert bot.cli("once")[0] == 0  # buys all five (MarketBuyOnce)
    doc, table = bot.status()
    assert set(doc) >= KEYS_BEFORE_ISSUE_13
    assert doc["ok"] is True and doc["problems"] == []
    decided = doc["last_decisions"]
    assert decided["cycle_id"] == 1 and decided["intents"] == 5 and decided["submitted"] == 5
    assert {(d["symbol"], d["side"], d["decision"]) for d in decided["decisions"]} == {
        (s, "BUY", "approved") for s in ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
    }
    assert line(table, "verdict") == "verdict         OK"
    assert line(table, "last decisions") == "last decisions  cycle 1: 5 intents, 5 sent"
    assert any(x.startswith("  BUY BTCTRY MARKET ") and x.endswith(" approved") for x in table)

    # Month to date: fees and taxes are the ledger's (all booked this month), nothing realized yet.
    profit = doc["profit"]
    assert Decimal(profit["fees_mtd"]) == ledger(bot, Account.FEES) > 0
    assert Decimal(profit["taxes_mtd"]) == ledger(bot, Account.TAXES) > 0
    assert Decimal(profit["realized_mtd"]) == 0
    assert Decimal(profit["unrealized"]) < 0  # bought at the ask, marked at the last price, fees in the cost
    fees = Decimal(profit["fees_mtd"]).quantize(Decimal("0.01"))
    assert f"fees {fees}," in line(table, f"profit {profit['month']}")

    # Capital policy of the last cycle: the design document's formulas on the recorded figures.
    p = doc["capital_policy"]
    cap = CapitalSettings()
    base, res, buffer = Decimal(p["capital_base"]), Decimal(p["reserved_cash"]), Decimal(p["fee_buffer"])
    assert base == Decimal(doc["equity"])
    assert res == max(cap.reserve_abs, cap.reserve_ratio * base)
    assert buffer >= cap.fee_min_abs
    assert Decimal(p["cash_floor"]) == res + buffer
    assert Decimal(p["tradable_capital"]) == max(Decimal(0), (base - res - buffer) * cap.reinvest_ratio)
    assert Decimal(p["drawdown_multiplier"]) == 1
    assert set(p["asset_exposure_caps"]) == {"BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY"}
    tradable = f"{Decimal(p['tradable_capital']).quantize(Decimal('0.01')):,}"
    assert line(table, "capital policy") == f"capital policy  cycle 1: tradable {tradable} of base " \
                                            f"{base.quantize(Decimal('0.01')):,}"
    assert doc["balance_check"] == {"cycle_id": 1, "checked": True, "issues": [], "drift_streak": 0}
    assert line(table, "balance check") == "balance check   ledger and exchange agree (cycle 1)"

    assert bot.cli("once")[0] == 0  # nothing left to do: the strategy holds
    doc, table = bot.status()
    assert doc["last_decisions"]["intents"] == 0 and doc["last_decisions"]["strategy_asked"] is True
    # A strategy without the optional hold_reason() (this test strategy): reported as not_reported.
    assert doc["strategy_hold_code"] == "not_reported"
    assert doc["strategy_hold_reason"] == "not reported (the strategy has no hold_reason())"
    assert doc["why_no_trades"] == ["strategy held: not reported (the strategy has no hold_reason())"]
    assert line(table, "strategy") == (
        "strategy        held (not_reported): not reported (the strategy has no hold_reason())"
    )


def test_denials_show_their_codes_and_details(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(BTCBOT_CAPITAL__RESERVE_ABS="200000")  # more than the account: nothing is tradable
    assert bot.cli("once")[0] == 0
    doc, table = bot.status()
    decided = doc["last_decisions"]
    assert decided["submitted"] == 0 and len(decided["decisions"]) == 5
    assert {d["code"] for d in decided["decisions"]} == {"CAPITAL_RESERVED_CASH_BREACH"}
    assert all(d["detail"].startswith("tradable capital 0 <= 0") for d in decided["decisions"])
    assert Decimal(doc["capital_policy"]["tradable_capital"]) == 0
    assert Decimal(doc["capital_policy"]["reserved_cash"]) == Decimal(200000)
    assert doc["why_no_trades"] == ["5 of 5 intents denied by risk: CAPITAL_RESERVED_CASH_BREACH (5)"]
    assert line(table, "why no trades") == (
        "why no trades   5 of 5 intents denied by risk: CAPITAL_RESERVED_CASH_BREACH (5)"
    )
    assert sum(x.startswith("  BUY ") and " denied CAPITAL_RESERVED_CASH_BREACH: tradable capital 0 <= 0" in x
               for x in table) == 5
    # Every intent denied: the cycle's hold reason comes from the denial codes.
    assert doc["strategy_hold_code"] == "no_cash"
    assert doc["strategy_hold_reason"] == (
        "BUY denied by risk: CAPITAL_RESERVED_CASH_BREACH (AVAXTRY, BTCTRY, ETHTRY, SOLTRY, XRPTRY)")
    assert f"  hold reason (no_cash): {doc['strategy_hold_reason']}" in table
    # Free cash below the reserve after the cycle: the post-trade check went REDUCING, and says why.
    assert doc["ok"] is False
    assert doc["problems"][0].startswith("REDUCING: CAPITAL_RESERVED_CASH_BREACH: free cash 100000 < reserve")


def test_pending_shortfall_and_surplus(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    assert bot.cli("once")[0] == 0
    held = read_book(sqlite_url(bot.db)).wallet["BTC"]
    bot.sim.admin.set_balance("BTC", (held / 2).quantize(Decimal("0.00000001")))  # a withdrawal
    bot.sim.admin.set_balance("TRY", read_book(sqlite_url(bot.db)).wallet["TRY"] + 500)  # a deposit
    bot.cli("once")
    doc, table = bot.status()
    issues = {i["asset"]: i for i in doc["balance_check"]["issues"]}
    assert issues["BTC"]["kind"] == "shortfall" and Decimal(issues["BTC"]["diff"]) < 0
    assert issues["TRY"]["kind"] == "surplus" and Decimal(issues["TRY"]["diff"]) == 500
    assert doc["balance_check"]["drift_streak"] >= 1
    assert doc["ok"] is False
    assert any(p.startswith("balance shortfall BTC: ledger ") for p in doc["problems"])
    assert not any("TRY" in p for p in doc["problems"] if p.startswith("balance"))  # a surplus is no problem
    assert line(table, "verdict").startswith("verdict         NOT OK")
    assert any(x.startswith("  BTC shortfall: ledger ") for x in table)
    assert any(x.startswith("  TRY surplus (information only): ledger ") and "diff 500" in x for x in table)


def test_open_breaker_and_safe_mode(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(BTCBOT_RESILIENCE__BREAKER_THRESHOLD="2")
    bot.sim.admin.set_fault(TICKER, kind="error", status=503)
    assert bot.cli("once")[0] == 3
    doc, table = bot.status()
    breaker = doc["breaker_details"]["market_data"]
    assert doc["breakers"]["market_data"] == "OPEN" and breaker["state"] == "OPEN"
    assert breaker["until"] is not None and breaker["until"] > breaker["opened_at"]
    assert f"breaker market_data OPEN until {breaker['until']}" in doc["problems"]
    decided = doc["last_decisions"]
    assert decided["safe_mode"] is True and decided["strategy_asked"] is False
    assert decided["strategy_not_asked_reason"] == "no market data"
    assert any(p.startswith("cycle 1 ran in safe mode: market data unavailable") for p in doc["problems"])
    assert line(table, "strategy") == "strategy        not asked: no market data"
    assert line(table, "breakers").startswith(f"breakers        market_data OPEN until {breaker['until']}")


def test_halted(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    assert bot.cli("halt", "--reason", "manual check")[0] == 0
    assert bot.cli("once")[0] == 0
    doc, table = bot.status()
    assert doc["problems"][0] == "HALTED: manual: manual check (only cancels are sent; `btcbot resume` after a check)"
    assert doc["last_decisions"]["strategy_not_asked_reason"] == "trading state HALTED"
    assert "  ! HALTED: manual: manual check (only cancels are sent; `btcbot resume` after a check)" in table
    assert line(table, "strategy") == "strategy        not asked: trading state HALTED"


def test_unpriced_coin_makes_equity_unknown(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    assert bot.cli("once")[0] == 0
    bot.sim.admin.set_fault(TICKER, kind="maintenance", message="SYSTEM_UNDER_MAINTENANCE")
    assert bot.cli("once")[0] == 3
    doc, table = bot.status()
    assert doc["equity_known"] is False
    assert doc["unpriced_assets"] == ["AVAXTRY", "BTCTRY", "ETHTRY", "SOLTRY", "XRPTRY"]
    assert doc["equity"] is not None  # the last priced snapshot, kept for --json readers
    assert doc["profit"]["unrealized"] is None
    assert doc["capital_policy"] is None
    assert line(table, "equity").startswith("equity          unknown: no price for AVAXTRY, BTCTRY")
    assert "(last known " in line(table, "equity")
    assert line(table, "profit").split("unrealized ")[1].startswith("unknown,")
