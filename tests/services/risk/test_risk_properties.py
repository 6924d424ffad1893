"""Property tests over random portfolios, prices, settings and intent batches.

* no approved batch leaves any cap broken or free cash under C_res + FeeBuffer (all approved
  buys applied as fills, fee and tax on the fee included, approved sells not filled);
* approved sells never exceed the sellable quantity;
* with m_dd = 0 nothing risk-increasing is approved;
* the decisions do not depend on the order of the intents or of the view's mappings, and a
  second run gives the same result.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st
from risk_testkit import NOW, SCALES, UNIVERSE

from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import capital_params, risk_params
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import Approved, Denied, OrderIntent
from btcbot.domain.portfolio import PortfolioView, mark_to_market_equity
from btcbot.services.risk.capital_policy import estimated_fee
from btcbot.services.risk.engine import RiskEngine
from btcbot.services.risk.limits import find_breaches

D = Decimal
# derandomize: the same examples on every run, so the suite is deterministic.
PROFILE = settings(max_examples=200, deadline=None, derandomize=True)
BASE_PRICE = {"BTCTRY": 1_000_000, "ETHTRY": 100_000, "XRPTRY": 20, "AVAXTRY": 1_000, "SOLTRY": 5_000}


def dec(n: int, scale: int) -> Decimal:
    return D(n).scaleb(-scale)


@st.composite
def configs(draw: st.DrawFn) -> tuple[RiskSettings, CapitalSettings, dict[str, Decimal]]:
    risk_kw: dict[str, Any] = {
        "max_concentration": dec(draw(st.integers(10, 100)), 2),
        "max_notional_per_asset": D(draw(st.sampled_from([10_000, 20_000, 50_000]))),
        "max_gross_exposure": D(draw(st.sampled_from([40_000, 100_000, 200_000]))),
    }
    if draw(st.booleans()):
        risk_kw["max_position_per_asset"] = {"BTCTRY": "0.02", "XRPTRY": "800"}
    capital_kw: dict[str, Any] = {
        "reserve_abs": D(draw(st.sampled_from([0, 1_000, 5_000]))),
        "reserve_ratio": dec(draw(st.integers(0, 30)), 2),
        "reinvest_ratio": dec(draw(st.integers(30, 100)), 2),
        "asset_weight": dec(draw(st.integers(10, 60)), 2),
        "gross_beta": dec(draw(st.integers(50, 200)), 2),
        "conservative_base": draw(st.booleans()),
        "harvest_strict": draw(st.booleans()),
    }
    min_notional = {s: D(draw(st.sampled_from([10, 100, 1_000]))) for s in UNIVERSE}
    return RiskSettings(**risk_kw), CapitalSettings(**capital_kw), min_notional


@st.composite
def views(
    draw: st.DrawFn, *, drawdown_at_least: Decimal | None = None, healthy: bool = False
) -> PortfolioView:
    prices = {s: D(p) * dec(draw(st.integers(50, 150)), 2) for s, p in BASE_PRICE.items()}
    positions: dict[str, Decimal] = {}
    for symbol in UNIVERSE:
        if draw(st.booleans()):
            notional = draw(st.integers(0, 12_000))
            positions[symbol] = (D(notional) / prices[symbol]).quantize(D(1).scaleb(-SCALES[symbol]))
    open_buy = {s: q / 4 for s, q in positions.items() if draw(st.integers(0, 4)) == 0}
    open_sell = {s: q / 3 for s, q in positions.items() if draw(st.integers(0, 4)) == 0}
    cash = D(draw(st.sampled_from([0, 5_000, 20_000, 50_000, 100_000, 200_000]))) + draw(
        st.integers(0, 1_000)
    )
    if drawdown_at_least is not None:
        cash += 1_000  # a drawdown needs positive equity
    equity = mark_to_market_equity(cash, positions, prices)
    if healthy:
        high_water = equity
    elif drawdown_at_least is None:
        high_water = equity * dec(draw(st.sampled_from([100, 100, 104, 108, 112, 120])), 2)
    else:
        high_water = equity / (1 - drawdown_at_least) * dec(draw(st.integers(101, 150)), 2)
    ages = {s: float(draw(st.sampled_from([1, 1, 1, 1, 1, 30, 120, 121]))) for s in UNIVERSE}
    return PortfolioView(
        quote_asset="TRY",
        cash_free=cash,
        cash_total=cash,
        positions=positions,
        prices=prices,
        equity=equity,
        high_water=high_water,
        day_start_equity=equity if healthy else equity * dec(draw(st.integers(97, 103)), 2),
        reserve_bucket=D(draw(st.sampled_from([0, 0, 2_000]))),
        rolling_30d_notional=D(draw(st.integers(0, 3_000_000))),
        trading_state=TradingState.ACTIVE
        if healthy
        else draw(st.sampled_from([TradingState.ACTIVE] * 9 + [TradingState.REDUCING])),
        market_data_age_s={s: 1.0 for s in UNIVERSE} if healthy else ages,
        open_buy_qty=open_buy,
        open_sell_qty=open_sell,
    )


@st.composite
def intent_batches(draw: st.DrawFn) -> list[OrderIntent]:
    batch = []
    for _ in range(draw(st.integers(0, 8))):
        symbol = draw(st.sampled_from([*UNIVERSE, *UNIVERSE, "DOGETRY"]))
        base = D(BASE_PRICE.get(symbol, 5))
        price = base * dec(draw(st.integers(50, 150)), 2)
        notional = D(draw(st.integers(1, 60_000)))
        scale = SCALES.get(symbol, 2)
        qty = max(D(1).scaleb(-scale), (notional / price).quantize(D(1).scaleb(-scale)))
        is_limit = draw(st.booleans())
        batch.append(
            OrderIntent(
                strategy_id="s1",
                symbol=symbol,
                side=draw(st.sampled_from([Side.BUY, Side.SELL])),
                order_type=OrderType.LIMIT if is_limit else OrderType.MARKET,
                quantity=qty,
                reference_price=price,
                expected_edge_bps=D(draw(st.integers(0, 200))),
                limit_price=price if is_limit else None,
            )
        )
    return batch


def make_engine(risk: RiskSettings, capital: CapitalSettings, min_notional: dict[str, Decimal]) -> RiskEngine:
    return RiskEngine(risk_params(risk), capital_params(capital), UNIVERSE, min_notional, SCALES)


def check_batch_keeps_every_limit(
    config: tuple[RiskSettings, CapitalSettings, dict[str, Decimal]],
    view: PortfolioView,
    intents: list[OrderIntent],
) -> None:
    risk, capital, min_notional = config
    eng = make_engine(risk, capital, min_notional)
    decisions = eng.pre_trade(intents, view, NOW)
    assert len(decisions) == len(intents)
    originals = (d.original if isinstance(d, Approved) else d.intent for d in decisions)
    assert sorted(map(repr, originals)) == sorted(map(repr, intents))
    policy = eng.policy(view, NOW)
    after = view
    sold: dict[str, Decimal] = defaultdict(D)
    bought_any = False
    for d in decisions:
        if not isinstance(d, Approved):
            continue
        intent = d.intent
        assert 0 < intent.quantity <= d.original.quantity
        assert intent.notional >= min_notional[intent.symbol]
        assert d.risk_increasing is (intent.side is Side.BUY)
        if intent.side is Side.SELL:
            sold[intent.symbol] += intent.quantity
            continue
        bought_any = True
        assert view.trading_state is TradingState.ACTIVE
        fee = estimated_fee(intent.notional, capital.taker_fee_bps, capital.fee_tax_ratio)
        after = after.with_trade(intent.symbol, Side.BUY, intent.quantity, intent.price_for_notional, fee)
    resized = any(isinstance(d, Approved) and d.resized for d in decisions)
    event(f"approved buys: {bought_any}; resized: {resized}")
    if bought_any:
        assert policy.m_dd > 0 and policy.tradable > 0
        assert find_breaches(after, policy, risk_params(risk), UNIVERSE, include_fee_buffer=True) == []
        assert after.cash_free >= policy.c_res + policy.fee_buffer
        for symbol in UNIVERSE:
            assert after.notional(symbol) <= policy.asset_caps[symbol]
            assert after.notional(symbol) <= risk.max_concentration * after.equity
        assert after.gross_notional() <= policy.portfolio_cap
    for symbol, qty in sold.items():
        assert qty <= view.sellable_qty(symbol)


@PROFILE
@given(configs(), views(), intent_batches())
def test_no_approved_batch_breaks_a_cap_or_the_cash_floor(
    config: tuple[RiskSettings, CapitalSettings, dict[str, Decimal]],
    view: PortfolioView,
    intents: list[OrderIntent],
) -> None:
    check_batch_keeps_every_limit(config, view, intents)


@PROFILE
@given(configs(), views(healthy=True), intent_batches())
def test_no_approved_batch_breaks_a_cap_from_a_healthy_book(
    config: tuple[RiskSettings, CapitalSettings, dict[str, Decimal]],
    view: PortfolioView,
    intents: list[OrderIntent],
) -> None:
    check_batch_keeps_every_limit(config, view, intents)


@PROFILE
@given(configs(), views(drawdown_at_least=D("0.15")), intent_batches())
def test_no_new_risk_when_m_dd_is_zero(
    config: tuple[RiskSettings, CapitalSettings, dict[str, Decimal]],
    view: PortfolioView,
    intents: list[OrderIntent],
) -> None:
    eng = make_engine(*config)
    assert eng.policy(view, NOW).m_dd == 0
    for d in eng.pre_trade(intents, view, NOW):
        assert not (isinstance(d, Approved) and d.risk_increasing)
        if isinstance(d, Denied) and d.intent.side is Side.BUY and d.intent.symbol in UNIVERSE:
            assert d.code.value in {
                "RISK_DRAWDOWN_DERISK_ACTIVE",
                "RISK_TRADING_REDUCING",
                "RISK_MARKET_DATA_STALE",
                "RISK_DAILY_LOSS_LIMIT",
                "VENUE_MIN_NOTIONAL",
            }


@PROFILE
@given(configs(), views(), intent_batches(), st.randoms(use_true_random=False))
def test_independent_of_input_order_and_repeatable(
    config: tuple[RiskSettings, CapitalSettings, dict[str, Decimal]],
    view: PortfolioView,
    intents: list[OrderIntent],
    rnd: Any,
) -> None:
    eng = make_engine(*config)
    first = eng.pre_trade(intents, view, NOW)
    shuffled = list(intents)
    rnd.shuffle(shuffled)
    # the same view with every mapping built in reverse insertion order
    reordered_fields: dict[str, Any] = {
            name: (
                dict(reversed(list(getattr(view, name).items())))
                if hasattr(getattr(view, name), "items")
                else getattr(view, name)
            )
            for name in view.__slots__
    }
    reordered = PortfolioView(**reordered_fields)
    assert eng.pre_trade(shuffled, reordered, NOW) == first
    assert make_engine(*config).pre_trade(intents, view, NOW) == first
    assert eng.post_trade(view, NOW) == eng.post_trade(reordered, NOW)
