"""Venue rules at their boundaries (btcbot.domain.venue): hand-computed values, one rule per test.

Written against the survivors of ``scripts/mutation_test.py domain/venue``: every limit is
tested exactly at the limit (accepted) and one step past it (refused), every branch of
``max_affordable_buy`` (including the step-down loop that makes an exact cost fit) with a value
worked out by hand, and every refusal by its code, not only "some rejection".
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.market import SymbolRules
from btcbot.domain.venue import (
    RejectionCode,
    VenueRejection,
    build_order_request,
    check_limit_price_band,
    floor_quantity,
    market_buy_quote_amount,
    max_affordable_buy,
    price_step,
)

ZERO = Decimal(0)
FEE = Decimal("0.002")
TAX = Decimal("0.20")

#: whole base units, prices in 0.01, minimum notional 10 TRY, no band, no tick
WHOLE = SymbolRules(
    symbol="AAATRY", base="AAA", quote="TRY", status="TRADING", numerator_scale=0, denominator_scale=2,
    has_fraction=True, min_exchange_value=Decimal("10"),
)  # fmt: skip
#: integer prices (has_fraction False, no tick), whole units, minimum notional 100.5 TRY
INTEGER_PRICES = SymbolRules(
    symbol="IIITRY", base="III", quote="TRY", status="TRADING", numerator_scale=0, denominator_scale=0,
    has_fraction=False, min_exchange_value=Decimal("100.5"),
)  # fmt: skip
#: quantity limits 0.5 .. 1 (LOT_SIZE), integer prices, minimum notional 10 TRY
LOT = SymbolRules(
    symbol="LOTTRY", base="LOT", quote="TRY", status="TRADING", numerator_scale=2, denominator_scale=0,
    has_fraction=False, min_exchange_value=Decimal("10"), min_amount=Decimal("0.5"), max_amount=Decimal("1"),
)  # fmt: skip


def _rules(**changes: Any) -> SymbolRules:
    return replace(WHOLE, **changes)


def _build(
    rules: SymbolRules,
    side: Side,
    order_type: OrderType,
    qty: str,
    price: str,
    *,
    margin: str = "0",
    free: str | None = None,
    fee: Decimal = ZERO,
    tax: Decimal = ZERO,
) -> OrderRequest | VenueRejection:
    return build_order_request(
        rules, side=side, order_type=order_type, base_quantity=Decimal(qty), price=Decimal(price),
        client_order_id=ClientOrderId("cid"), margin=Decimal(margin), free_balance=None if free is None else Decimal(free),
        fee_rate=fee, tax_rate=tax,
    )  # fmt: skip


def _code(result: OrderRequest | VenueRejection) -> RejectionCode | None:
    return result.code if isinstance(result, VenueRejection) else None


# ----------------------------------------------------------------------------- small functions


def test_floor_quantity_of_negative_zero_is_an_unsigned_zero() -> None:
    # "never negative" includes the sign: -0 would be written "-0" on the wire.
    floored = floor_quantity(WHOLE, Decimal("-0"))
    assert floored == 0 and not floored.is_signed()


def test_market_buy_quote_amount_non_positive_is_zero_and_small_amounts_are_kept() -> None:
    assert market_buy_quote_amount(WHOLE, Decimal("-5.129")) == 0
    negative_zero = market_buy_quote_amount(WHOLE, Decimal("-0"))
    assert negative_zero == 0 and not negative_zero.is_signed()
    assert market_buy_quote_amount(WHOLE, Decimal("0.579")) == Decimal("0.57")
    assert market_buy_quote_amount(WHOLE, Decimal("1")) == Decimal("1.00")


def test_price_step_ignores_a_zero_tick() -> None:
    assert price_step(_rules(tick_size=ZERO)) == Decimal("0.01")


def test_price_step_with_integer_tick_on_integer_prices() -> None:
    assert price_step(_rules(has_fraction=False, tick_size=Decimal("5"))) == Decimal("5")


# ----------------------------------------------------------------------------- price band


def test_band_bounds_are_inclusive() -> None:
    rules = _rules(min_limit_price=Decimal("2"), max_limit_price=Decimal("8"))
    assert check_limit_price_band(rules, Decimal("2")) is None
    assert check_limit_price_band(rules, Decimal("8")) is None
    low = check_limit_price_band(rules, Decimal("1.99"))
    high = check_limit_price_band(rules, Decimal("8.01"))
    assert low is not None and low.code is RejectionCode.PRICE_OUT_OF_BAND and "< 2" in low.detail
    assert high is not None and high.code is RejectionCode.PRICE_OUT_OF_BAND and "> 8" in high.detail


def test_band_bounds_below_one_and_at_one_are_enforced() -> None:
    assert _code_of_band(_rules(min_limit_price=Decimal("0.5")), "0.4") is RejectionCode.PRICE_OUT_OF_BAND
    assert _code_of_band(_rules(max_limit_price=Decimal("1")), "1.5") is RejectionCode.PRICE_OUT_OF_BAND
    assert _code_of_band(_rules(min_price=Decimal("0.5")), "0.4") is RejectionCode.PRICE_OUT_OF_BAND
    assert _code_of_band(_rules(max_price=Decimal("1")), "1.5") is RejectionCode.PRICE_OUT_OF_BAND


def test_band_uses_the_tighter_of_both_filters() -> None:
    rules = _rules(
        min_limit_price=Decimal("2"),
        min_price=Decimal("3"),
        max_limit_price=Decimal("9"),
        max_price=Decimal("7"),
    )
    assert _code_of_band(rules, "2.5") is RejectionCode.PRICE_OUT_OF_BAND
    assert _code_of_band(rules, "8") is RejectionCode.PRICE_OUT_OF_BAND
    assert _code_of_band(rules, "5") is None


def test_zero_bounds_mean_no_bound() -> None:
    # BTC Turk publishes 0 for an unset bound; 0 must not turn into "every price is too high".
    rules = _rules(min_limit_price=ZERO, max_limit_price=ZERO, min_price=ZERO, max_price=ZERO)
    assert check_limit_price_band(rules, Decimal("123456")) is None
    # A zero lower bound rejects nothing, not even a negative price (that is build_order_request's
    # INVALID_PRICE check, not the band's).
    assert check_limit_price_band(rules, Decimal("-1")) is None
    assert check_limit_price_band(WHOLE, Decimal("123456")) is None  # no bounds at all


def _code_of_band(rules: SymbolRules, price: str) -> RejectionCode | None:
    band = check_limit_price_band(rules, Decimal(price))
    return None if band is None else band.code


# ----------------------------------------------------------------------------- max_affordable_buy


def test_max_affordable_buy_exact_fit_and_floor() -> None:
    assert max_affordable_buy(WHOLE, Decimal("30"), Decimal("10"), ZERO, ZERO, ZERO) == 3  # cost 30 = free
    assert max_affordable_buy(WHOLE, Decimal("35"), Decimal("10"), ZERO, ZERO, ZERO) == 3  # 3.5 floored


def test_max_affordable_buy_with_fee_and_tax_on_the_fee() -> None:
    rules = _rules(numerator_scale=8)
    # unit cost 1,000,000 * (1 + 0.002 * 1.2) = 1,002,400; 10,024 / 1,002,400 = 0.01 exactly
    assert max_affordable_buy(rules, Decimal("10024"), Decimal("1000000"), FEE, TAX, ZERO) == Decimal("0.01")
    # one TRY short: 10,023 / 1,002,400 = 0.0099990023...; 0.009999 costs 10,022.9976 <= 10,023
    assert max_affordable_buy(rules, Decimal("10023"), Decimal("1000000"), FEE, TAX, ZERO) == Decimal(
        "0.00999900"
    )


def test_max_affordable_buy_steps_down_when_division_rounds_up() -> None:
    # 29.99...9 (31 digits) / 10 rounds to 3.000... at Decimal's 28 digits, but 3 units cost 30 > free.
    free = Decimal("29.99999999999999999999999999999")
    assert free / Decimal("10") == 3
    assert (
        max_affordable_buy(_rules(min_exchange_value=Decimal("1")), free, Decimal("10"), ZERO, ZERO, ZERO)
        == 2
    )


def test_max_affordable_buy_steps_down_to_nothing() -> None:
    # 0.99...9 (31 digits) / 1 rounds to 1, one unit costs 1 > free: nothing fits.
    free = Decimal("0.9999999999999999999999999999999")
    rules = _rules(min_exchange_value=Decimal("0.5"))
    assert max_affordable_buy(rules, free, Decimal("1"), ZERO, ZERO, ZERO) == 0


def test_max_affordable_buy_of_exactly_one_unit() -> None:
    assert max_affordable_buy(WHOLE, Decimal("15"), Decimal("10"), ZERO, ZERO, ZERO) == 1


def test_max_affordable_buy_under_one_unit_of_quote_and_price() -> None:
    rules = _rules(min_exchange_value=Decimal("0.1"))
    assert max_affordable_buy(rules, Decimal("1"), Decimal("0.5"), ZERO, ZERO, ZERO) == 2


def test_max_affordable_buy_minimum_notional_is_inclusive_and_includes_the_margin() -> None:
    rules = _rules(min_exchange_value=Decimal("20"))
    # minimum 20 * 1.5 = 30; 3 units at 10 = 30 exactly: allowed
    assert max_affordable_buy(rules, Decimal("30"), Decimal("10"), ZERO, ZERO, Decimal("0.5")) == 3
    # minimum 20 * 1.6 = 32 > 30: nothing
    assert max_affordable_buy(rules, Decimal("30"), Decimal("10"), ZERO, ZERO, Decimal("0.6")) == 0


@pytest.mark.parametrize(("free", "price"), [("0", "10"), ("-5", "10"), ("100", "0"), ("100", "-10")])
def test_max_affordable_buy_nothing_without_money_or_price(free: str, price: str) -> None:
    assert max_affordable_buy(WHOLE, Decimal(free), Decimal(price), FEE, TAX, ZERO) == 0


# ----------------------------------------------------------------------------- build_order_request


@pytest.mark.parametrize("order_type", list(OrderType))
@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("price", ["0", "-1"])
def test_non_positive_price_is_invalid_for_every_order(order_type: OrderType, side: Side, price: str) -> None:
    assert _code(_build(WHOLE, side, order_type, "100", price)) is RejectionCode.INVALID_PRICE


def test_price_of_exactly_one_is_valid() -> None:
    limit = _build(WHOLE, Side.BUY, OrderType.LIMIT, "20", "1")
    assert limit == OrderRequest(
        Symbol("AAATRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("cid"), base_quantity=Decimal("20"), price=Decimal("1")
    )


def test_limit_price_rounding_to_zero_is_invalid() -> None:
    assert (
        _code(_build(INTEGER_PRICES, Side.BUY, OrderType.LIMIT, "1000", "0.5")) is RejectionCode.INVALID_PRICE
    )


def test_market_sell_carries_no_limit_price() -> None:
    result = _build(WHOLE, Side.SELL, OrderType.MARKET, "20.7", "1.005")
    assert result == OrderRequest(Symbol("AAATRY"), Side.SELL, OrderType.MARKET, ClientOrderId("cid"), base_quantity=Decimal("20"))


def test_limit_notional_uses_the_rounded_price() -> None:
    # 1 unit at 100.99 rounds (BUY, down) to 100: 100 < minimum 100.5 although 100.99 would pass.
    assert (
        _code(_build(INTEGER_PRICES, Side.BUY, OrderType.LIMIT, "1", "100.99"))
        is RejectionCode.BELOW_MIN_NOTIONAL
    )
    # and the balance check pays the rounded price: 2 units at 100 = 200 fit 200 exactly
    result = _build(INTEGER_PRICES, Side.BUY, OrderType.LIMIT, "2", "100.99", free="200")
    assert result == OrderRequest(
        Symbol("IIITRY"), Side.BUY, OrderType.LIMIT, ClientOrderId("cid"), base_quantity=Decimal("2"), price=Decimal("100")
    )


def test_limit_minimum_notional_is_inclusive() -> None:
    assert isinstance(_build(WHOLE, Side.BUY, OrderType.LIMIT, "10", "1"), OrderRequest)  # 10 == 10
    # with a 5 % margin the minimum is 10.5
    assert (
        _code(_build(WHOLE, Side.BUY, OrderType.LIMIT, "10", "1", margin="0.05"))
        is RejectionCode.BELOW_MIN_NOTIONAL
    )
    assert isinstance(_build(WHOLE, Side.BUY, OrderType.LIMIT, "11", "1", margin="0.05"), OrderRequest)


def test_quantity_limits_are_inclusive() -> None:
    assert _code(_build(LOT, Side.SELL, OrderType.LIMIT, "0.49", "1000")) is RejectionCode.BELOW_MIN_AMOUNT
    at_min = _build(LOT, Side.SELL, OrderType.LIMIT, "0.5", "1000")
    at_max = _build(LOT, Side.SELL, OrderType.LIMIT, "1", "1000")
    assert isinstance(at_min, OrderRequest) and at_min.base_quantity == Decimal("0.5")
    assert isinstance(at_max, OrderRequest) and at_max.base_quantity == Decimal("1")
    assert _code(_build(LOT, Side.SELL, OrderType.LIMIT, "1.01", "1000")) is RejectionCode.ABOVE_MAX_AMOUNT
    # market orders are held to the same quantity limits
    assert _code(_build(LOT, Side.SELL, OrderType.MARKET, "0.49", "1000")) is RejectionCode.BELOW_MIN_AMOUNT
    assert _code(_build(LOT, Side.SELL, OrderType.MARKET, "1.01", "1000")) is RejectionCode.ABOVE_MAX_AMOUNT


def test_zero_quantity_limits_mean_no_limit() -> None:
    rules = SymbolRules(
        symbol="LOTTRY", base="LOT", quote="TRY", status="TRADING", numerator_scale=2, denominator_scale=0,
        has_fraction=False, min_exchange_value=Decimal("10"), min_amount=ZERO, max_amount=ZERO,
    )  # fmt: skip
    result = _build(rules, Side.SELL, OrderType.LIMIT, "5", "1000")
    assert isinstance(result, OrderRequest) and result.base_quantity == Decimal("5")


def test_market_buy_quote_rounding_to_zero_is_zero_quantity() -> None:
    assert _code(_build(WHOLE, Side.BUY, OrderType.MARKET, "1", "0.001")) is RejectionCode.ZERO_QUANTITY


def test_market_buy_under_the_minimum_is_refused_and_at_the_minimum_is_sent() -> None:
    assert _code(_build(WHOLE, Side.BUY, OrderType.MARKET, "1", "0.5")) is RejectionCode.BELOW_MIN_NOTIONAL
    assert _code(_build(WHOLE, Side.BUY, OrderType.MARKET, "1", "9.99")) is RejectionCode.BELOW_MIN_NOTIONAL
    at_min = _build(WHOLE, Side.BUY, OrderType.MARKET, "10", "1")
    assert at_min == OrderRequest(Symbol("AAATRY"), Side.BUY, OrderType.MARKET, ClientOrderId("cid"), quote_amount=Decimal("10.00"))


def test_market_buy_balance_must_cover_notional_fee_and_tax() -> None:
    # 100 TRY quote + 0.2 % fee + 20 % tax on the fee = 100.24 TRY
    short = _build(WHOLE, Side.BUY, OrderType.MARKET, "100", "1", free="100.23", fee=FEE, tax=TAX)
    assert _code(short) is RejectionCode.INSUFFICIENT_BALANCE
    assert isinstance(short, VenueRejection) and short.detail.endswith("free TRY")
    exact = _build(WHOLE, Side.BUY, OrderType.MARKET, "100", "1", free="100.24", fee=FEE, tax=TAX)
    assert exact == OrderRequest(Symbol("AAATRY"), Side.BUY, OrderType.MARKET, ClientOrderId("cid"), quote_amount=Decimal("100.00"))


def test_limit_balance_is_inclusive_and_names_the_asset() -> None:
    # BUY 10 at 1: 10 + 0.02 fee + 0.004 tax = 10.024 TRY
    assert isinstance(
        _build(WHOLE, Side.BUY, OrderType.LIMIT, "10", "1", free="10.024", fee=FEE, tax=TAX), OrderRequest
    )
    buy_short = _build(WHOLE, Side.BUY, OrderType.LIMIT, "10", "1", free="10.023", fee=FEE, tax=TAX)
    assert isinstance(buy_short, VenueRejection) and buy_short.code is RejectionCode.INSUFFICIENT_BALANCE
    assert buy_short.detail.endswith("free TRY")
    # SELL needs the base asset, fees do not apply to it
    assert isinstance(
        _build(WHOLE, Side.SELL, OrderType.LIMIT, "20", "1", free="20", fee=FEE, tax=TAX), OrderRequest
    )
    sell_short = _build(WHOLE, Side.SELL, OrderType.LIMIT, "21", "1", free="20", fee=FEE, tax=TAX)
    assert isinstance(sell_short, VenueRejection) and sell_short.code is RejectionCode.INSUFFICIENT_BALANCE
    assert sell_short.detail.endswith("free AAA")
    market_sell_short = _build(WHOLE, Side.SELL, OrderType.MARKET, "21", "1", free="20")
    assert _code(market_sell_short) is RejectionCode.INSUFFICIENT_BALANCE


def test_default_fees_are_zero() -> None:
    result = build_order_request(
        WHOLE, side=Side.BUY, order_type=OrderType.LIMIT, base_quantity=Decimal("10"), price=Decimal("1"),
        client_order_id=ClientOrderId("cid"), margin=ZERO, free_balance=Decimal("10"),
    )  # fmt: skip
    assert isinstance(result, OrderRequest)
