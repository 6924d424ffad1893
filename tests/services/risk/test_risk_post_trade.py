"""Post-trade state: caps and invariants -> REDUCING, daily halt and its lifting, HALTED sticky."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from risk_testkit import NOW, TODAY, capital_settings, engine, risk_settings, view

from btcbot.domain.enums import TradingState

D = Decimal


def test_healthy_book_is_active() -> None:
    # BTC 0.02 = 20 000 <= 21 576, gross 20 000 <= 71 920, 20 % <= 40 %, cash 80 000 >= 10 000
    r = engine().post_trade(view(D(80000), {"BTCTRY": D("0.02")}), NOW)
    assert (r.state, r.reasons, r.daily_halt) == (TradingState.ACTIVE, (), False)


def test_asset_cap_breach_after_a_price_move_reduces() -> None:
    # BTC 0.02 marked at 1 100 000 = 22 000 > AssetCap; equity 102 000 -> Tradable
    # (102 000 - 10 200 - 100) * 0.8 = 73 352, AssetCap 0.3 * 73 352 = 22 005.6 -> still inside.
    # at 1 200 000: 24 000 > 0.3 * (104 000 - 10 400 - 100) * 0.8 = 22 440 -> breach
    prices = {"BTCTRY": D(1200000), "ETHTRY": D(1), "XRPTRY": D(1), "AVAXTRY": D(1), "SOLTRY": D(1)}
    r = engine().post_trade(view(D(80000), {"BTCTRY": D("0.02")}, prices=prices), NOW)
    assert r.state is TradingState.REDUCING
    assert r.reasons == ("RISK_ASSET_EXPOSURE_LIMIT: BTCTRY notional 24000 > asset cap 22440",)


def test_quantity_gross_and_concentration_breaches_each_give_a_reason() -> None:
    eng = engine(risk_settings(max_position_per_asset={"ETHTRY": "0.1"}, max_concentration="0.2"))
    # ETH 0.21 = 21 000 (qty 0.21 > 0.1; 21 % > 20 %), AVAX 21, SOL 4.2, XRP 600 -> gross 75 000 > 71 920
    v = view(D(25000), {"ETHTRY": D("0.21"), "AVAXTRY": D(21), "SOLTRY": D("4.2"), "XRPTRY": D(600)})
    r = eng.post_trade(v, NOW)
    codes = [reason.split(":")[0] for reason in r.reasons]
    assert r.state is TradingState.REDUCING
    assert codes == [
        "RISK_ASSET_QUANTITY_LIMIT",
        "RISK_PORTFOLIO_EXPOSURE_LIMIT",
        "RISK_CONCENTRATION_LIMIT",  # AVAXTRY 21 000 > 0.2 * 100 000
        "RISK_CONCENTRATION_LIMIT",  # ETHTRY
        "RISK_CONCENTRATION_LIMIT",  # SOLTRY
    ]


def test_cash_below_reserve_reduces_but_inside_fee_buffer_does_not() -> None:
    eng = engine(capital=capital_settings(gross_beta="1.5", asset_weight="0.35"))
    # cash 9 000 < C_res 10 000
    low = view(D(9000), {"ETHTRY": D("0.25"), "AVAXTRY": D(25), "SOLTRY": D(5), "XRPTRY": D(800)})
    r = eng.post_trade(low, NOW)
    assert r.state is TradingState.REDUCING and r.reasons[0].startswith("CAPITAL_RESERVED_CASH_BREACH")
    # cash 10 050: inside the fee buffer only -> new buys are blocked pre-trade, but no REDUCING
    buffer = view(D(10050), {"ETHTRY": D("0.25"), "AVAXTRY": D(25), "SOLTRY": D(5), "XRPTRY": D("747.5")})
    assert eng.post_trade(buffer, NOW).state is TradingState.ACTIVE


def test_drawdown_tier_zero_reduces() -> None:
    # DD = 1 - 85 000 / 100 000 = 0.15 -> m_dd 0 (and every cap becomes 0: the BTC also breaches)
    r = engine().post_trade(view(D(84000), {"BTCTRY": D("0.001")}, high_water=D(100000)), NOW)
    assert r.state is TradingState.REDUCING
    assert r.reasons[0].startswith("RISK_DRAWDOWN_DERISK_ACTIVE")
    # all cash at DD 0.15: m_dd is the only reason
    only_dd = engine().post_trade(view(D(85000), high_water=D(100000)), NOW)
    assert len(only_dd.reasons) == 1 and only_dd.state is TradingState.REDUCING
    # DD 0.1499 -> m_dd 0.4: no reason
    assert engine().post_trade(view(D(85010), high_water=D(100000)), NOW).state is TradingState.ACTIVE


def test_daily_halt_and_its_automatic_lifting_the_next_istanbul_day() -> None:
    # loss 100 000 - 96 000 = 4 000 >= 3 % of 100 000
    v = view(D(96000), day_start_equity=D(100000), day_start_date=TODAY)
    r = engine().post_trade(v, NOW)
    assert (r.state, r.daily_halt) == (TradingState.REDUCING, True)
    assert r.reasons[0].startswith("RISK_DAILY_LOSS_LIMIT")
    # the state the runner persisted (REDUCING) is not sticky: 2026-11-25 21:00 UTC is
    # 2026-11-26 00:00 in Istanbul, a new risk day starting at the current equity
    still_today = datetime(2026, 11, 25, 20, 59, tzinfo=UTC)
    tomorrow = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    reducing = view(
        D(96000), day_start_equity=D(100000), day_start_date=TODAY, trading_state=TradingState.REDUCING
    )
    assert engine().post_trade(reducing, still_today).daily_halt
    lifted = engine().post_trade(reducing, tomorrow)
    assert (lifted.state, lifted.daily_halt, lifted.reasons) == (TradingState.ACTIVE, False, ())
    # the portfolio service rolled over itself: fresh day-start equity for the new date
    fresh = view(D(96000), day_start_equity=D(96000), day_start_date=date(2026, 11, 26))
    assert engine().post_trade(fresh, tomorrow).state is TradingState.ACTIVE


def test_halted_is_never_lifted_automatically() -> None:
    v = view(D(100000), trading_state=TradingState.HALTED)
    r = engine().post_trade(v, NOW)
    assert r.state is TradingState.HALTED and r.reasons
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert engine().post_trade(v, later).state is TradingState.HALTED


def test_halted_still_reports_the_daily_halt() -> None:
    v = view(D(90000), day_start_equity=D(100000), trading_state=TradingState.HALTED)
    assert engine().post_trade(v, NOW).daily_halt
