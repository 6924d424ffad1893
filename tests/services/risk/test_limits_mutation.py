"""The hard limits (btcbot.services.risk.limits) at their boundaries, with hand-computed numbers.

Written against the survivors of ``scripts/mutation_test.py services/risk/limits``: every cap is
tested exactly at the cap (allowed) and just past it (breach), with and without ``slack``, and
the daily loss limit exactly at the limit: REACHING the limit stops new risk (docs/risk.md,
``RISK_DAILY_LOSS_LIMIT``: ``loss >= max_daily_loss_pct * DayStartEquity`` or
``>= max_daily_loss_abs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from risk_testkit import NOW

from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import risk_params
from btcbot.domain.intents import DecisionCode
from btcbot.domain.portfolio import FrozenMap, PortfolioView
from btcbot.services.risk.capital_policy import CapitalPolicySnapshot
from btcbot.services.risk.limits import Breach, daily_loss_breach, find_breaches, fmt
from btcbot.services.risk.params import RiskParams

D = Decimal
ZERO = D(0)
UNIVERSE = ("BBBTRY", "AAATRY")  # deliberately unsorted
PRICES = {"AAATRY": D("10"), "BBBTRY": D("100")}


def policy(
    *,
    caps: Mapping[str, Decimal] | None = None,
    portfolio_cap: str = "1000000",
    c_res: str = "0",
    fee_buffer: str = "0",
) -> CapitalPolicySnapshot:
    return CapitalPolicySnapshot(
        month="2026-11", equity=ZERO, high_water=ZERO, reserve_bucket=ZERO, c_base=ZERO, c_res=D(c_res),
        fee_buffer=D(fee_buffer), tradable=ZERO, drawdown=ZERO, m_dd=D(1),
        asset_caps=FrozenMap(caps if caps is not None else {"AAATRY": D("1000000"), "BBBTRY": D("1000000")}),
        portfolio_cap=D(portfolio_cap), realized_pnl_mtd=ZERO, harvested_mtd=ZERO, harvestable=ZERO,
        harvest_target=ZERO, harvest_due=ZERO, required_edge_market_bps=ZERO, required_edge_limit_bps=ZERO,
    )  # fmt: skip


def pview(
    positions: Mapping[str, str] | None = None,
    *,
    cash: str = "1000000",
    equity: str = "1000000",
    day_start: str | None = None,
    open_buys: Mapping[str, str] | None = None,
) -> PortfolioView:
    return PortfolioView(
        quote_asset="TRY", cash_free=D(cash), cash_total=D(cash),
        positions={s: D(q) for s, q in (positions or {}).items()}, prices=PRICES, equity=D(equity),
        high_water=D(equity), day_start_equity=D(day_start if day_start is not None else equity),
        open_buy_qty={s: D(q) for s, q in (open_buys or {}).items()},
    )  # fmt: skip


def limits(**settings: Any) -> RiskParams:
    """Risk parameters as the app builds them: validated settings mapped onto RiskParams."""
    return risk_params(RiskSettings(**settings))


def codes(
    view: PortfolioView,
    pol: CapitalPolicySnapshot,
    risk: RiskParams | None = None,
    *,
    fee_buffer: bool = True,
    slack: str = "0",
) -> list[DecisionCode]:
    found = find_breaches(
        view, pol, risk or limits(), UNIVERSE, include_fee_buffer=fee_buffer, slack=D(slack)
    )
    return [b.code for b in found]


# ----------------------------------------------------------------------------- fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None"),
        (D("NaN"), "NaN"),
        (D("-Infinity"), "-Infinity"),
        (D("1.2300"), "1.23"),
        (D("1E+3"), "1000"),
        (D("-0.00"), "0"),
        (D("0E-8"), "0"),
        (D("-12.50"), "-12.5"),
    ],
)
def test_fmt(value: Decimal | None, text: str) -> None:
    assert fmt(value) == text


# ----------------------------------------------------------------------------- find_breaches


def test_nothing_held_breaches_nothing() -> None:
    assert codes(pview(), policy(caps={}, portfolio_cap="0")) == []


def test_asset_cap_is_inclusive() -> None:
    caps = {"AAATRY": D("1000"), "BBBTRY": D("1000000")}
    assert codes(pview({"AAATRY": "100"}), policy(caps=caps)) == []  # 100 * 10 = 1000 = cap
    assert codes(pview({"AAATRY": "100.01"}), policy(caps=caps)) == [DecisionCode.RISK_ASSET_EXPOSURE_LIMIT]
    # resting buys count: 90 held + 10.01 bid = 1000.1
    held_and_bid = pview({"AAATRY": "90"}, open_buys={"AAATRY": "10.01"})
    assert codes(held_and_bid, policy(caps=caps)) == [DecisionCode.RISK_ASSET_EXPOSURE_LIMIT]


def test_symbol_without_a_cap_has_cap_zero() -> None:
    caps = {"BBBTRY": D("1000000")}
    assert codes(pview({"AAATRY": "0.05"}), policy(caps=caps)) == [DecisionCode.RISK_ASSET_EXPOSURE_LIMIT]


def test_asset_cap_slack_widens_by_the_fraction() -> None:
    caps = {"AAATRY": D("1000"), "BBBTRY": D("1000000")}
    # slack 0.5: cap 1500 (a division would give 666.67)
    assert codes(pview({"AAATRY": "150"}), policy(caps=caps), slack="0.5") == []
    assert codes(pview({"AAATRY": "150.01"}), policy(caps=caps), slack="0.5") == [
        DecisionCode.RISK_ASSET_EXPOSURE_LIMIT
    ]
    # slack 0.02: cap 1020
    assert codes(pview({"AAATRY": "102"}), policy(caps=caps), slack="0.02") == []
    assert codes(pview({"AAATRY": "102.01"}), policy(caps=caps), slack="0.02") == [
        DecisionCode.RISK_ASSET_EXPOSURE_LIMIT
    ]


def test_quantity_cap_is_inclusive_and_widened_by_slack() -> None:
    risk = limits(max_position_per_asset={"AAATRY": D("100")})  # BBBTRY: no quantity cap
    assert codes(pview({"AAATRY": "100", "BBBTRY": "5"}), policy(), risk) == []
    assert codes(pview({"AAATRY": "100.01"}), policy(), risk) == [DecisionCode.RISK_ASSET_QUANTITY_LIMIT]
    assert codes(pview({"AAATRY": "60"}, open_buys={"AAATRY": "40.01"}), policy(), risk) == [
        DecisionCode.RISK_ASSET_QUANTITY_LIMIT
    ]
    assert codes(pview({"AAATRY": "150"}), policy(), risk, slack="0.5") == []
    assert codes(pview({"AAATRY": "150.01"}), policy(), risk, slack="0.5") == [
        DecisionCode.RISK_ASSET_QUANTITY_LIMIT
    ]


def test_portfolio_cap_is_inclusive_and_widened_by_slack() -> None:
    # gross = 100 * 10 + 10 * 100 = 2000
    both = {"AAATRY": "100", "BBBTRY": "10"}
    assert codes(pview(both), policy(portfolio_cap="2000")) == []
    assert codes(pview(both), policy(portfolio_cap="1999.99")) == [DecisionCode.RISK_PORTFOLIO_EXPOSURE_LIMIT]
    # slack 0.5: cap 1500 * 1.5 = 2250 (a division would give 1000)
    assert codes(pview(both), policy(portfolio_cap="1500"), slack="0.5") == []
    assert codes(pview({"AAATRY": "100", "BBBTRY": "12.51"}), policy(portfolio_cap="1500"), slack="0.5") == [
        DecisionCode.RISK_PORTFOLIO_EXPOSURE_LIMIT
    ]


def test_concentration_is_inclusive_and_widened_by_slack() -> None:
    risk = limits(max_concentration=D("0.4"))
    # equity 1000: 40 % = 400
    assert codes(pview({"AAATRY": "40"}, equity="1000"), policy(), risk) == []
    assert codes(pview({"AAATRY": "40.01"}, equity="1000"), policy(), risk) == [
        DecisionCode.RISK_CONCENTRATION_LIMIT
    ]
    # slack 0.5: 400 * 1.5 = 600 (a division would give 266.67)
    assert codes(pview({"AAATRY": "60"}, equity="1000"), policy(), risk, slack="0.5") == []
    assert codes(pview({"AAATRY": "60.01"}, equity="1000"), policy(), risk, slack="0.5") == [
        DecisionCode.RISK_CONCENTRATION_LIMIT
    ]


def test_concentration_without_positive_equity() -> None:
    # any notional at all breaches when equity <= 0, even half a lira ...
    assert codes(pview({"AAATRY": "0.05"}, equity="0"), policy()) == [DecisionCode.RISK_CONCENTRATION_LIMIT]
    # ... but a symbol with nothing held or bid does not, even with negative equity
    assert codes(pview({}, equity="-100"), policy()) == []


def test_reserve_is_inclusive_and_shrunk_by_slack() -> None:
    pol = policy(c_res="100", fee_buffer="10")
    assert codes(pview(cash="100"), pol, fee_buffer=False) == []
    assert codes(pview(cash="99.99"), pol, fee_buffer=False) == [DecisionCode.CAPITAL_RESERVED_CASH_BREACH]
    # slack 0.5: floor 100 * 0.5 = 50 (a division would give 200, an addition 150)
    assert codes(pview(cash="50"), pol, fee_buffer=False, slack="0.5") == []
    assert codes(pview(cash="49.99"), pol, fee_buffer=False, slack="0.5") == [
        DecisionCode.CAPITAL_RESERVED_CASH_BREACH
    ]


def test_fee_buffer_only_pre_trade_and_only_above_the_reserve() -> None:
    pol = policy(c_res="100", fee_buffer="10")  # cash floor 110
    assert codes(pview(cash="110"), pol, fee_buffer=True) == []
    assert codes(pview(cash="109.99"), pol, fee_buffer=True) == [DecisionCode.CAPITAL_FEE_BUFFER_BREACH]
    assert codes(pview(cash="105"), pol, fee_buffer=False) == []  # post-trade stops at the reserve
    # under the reserve: the reserve breach alone, not both
    assert codes(pview(cash="99"), pol, fee_buffer=True) == [DecisionCode.CAPITAL_RESERVED_CASH_BREACH]
    # slack shrinks the reserve but not the fee-buffer floor of the pre-trade gate
    assert codes(pview(cash="60"), pol, fee_buffer=True, slack="0.5") == [
        DecisionCode.CAPITAL_FEE_BUFFER_BREACH
    ]


def test_breaches_come_in_the_documented_order_symbols_sorted() -> None:
    risk = limits(max_concentration=D("0.4"), max_position_per_asset={"AAATRY": D("1"), "BBBTRY": D("1")})
    view = pview({"AAATRY": "200", "BBBTRY": "20"}, cash="5", equity="1000")
    pol = policy(caps={"AAATRY": D("100"), "BBBTRY": D("100")}, portfolio_cap="100", c_res="10")
    found = find_breaches(view, pol, risk, UNIVERSE, include_fee_buffer=True)
    assert [(b.code, b.detail.split(" ", 1)[0]) for b in found] == [
        (DecisionCode.RISK_ASSET_EXPOSURE_LIMIT, "AAATRY"),
        (DecisionCode.RISK_ASSET_EXPOSURE_LIMIT, "BBBTRY"),
        (DecisionCode.RISK_ASSET_QUANTITY_LIMIT, "AAATRY"),
        (DecisionCode.RISK_ASSET_QUANTITY_LIMIT, "BBBTRY"),
        (DecisionCode.RISK_PORTFOLIO_EXPOSURE_LIMIT, "gross"),
        (DecisionCode.RISK_CONCENTRATION_LIMIT, "AAATRY"),
        (DecisionCode.RISK_CONCENTRATION_LIMIT, "BBBTRY"),
        (DecisionCode.CAPITAL_RESERVED_CASH_BREACH, "free"),
    ]
    assert found[0] == Breach(DecisionCode.RISK_ASSET_EXPOSURE_LIMIT, "AAATRY notional 2000 > asset cap 100")


# ----------------------------------------------------------------------------- daily loss


def _daily(equity: str, day_start: str, **risk: Any) -> Breach | None:
    return daily_loss_breach(pview(equity=equity, day_start=day_start), limits(**risk), NOW)


def test_daily_loss_exactly_at_the_percentage_limit_stops() -> None:
    # 3 % of 1000 = 30: a loss of exactly 30 reaches the limit
    breach = _daily("970", "1000", max_daily_loss_pct=D("0.03"))
    assert breach == Breach(
        DecisionCode.RISK_DAILY_LOSS_LIMIT, "daily loss 30 >= 0.03 of day-start equity 1000"
    )
    assert _daily("970.01", "1000", max_daily_loss_pct=D("0.03")) is None


def test_daily_loss_limit_on_a_small_day_start_equity() -> None:
    # 3 % of 10 = 0.3 and 3 % of 1 = 0.03: losses under one lira count too
    assert _daily("9.7", "10", max_daily_loss_pct=D("0.03")) is not None
    assert _daily("0.97", "1", max_daily_loss_pct=D("0.03")) is not None
    assert _daily("0.98", "1", max_daily_loss_pct=D("0.03")) is None


def test_daily_loss_exactly_at_the_absolute_limit_stops() -> None:
    breach = _daily("980", "1000", max_daily_loss_pct=D("0.5"), max_daily_loss_abs=D("20"))
    assert breach == Breach(DecisionCode.RISK_DAILY_LOSS_LIMIT, "daily loss 20 >= absolute limit 20")
    assert _daily("980.01", "1000", max_daily_loss_pct=D("0.5"), max_daily_loss_abs=D("20")) is None


def test_daily_loss_percentage_is_reported_first_when_both_are_hit() -> None:
    breach = _daily("900", "1000", max_daily_loss_pct=D("0.03"), max_daily_loss_abs=D("20"))
    assert breach is not None and "of day-start equity" in breach.detail


def test_no_daily_loss_without_a_loss() -> None:
    assert _daily("1000", "1000", max_daily_loss_pct=D("0.03"), max_daily_loss_abs=D("20")) is None
    assert _daily("1100", "1000", max_daily_loss_pct=D("0.03"), max_daily_loss_abs=D("20")) is None


def test_percentage_limit_needs_a_positive_day_start_equity() -> None:
    # day-start equity 0, equity -5: a loss of 5, but no percentage of nothing applies ...
    assert _daily("-5", "0", max_daily_loss_pct=D("0.03")) is None
    # ... the absolute limit still does
    breach = _daily("-5", "0", max_daily_loss_pct=D("0.03"), max_daily_loss_abs=D("5"))
    assert breach is not None and breach.detail == "daily loss 5 >= absolute limit 5"
