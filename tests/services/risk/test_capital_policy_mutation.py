"""Capital-policy formulas at the edges the reference numbers miss (hand-computed values).

Written against the survivors of ``scripts/mutation_test.py services/risk/capital_policy``:
a high-water mark below one lira, estimates below one basis point, the division's fixed
28-digit precision, and a month whose harvest is exactly complete.
"""

from __future__ import annotations

from decimal import Decimal

from risk_testkit import NOW, capital_settings, engine, view

from btcbot.config.params import capital_params
from btcbot.domain.enums import OrderType
from btcbot.services.risk import capital_policy as cp

D = Decimal


def test_drawdown_with_a_high_water_mark_of_one_lira_or_less() -> None:
    assert cp.drawdown(D("0.5"), D("1")) == D("0.5")
    assert cp.drawdown(D("0.5"), D("0.8")) == D("0.375")  # 1 - 0.625


def test_drawdown_division_has_28_significant_digits() -> None:
    # 29 999 / 30 000 = 0.99996666...; at 28 digits 0.9999666666666666666666666667, so
    # DD = 0.0000333333333333333333333333 (24 threes). Replays compare these values exactly.
    assert cp.drawdown(D(29999), D(30000)) == D("0.0000333333333333333333333333")


def test_estimates_below_one_basis_point_are_estimates() -> None:
    cap = capital_params(capital_settings())
    # positive means given, however small: 0.5 bps fee and 0.25 bps slippage are used as such
    assert cp.edge_costs_bps(cap, OrderType.MARKET, D("0.5"), D("0.25")) == (D("0.5"), D("0.25"))
    # exactly 0 is "not given": taker 20 * 1.2 = 24 bps, default slippage 5 bps
    assert cp.edge_costs_bps(cap, OrderType.MARKET, D(0), D(0)) == (D(24), D(5))


def test_fully_harvested_month_records_a_plain_zero_due() -> None:
    # target 0.25 * (6 000 - 5 000) = 250, 250 already swept: nothing due
    assert cp.harvest_due(D(6000), D(250), D(5000), D("0.25")) == 0
    v = view(D(100000), realized_pnl_mtd=D(6000), harvested_mtd=D(250), pnl_month="2026-11")
    record = engine().policy(v, NOW).to_record()
    assert (record["harvest_target"], record["harvest_due"]) == ("250.00", "0")


def test_harvest_due_below_one_lira_is_still_due() -> None:
    # 0.25 * (5 002 - 5 000) = 0.5
    assert cp.harvest_due(D(5002), D(0), D(5000), D("0.25")) == D("0.50")
