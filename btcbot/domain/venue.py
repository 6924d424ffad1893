"""Every venue rounding and venue-rule check, in one place (pure, Decimal, explicit rounding).

Choices, each on the safe side:
- base quantities are floored (ROUND_DOWN) to ``numerator_scale``: never sell or buy more than
  asked, never spend more than planned;
- limit prices go to ``denominator_scale`` decimals, to an integer when ``has_fraction`` is
  False, and to a multiple of ``tick_size`` when one is published (whether BTC Turk enforces
  the tick is undocumented, so we respect it). A BUY rounds DOWN (never pay more than the
  strategy's limit), a SELL rounds UP (never sell cheaper than the strategy's limit);
- a market BUY's quote amount is floored to ``quote_precision`` (2 for TRY; 8 decimals were
  rejected with FAILED_INVALID_QUANTITY_SCALE);
- an order under ``min_exchange_value * (1 + margin)`` is rejected here, never sent.

Fees: ``fee_rate`` is the commission as a fraction of notional (0.002 = 20 bps) and ``tax_rate``
the tax charged ON THE FEE (BTC Turk charges VAT on commission, 0.20 at the time of writing).
Both are paid in the quote asset and must be free on top of a buy's notional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from enum import StrEnum

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.market import SymbolRules

_ZERO = Decimal(0)
_ONE = Decimal(1)


class RejectionCode(StrEnum):
    """Why ``build_order_request`` refused to build an order (nothing was sent)."""

    NOT_TRADABLE = "NOT_TRADABLE"
    ZERO_QUANTITY = "ZERO_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    BELOW_MIN_AMOUNT = "BELOW_MIN_AMOUNT"
    ABOVE_MAX_AMOUNT = "ABOVE_MAX_AMOUNT"
    PRICE_OUT_OF_BAND = "PRICE_OUT_OF_BAND"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"


@dataclass(frozen=True, slots=True)
class VenueRejection:
    """A venue rule the order would break; ``detail`` is a human-readable explanation."""

    code: RejectionCode
    detail: str


def quantum(scale: int) -> Decimal:
    """``10**-scale`` as an exact Decimal (scale 2 -> 0.01, scale 0 -> 1)."""
    return _ONE.scaleb(-scale)


def _decimals(value: Decimal) -> int:
    """Number of decimals of a finite Decimal once trailing zeros are dropped (>= 0)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int), "finite decimals only"
    return max(-exponent, 0)


def floor_quantity(rules: SymbolRules, qty: Decimal) -> Decimal:
    """Base quantity floored (ROUND_DOWN) to ``numerator_scale`` decimals; never negative."""
    if qty <= 0:
        return _ZERO.quantize(quantum(rules.numerator_scale))
    return qty.quantize(quantum(rules.numerator_scale), rounding=ROUND_DOWN)


def price_step(rules: SymbolRules) -> Decimal:
    """The smallest legal price increment: the least common multiple of the decimal quantum
    (``denominator_scale``, or 1 when ``has_fraction`` is False) and ``tick_size`` if set."""
    step = quantum(rules.denominator_scale) if rules.has_fraction else _ONE
    tick = rules.tick_size
    if tick is None or tick <= 0:
        return step
    # Both are exact decimals: scale to integers, take the lcm, scale back.
    exponent = max(_decimals(step), _decimals(tick), 0)
    factor = Decimal(10) ** exponent
    a, b = int(step * factor), int(tick * factor)
    return Decimal(math.lcm(a, b)) / factor


def round_price(rules: SymbolRules, price: Decimal, side: Side) -> Decimal:
    """A legal limit price: BUY rounds down, SELL rounds up, to a multiple of ``price_step``."""
    step = price_step(rules)
    units = (price / step).to_integral_value(rounding=ROUND_FLOOR if side is Side.BUY else ROUND_CEILING)
    return units * step


def market_buy_quote_amount(rules: SymbolRules, quote: Decimal) -> Decimal:
    """The quote amount of a market BUY, floored (ROUND_DOWN) to ``quote_precision`` decimals."""
    if quote <= 0:
        return _ZERO.quantize(quantum(rules.quote_precision))
    return quote.quantize(quantum(rules.quote_precision), rounding=ROUND_DOWN)


def min_order_notional(rules: SymbolRules, margin: Decimal) -> Decimal:
    """The smallest notional we send: ``min_exchange_value * (1 + margin)``."""
    return rules.min_exchange_value * (_ONE + margin)


def buy_cost_with_fees(notional: Decimal, fee_rate: Decimal, tax_rate: Decimal) -> Decimal:
    """Quote needed for a buy: notional + fee + tax on the fee (exact, no rounding)."""
    return notional * (_ONE + fee_rate * (_ONE + tax_rate))


def max_affordable_buy(
    rules: SymbolRules,
    free_quote: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    tax_rate: Decimal,
    margin: Decimal,
) -> Decimal:
    """Largest base quantity whose cost with fees fits ``free_quote`` at ``price``.

    Returns 0 when even that quantity is under the minimum notional (the order must not exist).
    """
    if free_quote <= 0 or price <= 0:
        return floor_quantity(rules, _ZERO)
    qty = floor_quantity(rules, free_quote / buy_cost_with_fees(price, fee_rate, tax_rate))
    step = quantum(rules.numerator_scale)
    # Decimal division rounds half-even at 28 digits; step down until the exact cost fits.
    while qty > 0 and buy_cost_with_fees(qty * price, fee_rate, tax_rate) > free_quote:
        qty -= step
    if qty <= 0 or qty * price < min_order_notional(rules, margin):
        return floor_quantity(rules, _ZERO)
    return qty


def check_limit_price_band(rules: SymbolRules, price: Decimal) -> VenueRejection | None:
    """Refuse prices outside minimum/maximumLimitOrderPrice and the PRICE_FILTER min/max."""
    lows = [v for v in (rules.min_limit_price, rules.min_price) if v is not None and v > 0]
    highs = [v for v in (rules.max_limit_price, rules.max_price) if v is not None and v > 0]
    if lows and price < max(lows):
        return VenueRejection(RejectionCode.PRICE_OUT_OF_BAND, f"{rules.symbol} price {price} < {max(lows)}")
    if highs and price > min(highs):
        return VenueRejection(RejectionCode.PRICE_OUT_OF_BAND, f"{rules.symbol} price {price} > {min(highs)}")
    return None


def build_order_request(
    rules: SymbolRules,
    *,
    side: Side,
    order_type: OrderType,
    base_quantity: Decimal,
    price: Decimal,
    client_order_id: ClientOrderId,
    margin: Decimal,
    free_balance: Decimal | None = None,
    fee_rate: Decimal = _ZERO,
    tax_rate: Decimal = _ZERO,
) -> OrderRequest | VenueRejection:
    """Round an order to the venue's rules, or say why it cannot exist.

    ``price`` is the limit price for LIMIT orders and the reference price (best ask for a buy,
    best bid for a sell) for MARKET orders: a market BUY is sent as the quote amount
    ``base_quantity * price`` floored to ``quote_precision``. ``free_balance`` (optional) is the
    free quote asset for a BUY (must cover notional + fee + tax) or the free base asset for a SELL.
    """
    if not rules.tradable:
        return VenueRejection(RejectionCode.NOT_TRADABLE, f"{rules.symbol} status is {rules.status}")
    if price <= 0:
        return VenueRejection(RejectionCode.INVALID_PRICE, f"{rules.symbol} price must be positive")
    minimum = min_order_notional(rules, margin)
    if order_type is OrderType.MARKET and side is Side.BUY:
        quote = market_buy_quote_amount(rules, base_quantity * price)
        if quote <= 0:
            return VenueRejection(RejectionCode.ZERO_QUANTITY, f"{rules.symbol} quote amount rounds to 0")
        if quote < minimum:
            return VenueRejection(RejectionCode.BELOW_MIN_NOTIONAL, f"{rules.symbol} quote {quote} < minimum {minimum}")
        if free_balance is not None and buy_cost_with_fees(quote, fee_rate, tax_rate) > free_balance:
            return VenueRejection(RejectionCode.INSUFFICIENT_BALANCE, f"{rules.symbol} needs more free {rules.quote}")
        return OrderRequest(Symbol(rules.symbol), side, order_type, client_order_id, quote_amount=quote)

    qty = floor_quantity(rules, base_quantity)
    if qty <= 0:
        return VenueRejection(RejectionCode.ZERO_QUANTITY, f"{rules.symbol} quantity rounds to 0")
    limit_price: Decimal | None = None
    effective_price = price
    if order_type is OrderType.LIMIT:
        limit_price = round_price(rules, price, side)
        if limit_price <= 0:
            return VenueRejection(RejectionCode.INVALID_PRICE, f"{rules.symbol} price rounds to 0")
        band = check_limit_price_band(rules, limit_price)
        if band is not None:
            return band
        effective_price = limit_price
    if rules.min_amount is not None and rules.min_amount > 0 and qty < rules.min_amount:
        return VenueRejection(RejectionCode.BELOW_MIN_AMOUNT, f"{rules.symbol} quantity {qty} < {rules.min_amount}")
    if rules.max_amount is not None and rules.max_amount > 0 and qty > rules.max_amount:
        return VenueRejection(RejectionCode.ABOVE_MAX_AMOUNT, f"{rules.symbol} quantity {qty} > {rules.max_amount}")
    notional = qty * effective_price
    if notional < minimum:
        return VenueRejection(RejectionCode.BELOW_MIN_NOTIONAL, f"{rules.symbol} notional {notional} < minimum {minimum}")
    if free_balance is not None:
        needed = buy_cost_with_fees(notional, fee_rate, tax_rate) if side is Side.BUY else qty
        if needed > free_balance:
            asset = rules.quote if side is Side.BUY else rules.base
            return VenueRejection(RejectionCode.INSUFFICIENT_BALANCE, f"{rules.symbol} needs more free {asset}")
    return OrderRequest(Symbol(rules.symbol), side, order_type, client_order_id, base_quantity=qty, price=limit_price)
