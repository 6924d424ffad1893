"""Every capital-policy formula (design document 10.3) against hand-computed numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from risk_testkit import NOW, capital_settings, engine, risk_settings, view

from btcbot.domain.enums import OrderType
from btcbot.services.risk import capital_policy as cp

D = Decimal
TIERS = (D("0.05"), D("0.10"), D("0.15"))
MULTS = (D("1.0"), D("0.7"), D("0.4"), D("0.0"))


def test_c_base_modes() -> None:
    # plain: C_base = Equity = 90 000
    assert cp.c_base(D(90000), D(100000), D(2000)) == D(90000)
    # conservative: min(Equity, DayStartEquity) -> gains made today are not used until tomorrow
    assert cp.c_base(D(110000), D(100000), conservative=True) == D(100000)
    assert cp.c_base(D(90000), D(100000), conservative=True) == D(90000)
    # strict harvest: Equity - ReserveBucket = 90 000 - 2 000
    assert cp.c_base(D(90000), D(100000), D(2000), strict_harvest=True) == D(88000)
    # both: min(110 000, 100 000) - 2 000
    assert cp.c_base(D(110000), D(100000), D(2000), conservative=True, strict_harvest=True) == D(98000)


def test_c_res_is_the_larger_of_absolute_and_ratio() -> None:
    assert cp.c_res(D(100000), D(1000), D("0.10")) == D(10000)  # 0.10 * 100 000 > 1 000
    assert cp.c_res(D(5000), D(1000), D("0.10")) == D(1000)  # 0.10 * 5 000 = 500 < 1 000


def test_fee_buffer() -> None:
    # alpha 10 bps of 2 000 000 = 2 000 > FeeMinAbs 100
    assert cp.fee_buffer(D(2000000), D(100), D(10)) == D(2000)
    # 10 bps of 50 000 = 50 < 100 -> the floor
    assert cp.fee_buffer(D(50000), D(100), D(10)) == D(100)


def test_tradable_capital() -> None:
    # (100 000 - 10 000 - 100) * 0.8 = 71 920
    assert cp.tradable_capital(D(100000), D(10000), D(100), D("0.8")) == D(71920)
    # (1 000 - 1 000 - 100) * 0.8 = -80 -> floored at 0
    assert cp.tradable_capital(D(1000), D(1000), D(100), D("0.8")) == 0


def test_drawdown() -> None:
    assert cp.drawdown(D(90000), D(100000)) == D("0.1")  # 1 - 0.9
    assert cp.drawdown(D(85000), D(100000)) == D("0.15")
    assert cp.drawdown(D(110000), D(100000)) == 0  # HWM not yet raised: no drawdown
    assert cp.drawdown(D(50000), D(0)) == 0  # no high-water mark yet
    assert cp.drawdown(D(-10), D(100)) == D("1.1")  # negative equity: beyond 100 %


@pytest.mark.parametrize(
    ("dd", "expected"),
    [
        ("0", "1.0"),
        ("0.0499999999", "1.0"),
        ("0.05", "0.7"),  # exactly at the tier: the lower multiplier
        ("0.0999999999", "0.7"),
        ("0.10", "0.4"),
        ("0.1499999999", "0.4"),
        ("0.15", "0.0"),
        ("0.5", "0.0"),
        ("1", "0.0"),
    ],
)
def test_m_dd_tiers_at_their_boundaries(dd: str, expected: str) -> None:
    assert cp.m_dd(D(dd), TIERS, MULTS) == D(expected)


def test_m_dd_custom_tiers_and_shape_check() -> None:
    assert cp.m_dd(D("0.2"), (D("0.25"),), (D(1), D("0.5"))) == D(1)
    assert cp.m_dd(D("0.25"), (D("0.25"),), (D(1), D("0.5"))) == D("0.5")
    with pytest.raises(ValueError, match="one more multiplier"):
        cp.m_dd(D(0), TIERS, MULTS[:3])


def test_exposure_caps() -> None:
    # AssetCap = min(50 000, 0.30 * 71 920 * 1.0) = 21 576
    assert cp.asset_cap(D(50000), D("0.30"), D(71920), D(1)) == D(21576)
    # with m_dd 0.7: 0.30 * 71 920 * 0.7 = 15 103.2
    assert cp.asset_cap(D(50000), D("0.30"), D(71920), D("0.7")) == D("15103.2")
    # the absolute cap binds: min(10 000, 21 576)
    assert cp.asset_cap(D(10000), D("0.30"), D(71920), D(1)) == D(10000)
    # PortfolioCap = min(200 000, 1.0 * 71 920 * 0.4) = 28 768
    assert cp.portfolio_cap(D(200000), D(1), D(71920), D("0.4")) == D(28768)
    assert cp.portfolio_cap(D(50000), D("1.5"), D(71920), D(1)) == D(50000)


def test_fees_and_required_edge() -> None:
    # 20 bps * (1 + 0.2) / 10 000 = 0.0024
    assert cp.fee_rate(D(20), D("0.2")) == D("0.0024")
    assert cp.estimated_fee(D(10000), D(20), D("0.2")) == D(24)
    # 10 + 24 + 5 + 5
    assert cp.required_edge_bps(D(10), D(24), D(5), D(5)) == D(44)
    cap = capital_settings()
    # MARKET: taker 20 * 1.2 = 24 bps fee, 5 bps slippage
    assert cp.edge_costs_bps(cap, OrderType.MARKET) == (D(24), D(5))
    # LIMIT: maker 10 * 1.2 = 12 bps
    assert cp.edge_costs_bps(cap, OrderType.LIMIT) == (D(12), D(5))
    # the intent's own positive estimates win
    assert cp.edge_costs_bps(cap, OrderType.MARKET, D(30), D(2)) == (D(30), D(2))


def test_harvest_formulas() -> None:
    # Harvestable = max(0, 9 000 - 5 000) = 4 000; Harvest = 0.25 * 4 000 = 1 000
    assert cp.harvestable(D(9000), D(5000)) == D(4000)
    assert cp.harvestable(D(4000), D(5000)) == 0
    assert cp.harvest_target(D(9000), D(5000), D("0.25")) == D(1000)
    # 600 already swept this month -> 400 due
    assert cp.harvest_due(D(9000), D(600), D(5000), D("0.25")) == D(400)
    # more already swept than due (PnL fell afterwards): nothing, never negative
    assert cp.harvest_due(D(6000), D(600), D(5000), D("0.25")) == 0
    # 0.25 * (5 000.07 - 5 000) = 0.0175 -> floored to 0.01
    assert cp.harvest_due(D("5000.07"), D(0), D(5000), D("0.25")) == D("0.01")


def test_apply_harvest_sweeps_only_the_unharvested_part_once() -> None:
    mtd = cp.MonthToDate(month="2026-11", realized_pnl=D(9000), harvested=D(0))
    first = cp.apply_harvest(mtd, D(500), NOW, "Europe/Istanbul", D(5000), D("0.25"))
    # ReserveBucket 500 + Harvest 1 000
    assert (first.amount, first.reserve_bucket, first.mtd.harvested) == (D(1000), D(1500), D(1000))
    again = cp.apply_harvest(first.mtd, first.reserve_bucket, NOW, "Europe/Istanbul", D(5000), D("0.25"))
    assert (again.amount, again.reserve_bucket) == (D(0), D(1500))
    # more profit later in the month: 0.25 * (11 000 - 5 000) = 1 500 target, 1 000 done -> 500
    more = cp.MonthToDate("2026-11", D(11000), first.mtd.harvested)
    assert cp.apply_harvest(more, D(1500), NOW, "Europe/Istanbul", D(5000), D("0.25")).amount == D(500)


def test_harvest_across_a_month_boundary_in_istanbul() -> None:
    mtd = cp.MonthToDate(month="2026-11", realized_pnl=D(9000), harvested=D(1000))
    # 2026-11-30 20:59 UTC = 23:59 Istanbul: still November, all of November's 1 000 is done
    late_nov = datetime(2026, 11, 30, 20, 59, tzinfo=UTC)
    assert cp.roll_month(mtd, late_nov, "Europe/Istanbul") is mtd
    assert cp.apply_harvest(mtd, D(1000), late_nov, "Europe/Istanbul", D(5000), D("0.25")).amount == 0
    # 21:00 UTC = 00:00 Istanbul on 1 December: realized PnL and harvested reset to 0
    dec = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    rolled = cp.roll_month(mtd, dec, "Europe/Istanbul")
    assert rolled == cp.MonthToDate(month="2026-12", realized_pnl=D(0), harvested=D(0))
    result = cp.apply_harvest(mtd, D(1000), dec, "Europe/Istanbul", D(5000), D("0.25"))
    assert (result.amount, result.reserve_bucket, result.mtd.month) == (D(0), D(1000), "2026-12")
    # in UTC it would still be November
    assert cp.roll_month(mtd, dec, "UTC") is mtd


def test_snapshot_reference_numbers() -> None:
    snap = engine().policy(view(D(100000)), NOW)
    assert snap.c_base == D(100000)
    assert snap.c_res == D(10000)
    assert snap.fee_buffer == D(100)
    assert snap.tradable == D(71920)
    assert snap.m_dd == D(1)
    assert dict(snap.asset_caps) == {s: D(21576) for s in snap.asset_caps}
    assert len(snap.asset_caps) == 5
    assert snap.portfolio_cap == D(71920)
    assert snap.cash_floor == D(10100)
    # required edge: MARKET 10 + 24 + 5 + 5 = 44; LIMIT 10 + 12 + 5 + 5 = 32
    assert (snap.required_edge_market_bps, snap.required_edge_limit_bps) == (D(44), D(32))
    record = snap.to_record()
    assert record["tradable"] == "71920.0000" and record["asset_cap.BTCTRY"] == str(snap.asset_caps["BTCTRY"])


def test_snapshot_with_drawdown_overrides_and_harvest() -> None:
    risk = risk_settings(max_notional_overrides={"BTCTRY": "10000"})
    cap = capital_settings(asset_weights={"ETHTRY": "0.5"}, harvest_strict=True)
    # equity 92 000 all cash, HWM 100 000 -> DD = 0.08 -> m_dd 0.7; reserve bucket 2 000
    v = view(
        D(92000), high_water=D(100000), reserve_bucket=D(2000), realized_pnl_mtd=D(9000), harvested_mtd=D(600)
    )
    snap = engine(risk, cap).policy(v, NOW)
    # strict: C_base = 92 000 - 2 000 = 90 000; C_res = 9 000; Tradable = (90 000 - 9 000 - 100) * 0.8 = 64 720
    assert (snap.c_base, snap.c_res, snap.tradable) == (D(90000), D(9000), D(64720))
    assert (snap.drawdown, snap.m_dd) == (D("0.08"), D("0.7"))
    # BTC: min(10 000, 0.3 * 64 720 * 0.7 = 13 591.2) = 10 000; ETH: 0.5 * 64 720 * 0.7 = 22 652; XRP 13 591.2
    assert snap.asset_caps["BTCTRY"] == D(10000)
    assert snap.asset_caps["ETHTRY"] == D("22652")
    assert snap.asset_caps["XRPTRY"] == D("13591.2")
    # gross: min(200 000, 64 720 * 0.7) = 45 304
    assert snap.portfolio_cap == D("45304")
    # harvest: 0.25 * (9 000 - 5 000) = 1 000, 600 done -> 400 due
    assert (snap.harvestable, snap.harvest_target, snap.harvest_due) == (D(4000), D(1000), D(400))


def test_snapshot_treats_last_months_pnl_as_rolled_over() -> None:
    v = view(D(100000), realized_pnl_mtd=D(9000), harvested_mtd=D(0), pnl_month="2026-10")
    snap = engine().policy(v, NOW)
    assert (snap.month, snap.realized_pnl_mtd, snap.harvest_due) == ("2026-11", 0, 0)
    same_month = engine().policy(view(D(100000), realized_pnl_mtd=D(9000), pnl_month="2026-11"), NOW)
    assert same_month.harvest_due == D(1000)


def test_fee_buffer_uses_rolling_notional_in_the_snapshot() -> None:
    # FeeBuffer = max(100, 10 bps * 3 000 000 = 3 000); Tradable = (100 000 - 10 000 - 3 000) * 0.8 = 69 600
    snap = engine().policy(view(D(100000), rolling_30d_notional=D(3000000)), NOW)
    assert (snap.fee_buffer, snap.tradable) == (D(3000), D(69600))
