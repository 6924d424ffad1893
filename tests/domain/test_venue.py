"""Venue rounding and rules (btcbot.domain.venue): examples plus hypothesis properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.market import SymbolRules
from btcbot.domain.venue import (
    RejectionCode,
    VenueRejection,
    build_order_request,
    buy_cost_with_fees,
    check_limit_price_band,
    floor_quantity,
    market_buy_quote_amount,
    max_affordable_buy,
    min_order_notional,
    price_step,
    round_price,
)

BTCTRY = SymbolRules(
    symbol="BTCTRY", base="BTC", quote="TRY", status="TRADING", numerator_scale=8, denominator_scale=0,
    has_fraction=False, min_exchange_value=Decimal("99.91"), tick_size=Decimal("10"),
    min_limit_price=Decimal("375413.5"), max_limit_price=Decimal("37541350"),
)  # fmt: skip
XRPTRY = SymbolRules(
    symbol="XRPTRY", base="XRP", quote="TRY", status="TRADING", numerator_scale=2, denominator_scale=4,
    has_fraction=True, min_exchange_value=Decimal("99.91"), tick_size=Decimal("0.0001"),
)  # fmt: skip
ETHTRY_NO_TICK = SymbolRules(
    symbol="ETHTRY", base="ETH", quote="TRY", status="TRADING", numerator_scale=8, denominator_scale=2,
    has_fraction=True, min_exchange_value=Decimal("99.91"),
)  # fmt: skip
MARGIN = Decimal("0.05")
FEE = Decimal("0.002")
TAX = Decimal("0.20")


def test_floor_quantity_rounds_down_to_numerator_scale() -> None:
    assert floor_quantity(BTCTRY, Decimal("0.123456789")) == Decimal("0.12345678")
    assert floor_quantity(XRPTRY, Decimal("10.999")) == Decimal("10.99")
    assert floor_quantity(XRPTRY, Decimal("-1")) == 0


def test_round_price_integer_and_tick() -> None:
    assert price_step(BTCTRY) == Decimal("10")
    assert round_price(BTCTRY, Decimal("3612345.67"), Side.BUY) == Decimal("3612340")
    assert round_price(BTCTRY, Decimal("3612345.67"), Side.SELL) == Decimal("3612350")
    assert round_price(BTCTRY, Decimal("3612340"), Side.SELL) == Decimal("3612340")


def test_round_price_has_fraction_false_without_tick_gives_integer() -> None:
    rules = SymbolRules("USDTTRY", "USDT", "TRY", "TRADING", 2, 2, False, Decimal("10"))
    assert round_price(rules, Decimal("34.56"), Side.BUY) == Decimal("34")
    assert round_price(rules, Decimal("34.56"), Side.SELL) == Decimal("35")


def test_round_price_decimals_without_tick() -> None:
    assert round_price(ETHTRY_NO_TICK, Decimal("120000.129"), Side.BUY) == Decimal("120000.12")
    assert round_price(ETHTRY_NO_TICK, Decimal("120000.121"), Side.SELL) == Decimal("120000.13")


def test_tick_not_multiple_of_scale_uses_common_multiple() -> None:
    rules = SymbolRules("X", "X", "TRY", "TRADING", 2, 1, True, Decimal("10"), tick_size=Decimal("0.25"))
    assert price_step(rules) == Decimal("0.5")


def test_market_buy_quote_amount_two_decimals_for_try() -> None:
    assert market_buy_quote_amount(BTCTRY, Decimal("150.129")) == Decimal("150.12")


def test_min_notional_and_costs() -> None:
    assert min_order_notional(BTCTRY, MARGIN) == Decimal("104.9055")
    assert buy_cost_with_fees(Decimal("1000"), FEE, TAX) == Decimal("1002.400")


def test_price_band() -> None:
    assert check_limit_price_band(BTCTRY, Decimal("3600000")) is None
    low = check_limit_price_band(BTCTRY, Decimal("375000"))
    high = check_limit_price_band(BTCTRY, Decimal("40000000"))
    assert low is not None and low.code is RejectionCode.PRICE_OUT_OF_BAND
    assert high is not None and high.code is RejectionCode.PRICE_OUT_OF_BAND


def test_build_limit_order_rounds() -> None:
    result = build_order_request(
        BTCTRY, side=Side.BUY, order_type=OrderType.LIMIT, base_quantity=Decimal("0.0012345678"),
        price=Decimal("3612345.6"), client_order_id=ClientOrderId("cid"), margin=MARGIN,
    )  # fmt: skip
    assert result == OrderRequest(
        Symbol("BTCTRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("cid"), base_quantity=Decimal("0.00123456"), price=Decimal("3612340")
    )


def test_build_market_buy_uses_quote_amount() -> None:
    result = build_order_request(
        BTCTRY, side=Side.BUY, order_type=OrderType.MARKET, base_quantity=Decimal("0.001"),
        price=Decimal("3612345.678"), client_order_id=ClientOrderId("cid"), margin=MARGIN,
    )  # fmt: skip
    assert isinstance(result, OrderRequest)
    assert result.quote_amount == Decimal("3612.34") and result.base_quantity is None and result.price is None


def test_build_below_minimum_is_rejected() -> None:
    result = build_order_request(
        BTCTRY, side=Side.SELL, order_type=OrderType.LIMIT, base_quantity=Decimal("0.00002"),
        price=Decimal("3612340"), client_order_id=ClientOrderId("cid"), margin=MARGIN,
    )  # fmt: skip
    assert isinstance(result, VenueRejection) and result.code is RejectionCode.BELOW_MIN_NOTIONAL


def test_build_refuses_untradable_and_zero() -> None:
    halted = SymbolRules("BTCTRY", "BTC", "TRY", "HALTED", 8, 0, False, Decimal("99.91"))
    r1 = build_order_request(
        halted, side=Side.BUY, order_type=OrderType.LIMIT, base_quantity=Decimal("1"), price=Decimal("1"),
        client_order_id=ClientOrderId("c"), margin=MARGIN,
    )  # fmt: skip
    r2 = build_order_request(
        BTCTRY, side=Side.BUY, order_type=OrderType.LIMIT, base_quantity=Decimal("0.000000001"),
        price=Decimal("3612340"), client_order_id=ClientOrderId("c"), margin=MARGIN,
    )  # fmt: skip
    assert isinstance(r1, VenueRejection) and r1.code is RejectionCode.NOT_TRADABLE
    assert isinstance(r2, VenueRejection) and r2.code is RejectionCode.ZERO_QUANTITY


def test_build_insufficient_balance() -> None:
    result = build_order_request(
        BTCTRY, side=Side.BUY, order_type=OrderType.LIMIT, base_quantity=Decimal("0.001"),
        price=Decimal("3612340"), client_order_id=ClientOrderId("c"), margin=MARGIN, free_balance=Decimal("3612.34"),
        fee_rate=FEE, tax_rate=TAX,
    )  # fmt: skip
    assert isinstance(result, VenueRejection) and result.code is RejectionCode.INSUFFICIENT_BALANCE


def test_max_affordable_buy_zero_under_minimum() -> None:
    assert max_affordable_buy(BTCTRY, Decimal("100"), Decimal("3612340"), FEE, TAX, MARGIN) == 0


# ----------------------------------------------------------------------------- properties

scales = st.integers(min_value=0, max_value=8)
ticks = st.sampled_from([None, Decimal("0.0001"), Decimal("0.01"), Decimal("0.1"), Decimal("0.25"), Decimal("1"), Decimal("10")])


@st.composite
def rules_strategy(draw: st.DrawFn) -> SymbolRules:
    return SymbolRules(
        symbol="AAATRY", base="AAA", quote="TRY", status="TRADING",
        numerator_scale=draw(scales), denominator_scale=draw(st.integers(min_value=0, max_value=4)),
        has_fraction=draw(st.booleans()),
        min_exchange_value=draw(st.decimals(min_value=Decimal("1"), max_value=Decimal("500"), places=2)),
        tick_size=draw(ticks),
    )  # fmt: skip


prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10000000"), places=4)
quantities = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=10)
balances = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000000"), places=8)
fees = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.01"), places=5)
taxes = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=3)
margins = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.2"), places=3)


@settings(max_examples=200, deadline=None)
@given(rules_strategy(), quantities)
def test_floor_never_increases_and_respects_scale(rules: SymbolRules, qty: Decimal) -> None:
    floored = floor_quantity(rules, qty)
    assert floored <= qty or qty <= 0
    assert floored >= 0
    assert floored == floored.quantize(Decimal(1).scaleb(-rules.numerator_scale))
    assert qty - floored < Decimal(1).scaleb(-rules.numerator_scale) or qty <= 0


@settings(max_examples=200, deadline=None)
@given(rules_strategy(), prices)
def test_round_price_direction_and_legality(rules: SymbolRules, price: Decimal) -> None:
    buy, sell = round_price(rules, price, Side.BUY), round_price(rules, price, Side.SELL)
    step = price_step(rules)
    assert buy <= price <= sell
    assert sell - buy <= step
    for p in (buy, sell):
        assert p % step == 0
        if not rules.has_fraction:
            assert p == p.to_integral_value()
        if rules.tick_size is not None:
            assert p % rules.tick_size == 0
        assert p.normalize().as_tuple().exponent >= -rules.denominator_scale or p == 0  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(rules_strategy(), balances, prices, fees, taxes, margins)
def test_max_affordable_buy_fits_balance_and_minimum(
    rules: SymbolRules, free: Decimal, price: Decimal, fee: Decimal, tax: Decimal, margin: Decimal
) -> None:
    qty = max_affordable_buy(rules, free, price, fee, tax, margin)
    if qty == 0:
        return
    assert buy_cost_with_fees(qty * price, fee, tax) <= free
    assert qty * price >= min_order_notional(rules, margin)
    # maximal: one more step would not fit
    step = Decimal(1).scaleb(-rules.numerator_scale)
    assert buy_cost_with_fees((qty + step) * price, fee, tax) > free


@settings(max_examples=200, deadline=None)
@given(
    rules_strategy(), st.sampled_from(list(Side)), st.sampled_from(list(OrderType)), quantities, prices,
    st.none() | balances, fees, taxes, margins,
)  # fmt: skip
def test_built_order_is_legal_or_rejected(
    rules: SymbolRules, side: Side, order_type: OrderType, qty: Decimal, price: Decimal,
    free: Decimal | None, fee: Decimal, tax: Decimal, margin: Decimal,
) -> None:  # fmt: skip
    result = build_order_request(
        rules, side=side, order_type=order_type, base_quantity=qty, price=price, client_order_id=ClientOrderId("cid"),
        margin=margin, free_balance=free, fee_rate=fee, tax_rate=tax,
    )  # fmt: skip
    if isinstance(result, VenueRejection):
        return
    minimum = min_order_notional(rules, margin)
    if result.quote_amount is not None:  # market buy
        assert result.quote_amount >= minimum
        assert result.quote_amount <= qty * price
        if free is not None:
            assert buy_cost_with_fees(result.quote_amount, fee, tax) <= free
        return
    assert result.base_quantity is not None
    assert 0 < result.base_quantity <= qty  # rounding never increases a quantity
    effective = result.price if result.price is not None else price
    assert result.base_quantity * effective >= minimum  # under the minimum is rejected, never sent
    if result.price is not None:
        assert result.price <= price if side is Side.BUY else result.price >= price
    if free is not None:
        if side is Side.BUY:
            assert buy_cost_with_fees(result.base_quantity * effective, fee, tax) <= free
        else:
            assert result.base_quantity <= free


@settings(max_examples=100, deadline=None)
@given(rules_strategy(), quantities, prices, margins)
def test_sell_quantity_never_increased(rules: SymbolRules, qty: Decimal, price: Decimal, margin: Decimal) -> None:
    assume(qty > 0)
    result = build_order_request(
        rules, side=Side.SELL, order_type=OrderType.MARKET, base_quantity=qty, price=price,
        client_order_id=ClientOrderId("cid"), margin=margin,
    )  # fmt: skip
    if isinstance(result, OrderRequest):
        assert result.base_quantity is not None and result.base_quantity <= qty


@pytest.mark.parametrize("side", list(Side))
def test_limit_price_inside_band_after_rounding(side: Side) -> None:
    result = build_order_request(
        BTCTRY, side=side, order_type=OrderType.LIMIT, base_quantity=Decimal("0.001"),
        price=Decimal("375415"), client_order_id=ClientOrderId("c"), margin=MARGIN,
    )  # fmt: skip
    if side is Side.BUY:  # 375410 < band minimum 375413.5
        assert isinstance(result, VenueRejection) and result.code is RejectionCode.PRICE_OUT_OF_BAND
    else:
        assert isinstance(result, OrderRequest) and result.price == Decimal("375420")
