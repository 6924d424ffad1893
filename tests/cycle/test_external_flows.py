"""Money moved in or out by the owner is not performance: after `reconcile --apply --reason` a
large withdrawal must not look like a drawdown or a daily loss (no REDUCING), and a deposit must
not raise the high-water mark as if it were profit."""

from __future__ import annotations

from decimal import Decimal

from cycle.harness import read_book
from cycle.test_cycle_commands import Bot, bot  # noqa: F401 - the fixture is used by name


def test_large_withdrawal_is_not_a_drawdown(bot: Bot) -> None:  # noqa: F811
    assert bot.cli("once")[0] == 0
    before = bot.status()
    hwm_before = Decimal(before["high_water_mark"])
    cash = read_book(bot.url).wallet["TRY"]
    withdrawn = (cash / 2).quantize(Decimal("0.01"))
    bot.sim.admin.set_balance("TRY", cash - withdrawn)  # the owner withdrew half the cash
    code, out = bot.cli("reconcile", "--apply", "--reason", "owner withdrawal")
    assert code == 0, out
    after = bot.status()
    assert Decimal(after["high_water_mark"]) == hwm_before - withdrawn
    assert bot.cli("once")[0] == 0
    assert bot.cli("once")[0] == 0
    status = bot.status()
    assert status["trading_state"] == "ACTIVE", status["trading_state_reason"]


def test_deposit_does_not_raise_the_high_water_mark_as_profit(bot: Bot) -> None:  # noqa: F811
    assert bot.cli("once")[0] == 0
    hwm_before = Decimal(bot.status()["high_water_mark"])
    cash = read_book(bot.url).wallet["TRY"]
    bot.sim.admin.set_balance("TRY", cash + Decimal("50000"))
    code, out = bot.cli("reconcile", "--apply", "--reason", "owner deposit")
    assert code == 0, out
    assert Decimal(bot.status()["high_water_mark"]) == hwm_before + Decimal("50000")
