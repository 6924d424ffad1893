"""Pre-trade decisions: every decision code, resizing, batch accounting and ordering.

Reference policy (see risk_testkit): AssetCap 21 576, GrossCap 71 920, C_res 10 000,
FeeBuffer 100 (cash floor 10 100), taker fee incl. tax 0.0024, required edge MARKET 44 bps,
LIMIT 32 bps. Prices: BTC 1 000 000, ETH 100 000, XRP 20, AVAX 1 000, SOL 5 000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from risk_testkit import NOW, TODAY, UNIVERSE, buy, capital_settings, engine, risk_settings, sell, view

from btcbot.domain.enums import OrderType, TradingState
from btcbot.domain.errors import ConfigError
from btcbot.domain.intents import Approved, DecisionCode, Denied, RiskDecision
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.risk.engine import RiskEngine

D = Decimal
FRESH = {s: 1.0 for s in UNIVERSE}


def only(decisions: list[RiskDecision]) -> RiskDecision:
    assert len(decisions) == 1
    return decisions[0]


def approved_qty(decision: RiskDecision) -> Decimal:
    assert isinstance(decision, Approved), decision
    return decision.intent.quantity


def denied_code(decision: RiskDecision) -> DecisionCode:
    assert isinstance(decision, Denied), decision
    return decision.code


# ---- approvals and resizing ----------------------------------------------------------------


def test_buy_within_every_cap_is_approved_unchanged() -> None:
    # 0.01 BTC = 10 000 <= AssetCap 21 576; cash after 100 000 - 10 000 - 24 = 89 976 >= 10 100
    d = only(engine().pre_trade([buy("BTCTRY", "0.01")], view(D(100000)), NOW))
    assert isinstance(d, Approved) and not d.resized and d.risk_increasing
    assert d.intent == d.original


def test_asset_exposure_cap_resizes_down_to_the_cap() -> None:
    # 0.03 BTC = 30 000 > 21 576 -> largest multiple of 1e-8 with q * 1 000 000 <= 21 576 is 0.021576
    d = only(engine().pre_trade([buy("BTCTRY", "0.03")], view(D(100000)), NOW))
    assert approved_qty(d) == D("0.021576")
    assert isinstance(d, Approved) and d.resized and d.original.quantity == D("0.03")


def test_asset_exposure_cap_with_nothing_left_denies_with_its_code() -> None:
    # already holding 0.021576 BTC = 21 576 = the cap: one step (0.01 TRY) more breaks it
    v = view(D(78424), {"BTCTRY": D("0.021576")})
    d = only(engine().pre_trade([buy("BTCTRY", "0.001")], v, NOW))
    assert denied_code(d) is DecisionCode.RISK_ASSET_EXPOSURE_LIMIT


def test_resting_buys_count_as_exposure() -> None:
    # resting buy of 0.02 BTC = 20 000 -> room 1 576 -> 0.001576
    v = view(D(100000), open_buy_qty={"BTCTRY": D("0.02")})
    assert approved_qty(only(engine().pre_trade([buy("BTCTRY", "0.01")], v, NOW))) == D("0.001576")


def test_asset_quantity_cap_resizes_and_denies() -> None:
    eng = engine(risk_settings(max_position_per_asset={"BTCTRY": "0.015"}))
    # 0.02 BTC > 0.015 -> resized to 0.015 (15 000 TRY is under every other cap)
    assert approved_qty(only(eng.pre_trade([buy("BTCTRY", "0.02")], view(D(100000)), NOW))) == D("0.015")
    # holding 0.015 already (15 000 TRY, equity still 100 000): nothing fits
    full = view(D(85000), {"BTCTRY": D("0.015")})
    assert (
        denied_code(only(eng.pre_trade([buy("BTCTRY", "0.001")], full, NOW)))
        is DecisionCode.RISK_ASSET_QUANTITY_LIMIT
    )


def test_gross_cap_resizes_to_the_room_left() -> None:
    # ETH 0.2, AVAX 20, SOL 4 = 3 x 20 000 = 60 000; cash 40 000; equity 100 000
    v = view(D(40000), {"ETHTRY": D("0.2"), "AVAXTRY": D(20), "SOLTRY": D(4)})
    # BTC 0.02 = 20 000 would make gross 80 000 > 71 920 -> room 11 920 -> 0.01192
    # cash after: 40 000 - 11 920 - 11 920 * 0.0024 (28.608) = 28 051.392 >= 10 100
    d = only(engine().pre_trade([buy("BTCTRY", "0.02")], v, NOW))
    assert approved_qty(d) == D("0.01192")


def test_gross_cap_with_nothing_left_denies_with_its_code() -> None:
    # ETH 0.21576 + AVAX 21.576 + SOL 4.3152 = 3 x 21 576 = 64 728, XRP 359.6 * 20 = 7 192 -> 71 920
    v = view(
        D(28080),
        {"ETHTRY": D("0.21576"), "AVAXTRY": D("21.576"), "SOLTRY": D("4.3152"), "XRPTRY": D("359.6")},
    )
    d = only(engine().pre_trade([buy("BTCTRY", "0.001")], v, NOW))
    assert denied_code(d) is DecisionCode.RISK_PORTFOLIO_EXPOSURE_LIMIT


def test_concentration_cap_resizes_against_equity_after_the_fee() -> None:
    eng = engine(risk_settings(max_concentration="0.15"))
    # need q * 1e6 <= 0.15 * (100 000 - 2 400 q)  (equity falls by the fee 0.0024 * 1e6 * q)
    # -> q <= 15 000 / 1 000 360 = 0.0149946019... -> 0.01499460
    # check: 14 994.60 <= 0.15 * (100 000 - 35.98704) = 14 994.601944; one step more breaks it
    d = only(eng.pre_trade([buy("BTCTRY", "0.02")], view(D(100000)), NOW))
    assert approved_qty(d) == D("0.01499460")


def test_concentration_breach_elsewhere_blocks_new_risk() -> None:
    eng = engine(risk_settings(max_concentration="0.15"))
    # AVAX 16 000 of equity 100 000 = 16 % > 15 % (a price move): every buy breaks the invariant
    v = view(D(84000), {"AVAXTRY": D(16)})
    d = only(eng.pre_trade([buy("SOLTRY", "1")], v, NOW))
    assert denied_code(d) is DecisionCode.RISK_CONCENTRATION_LIMIT


def wide_caps() -> RiskEngine:
    # beta 1.5 and w 0.35: AssetCap = min(50 000, 0.35 * 71 920 = 25 172), GrossCap = 107 880
    built: RiskEngine = engine(capital=capital_settings(gross_beta="1.5", asset_weight="0.35"))
    return built


def test_cash_floor_resizes_the_buy() -> None:
    # ETH 0.25 + AVAX 25 + SOL 5 = 75 000 invested, cash 25 000
    v = view(D(25000), {"ETHTRY": D("0.25"), "AVAXTRY": D(25), "SOLTRY": D(5)})
    # need 25 000 - q * 1e6 * 1.0024 >= 10 100 -> q <= 14 900 / 1 002 400 = 0.0148643256... -> 0.01486432
    # check: 14 864.32 * 1.0024 = 14 899.994368 -> cash 10 100.005632; +1 step -> 10 099.995608
    d = only(wide_caps().pre_trade([buy("BTCTRY", "0.02")], v, NOW))
    assert approved_qty(d) == D("0.01486432")


def test_cash_under_the_reserve_denies_reserved_cash_breach() -> None:
    # invested 75 000 + XRP 800 * 20 = 16 000 -> cash 9 000 < C_res 10 000
    v = view(D(9000), {"ETHTRY": D("0.25"), "AVAXTRY": D(25), "SOLTRY": D(5), "XRPTRY": D(800)})
    d = only(wide_caps().pre_trade([buy("BTCTRY", "0.001")], v, NOW))
    assert denied_code(d) is DecisionCode.CAPITAL_RESERVED_CASH_BREACH


def test_cash_inside_the_fee_buffer_denies_fee_buffer_breach() -> None:
    # XRP 747.5 * 20 = 14 950 -> cash 10 050: above C_res 10 000, below C_res + FeeBuffer 10 100
    v = view(D(10050), {"ETHTRY": D("0.25"), "AVAXTRY": D(25), "SOLTRY": D(5), "XRPTRY": D("747.5")})
    d = only(wide_caps().pre_trade([buy("BTCTRY", "0.001")], v, NOW))
    assert denied_code(d) is DecisionCode.CAPITAL_FEE_BUFFER_BREACH


def test_resized_below_the_venue_minimum_is_denied_venue_min_notional() -> None:
    eng = engine(min_notional={s: D(1000) for s in UNIVERSE})
    # gross 71 420: ETH/AVAX/SOL at 21 576 each (64 728) + XRP 334.6 * 20 = 6 692
    v = view(
        D(28580),
        {"ETHTRY": D("0.21576"), "AVAXTRY": D("21.576"), "SOLTRY": D("4.3152"), "XRPTRY": D("334.6")},
    )
    # BTC 0.002 = 2 000 -> room 500 -> 0.0005 BTC = 500 TRY < venue minimum 1 000
    d = only(eng.pre_trade([buy("BTCTRY", "0.002")], v, NOW))
    assert denied_code(d) is DecisionCode.VENUE_MIN_NOTIONAL
    assert isinstance(d, Denied) and "RISK_PORTFOLIO_EXPOSURE_LIMIT" in d.detail


def test_under_the_venue_minimum_from_the_start() -> None:
    # 0.00005 BTC = 50 TRY < 100
    d = only(engine().pre_trade([buy("BTCTRY", "0.00005")], view(D(100000)), NOW))
    assert denied_code(d) is DecisionCode.VENUE_MIN_NOTIONAL


@pytest.mark.parametrize("qty", ["0", "-1", "NaN"])
def test_non_positive_or_invalid_quantity(qty: str) -> None:
    d = only(engine().pre_trade([buy("BTCTRY", qty)], view(D(100000)), NOW))
    assert denied_code(d) is DecisionCode.VENUE_MIN_NOTIONAL


def test_resize_floors_to_the_symbol_scale() -> None:
    # XRP scale 2: cap 21 576 / 20 = 1 078.8 XRP exactly -> stays 1078.80
    d = only(engine().pre_trade([buy("XRPTRY", "2000")], view(D(100000)), NOW))
    assert approved_qty(d) == D("1078.8")
    # AVAX scale 4 and a limit price of 1 003: the cap counts at the mark (1 000) -> 21.576,
    # a quantity that also leaves the cash: 100 000 - 21.576 * 1 003 * 1.0024 >= 10 100
    d2 = only(
        engine().pre_trade(
            [buy("AVAXTRY", "30", order_type=OrderType.LIMIT, limit_price=D(1003))], view(D(100000)), NOW
        )
    )
    assert approved_qty(d2) == D("21.576")


# ---- gates -----------------------------------------------------------------------------------


def test_symbol_outside_the_universe() -> None:
    d = only(engine().pre_trade([buy("DOGETRY", "10", price=D(5))], view(D(100000)), NOW))
    assert denied_code(d) is DecisionCode.RISK_SYMBOL_NOT_ALLOWED
    s = only(engine().pre_trade([sell("DOGETRY", "10", price=D(5))], view(D(100000)), NOW))
    assert denied_code(s) is DecisionCode.RISK_SYMBOL_NOT_ALLOWED


def test_halted_denies_everything() -> None:
    v = view(D(90000), {"BTCTRY": D("0.01")}, trading_state=TradingState.HALTED)
    decisions = engine().pre_trade([buy("ETHTRY", "0.01"), sell("BTCTRY", "0.01")], v, NOW)
    assert [denied_code(d) for d in decisions] == [DecisionCode.RISK_TRADING_HALTED] * 2


def test_reducing_allows_only_risk_reducing() -> None:
    v = view(D(90000), {"BTCTRY": D("0.01")}, trading_state=TradingState.REDUCING)
    sold, bought = engine().pre_trade([buy("ETHTRY", "0.01"), sell("BTCTRY", "0.01")], v, NOW)
    assert approved_qty(sold) == D("0.01")
    assert isinstance(sold, Approved) and not sold.risk_increasing
    assert denied_code(bought) is DecisionCode.RISK_TRADING_REDUCING


def test_market_data_freshness_gate() -> None:
    eng = engine()  # max age 120 s
    at_limit = view(D(100000), ages={**FRESH, "BTCTRY": 120.0})
    assert isinstance(only(eng.pre_trade([buy("BTCTRY", "0.001")], at_limit, NOW)), Approved)
    stale = view(D(100000), ages={**FRESH, "BTCTRY": 120.5})
    assert (
        denied_code(only(eng.pre_trade([buy("BTCTRY", "0.001")], stale, NOW)))
        is DecisionCode.RISK_MARKET_DATA_STALE
    )
    missing = view(D(100000), ages={s: a for s, a in FRESH.items() if s != "BTCTRY"})
    assert (
        denied_code(only(eng.pre_trade([buy("BTCTRY", "0.001")], missing, NOW)))
        is DecisionCode.RISK_MARKET_DATA_STALE
    )
    # exits stay allowed on stale data
    held = view(D(90000), {"BTCTRY": D("0.01")}, ages={})
    assert approved_qty(only(eng.pre_trade([sell("BTCTRY", "0.01")], held, NOW))) == D("0.01")


def test_missing_mark_of_a_held_symbol_blocks_new_risk() -> None:
    # SOL is held but has no mark: the gross exposure is unknown, so no buy anywhere
    v = PortfolioView(
        quote_asset="TRY",
        cash_free=D(90000),
        cash_total=D(90000),
        positions={"BTCTRY": D("0.01"), "SOLTRY": D(1)},
        prices={"BTCTRY": D(1000000), "ETHTRY": D(100000)},
        equity=D(100000),
        high_water=D(100000),
        day_start_equity=D(100000),
        market_data_age_s=FRESH,
    )
    d = only(engine().pre_trade([buy("ETHTRY", "0.01")], v, NOW))
    assert denied_code(d) is DecisionCode.RISK_MARKET_DATA_STALE
    assert isinstance(d, Denied) and "SOLTRY" in d.detail


def test_daily_loss_limit_pct_abs_and_next_day() -> None:
    eng = engine()
    # day start 103 100, equity 100 000: loss 3 100 >= 3 % of 103 100 = 3 093 -> stop
    hit = view(D(100000), day_start_equity=D(103100), day_start_date=TODAY)
    assert (
        denied_code(only(eng.pre_trade([buy("BTCTRY", "0.001")], hit, NOW)))
        is DecisionCode.RISK_DAILY_LOSS_LIMIT
    )
    # day start 103 000: loss 3 000 < 3 090 -> fine
    ok = view(D(100000), day_start_equity=D(103000), day_start_date=TODAY)
    assert isinstance(only(eng.pre_trade([buy("BTCTRY", "0.001")], ok, NOW)), Approved)
    # the absolute limit 2 000 hits first: 3 000 >= 2 000
    eng_abs = engine(risk_settings(max_daily_loss_abs="2000"))
    assert (
        denied_code(only(eng_abs.pre_trade([buy("BTCTRY", "0.001")], ok, NOW)))
        is DecisionCode.RISK_DAILY_LOSS_LIMIT
    )
    # yesterday's day-start equity: a new risk day starts at the current equity
    old = view(D(100000), day_start_equity=D(103100), day_start_date=date(2026, 11, 24))
    assert isinstance(only(eng.pre_trade([buy("BTCTRY", "0.001")], old, NOW)), Approved)
    # exits stay allowed
    held = view(D(90000), {"BTCTRY": D("0.01")}, day_start_equity=D(200000))
    assert isinstance(only(eng.pre_trade([sell("BTCTRY", "0.01")], held, NOW)), Approved)


def test_daily_loss_counts_accrued_fees() -> None:
    # equity = 100 000 - accrued fees 3 093 = 96 907; loss vs 100 000 = 3 093 >= 3 000
    v = view(D(100000), accrued_fees=D(3093), day_start_equity=D(100000))
    assert v.equity == D(96907)
    assert (
        denied_code(only(engine().pre_trade([buy("BTCTRY", "0.001")], v, NOW)))
        is DecisionCode.RISK_DAILY_LOSS_LIMIT
    )


def test_drawdown_tier_zero_blocks_new_risk_but_not_exits() -> None:
    # equity 85 000 (0.0001 BTC + cash), HWM 100 000 -> DD = 0.15 -> m_dd 0
    v = view(D(84900), {"BTCTRY": D("0.0001")}, high_water=D(100000))
    assert v.equity == D(85000)
    decisions = engine().pre_trade([buy("ETHTRY", "0.001"), sell("BTCTRY", "0.0001")], v, NOW)
    assert isinstance(decisions[0], Approved)  # the sell, evaluated first
    assert denied_code(decisions[1]) is DecisionCode.RISK_DRAWDOWN_DERISK_ACTIVE


def test_drawdown_just_under_the_last_tier_scales_caps() -> None:
    # equity 85 001, HWM 100 000 -> DD 0.14999 -> m_dd 0.4
    # C_res 8 500.1, Tradable (85 001 - 8 500.1 - 100) * 0.8 = 61 120.72
    # AssetCap = 0.3 * 61 120.72 * 0.4 = 7 334.4864 -> 0.0073344864 BTC -> floored 0.00733448
    v = view(D(85001), high_water=D(100000))
    assert approved_qty(only(engine().pre_trade([buy("BTCTRY", "0.01")], v, NOW))) == D("0.00733448")


def test_no_tradable_capital_is_reserved_cash_breach() -> None:
    # equity 1 000: C_res = max(1 000, 100) = 1 000, Tradable = max(0, (1 000 - 1 000 - 100) * 0.8) = 0
    d = only(engine().pre_trade([buy("AVAXTRY", "0.2")], view(D(1000)), NOW))
    assert denied_code(d) is DecisionCode.CAPITAL_RESERVED_CASH_BREACH
    assert isinstance(d, Denied) and "tradable capital" in d.detail


def test_edge_gate() -> None:
    eng = engine()
    # MARKET: required 10 + 24 + 5 + 5 = 44
    assert denied_code(only(eng.pre_trade([buy("BTCTRY", "0.001", edge="43.99")], view(D(100000)), NOW))) is (
        DecisionCode.ALPHA_EDGE_BELOW_MINIMUM
    )
    assert isinstance(
        only(eng.pre_trade([buy("BTCTRY", "0.001", edge="44")], view(D(100000)), NOW)), Approved
    )
    # LIMIT: required 10 + 12 + 5 + 5 = 32
    limit = buy("BTCTRY", "0.001", edge="32", order_type=OrderType.LIMIT, limit_price=D(999000))
    assert isinstance(only(eng.pre_trade([limit], view(D(100000)), NOW)), Approved)
    # the intent's own costs: 10 + 30 + 2 + 5 = 47 > 46
    own = buy("BTCTRY", "0.001", edge="46", est_fee_bps=D(30), est_slippage_bps=D(2))
    assert (
        denied_code(only(eng.pre_trade([own], view(D(100000)), NOW))) is DecisionCode.ALPHA_EDGE_BELOW_MINIMUM
    )
    # sells are not edge-gated (exits)
    held = view(D(90000), {"BTCTRY": D("0.01")})
    assert isinstance(only(eng.pre_trade([sell("BTCTRY", "0.01", edge="-100")], held, NOW)), Approved)


# ---- sells -----------------------------------------------------------------------------------


def test_sell_without_position_is_insufficient_position() -> None:
    d = only(engine().pre_trade([sell("BTCTRY", "0.01")], view(D(100000)), NOW))
    assert denied_code(d) is DecisionCode.RISK_INSUFFICIENT_POSITION


def test_sell_more_than_held_is_resized_to_the_held_quantity() -> None:
    # held 0.0150000099 BTC: floored to scale 8 -> 0.01500000
    v = view(D(85000), {"BTCTRY": D("0.0150000099")})
    d = only(engine().pre_trade([sell("BTCTRY", "0.02")], v, NOW))
    assert approved_qty(d) == D("0.015")
    # dust below one quantity step cannot be sold
    dust = view(D(85000), {"BTCTRY": D("0.000000001")})
    assert (
        denied_code(only(engine().pre_trade([sell("BTCTRY", "1")], dust, NOW)))
        is DecisionCode.RISK_INSUFFICIENT_POSITION
    )


def test_sells_in_one_batch_cannot_sell_the_same_coins_twice() -> None:
    # held 0.015, 0.01 already on a resting sell -> 0.005 sellable; two sells of 0.004:
    # the first gets 0.004, the second the remaining 0.001 (1 000 TRY >= 100)
    v = view(D(85000), {"BTCTRY": D("0.015")}, open_sell_qty={"BTCTRY": D("0.01")})
    decisions = engine().pre_trade([sell("BTCTRY", "0.004"), sell("BTCTRY", "0.004")], v, NOW)
    assert [approved_qty(d) for d in decisions] == [D("0.004"), D("0.001")]
    third = engine().pre_trade([sell("BTCTRY", "0.004")] * 3, v, NOW)[2]
    assert denied_code(third) is DecisionCode.RISK_INSUFFICIENT_POSITION


def test_sell_under_the_venue_minimum() -> None:
    v = view(D(85000), {"BTCTRY": D("0.015")})
    assert (
        denied_code(only(engine().pre_trade([sell("BTCTRY", "0.00005")], v, NOW)))
        is DecisionCode.VENUE_MIN_NOTIONAL
    )


def test_sell_is_allowed_when_caps_are_breached() -> None:
    # BTC 0.05 = 50 000 > AssetCap and 50 % > concentration 40 %: selling is always allowed
    v = view(D(50000), {"BTCTRY": D("0.05")})
    assert approved_qty(only(engine().pre_trade([sell("BTCTRY", "0.01")], v, NOW))) == D("0.01")


# ---- batches ---------------------------------------------------------------------------------


def test_approvals_in_one_batch_cannot_jointly_break_a_cap() -> None:
    # two buys of 0.015 BTC: the first fits (15 000), the second only up to 21 576 - 15 000 = 6 576
    decisions = engine().pre_trade(
        [buy("BTCTRY", "0.015"), buy("BTCTRY", "0.015", edge="101")], view(D(100000)), NOW
    )
    assert sorted(approved_qty(d) for d in decisions) == [D("0.006576"), D("0.015")]


def test_a_pending_sell_does_not_free_room_for_a_buy() -> None:
    # holding BTC at the cap: a sell in the same batch may never fill, so the buy still has no room
    v = view(D(78424), {"BTCTRY": D("0.021576")})
    sold, bought = engine().pre_trade([buy("BTCTRY", "0.005"), sell("BTCTRY", "0.01")], v, NOW)
    assert approved_qty(sold) == D("0.01")
    assert denied_code(bought) is DecisionCode.RISK_ASSET_EXPOSURE_LIMIT


def test_evaluation_order_is_sells_first_then_symbol_and_independent_of_input_order() -> None:
    v = view(D(70000), {"SOLTRY": D(2), "AVAXTRY": D(20)})
    intents = [buy("XRPTRY", "100"), sell("SOLTRY", "1"), buy("BTCTRY", "0.001"), sell("AVAXTRY", "5")]
    first = engine().pre_trade(intents, v, NOW)
    assert [(d.intent.symbol, d.intent.side.value) for d in first] == [
        ("AVAXTRY", "SELL"),
        ("SOLTRY", "SELL"),
        ("BTCTRY", "BUY"),
        ("XRPTRY", "BUY"),
    ]
    assert engine().pre_trade(list(reversed(intents)), v, NOW) == first
    assert engine().pre_trade(intents, v, NOW) == first  # repeatable


def test_capacity_goes_in_symbol_order() -> None:
    # gross room 71 920; BTC is evaluated before ETH: BTC 0.02 (20 000) fits, ETH 0.6 (60 000) is
    # cut to its own cap 21 576 -> 0.21576; XRP 2 000 (40 000) gets the rest: 71 920 - 41 576 = 30 344
    # but its asset cap is 21 576 -> 1 078.8 XRP
    decisions = engine().pre_trade(
        [buy("XRPTRY", "2000"), buy("ETHTRY", "0.6"), buy("BTCTRY", "0.02")], view(D(100000)), NOW
    )
    assert [(d.intent.symbol, approved_qty(d)) for d in decisions] == [
        ("BTCTRY", D("0.02")),
        ("ETHTRY", D("0.21576")),
        ("XRPTRY", D("1078.8")),
    ]


def test_empty_batch() -> None:
    assert engine().pre_trade([], view(D(100000)), NOW) == []


# ---- construction ----------------------------------------------------------------------------


def test_constructor_refuses_incomplete_venue_data_and_foreign_symbols() -> None:
    with pytest.raises(ConfigError, match="BTCTRY"):
        RiskEngine(
            risk_settings(),
            capital_settings(),
            UNIVERSE,
            {s: D(1) for s in UNIVERSE if s != "BTCTRY"},
            dict.fromkeys(UNIVERSE, 8),
        )
    with pytest.raises(ConfigError, match="DOGETRY"):
        engine(risk_settings(max_position_per_asset={"DOGETRY": "5"}))
    with pytest.raises(ConfigError, match="empty"):
        RiskEngine(risk_settings(), capital_settings(), (), {}, {})
