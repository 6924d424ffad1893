"""Pre-trade checks of a new order, in the venue's order, with its exact error names and codes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcbot.sim.engine.accounts import Accounts
from btcbot.sim.engine.instruments import ASSETS, PairSpec
from btcbot.sim.engine.money import decimals_of, reserve_amount
from btcbot.sim.engine.orders import (
    BALANCE_NOT_ENOUGH,
    BUY,
    FAILED_INVALID_PRICE_SCALE,
    FAILED_INVALID_QUANTITY_SCALE,
    FAILED_MIN_TOTAL_AMOUNT,
    FAILED_ORDER_PARAMETER,
    FAILED_ORDER_WITH_OPEN_ORDERS,
    LIMIT,
    MARKET,
    ORDER_METHOD_NOT_SUPPORTED,
    ORDER_TYPE_NOT_SUPPORTED,
    PRICE_MUST_BE_LESS_THAN_MAXPRICE,
    PRICE_MUST_BE_LESS_THAN_MINPRICE,
    SELL,
    reject,
)

MAX_CLIENT_ID_LENGTH = 50


@dataclass(frozen=True, slots=True)
class Requirement:
    """Funds a new order needs free: ``amount`` of ``asset`` (locked if the order rests)."""

    asset: str
    amount: Decimal


def validate_order(
    spec: PairSpec,
    *,
    side: str,
    method: str,
    quantity: Decimal,
    price: Decimal | None,
    client_id: str,
    best_bid: Decimal | None,
    price_band: tuple[Decimal, Decimal],
    reserve_rate: Decimal,
    accounts: Accounts,
) -> Requirement:
    """Raise ``SimReject`` for the first failed check; return the funds requirement otherwise."""
    if side not in (BUY, SELL):
        raise reject(ORDER_TYPE_NOT_SUPPORTED)
    if method not in (LIMIT, MARKET):
        raise reject(ORDER_METHOD_NOT_SUPPORTED)
    if quantity <= 0 or len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise reject(FAILED_ORDER_PARAMETER)
    if method == LIMIT:
        if price is None or price <= 0:
            raise reject(FAILED_ORDER_PARAMETER)
        if decimals_of(price) > spec.denominator_scale:
            raise reject(FAILED_INVALID_PRICE_SCALE)
        if decimals_of(quantity) > spec.numerator_scale:
            raise reject(FAILED_INVALID_QUANTITY_SCALE)
        notional = price * quantity
        if notional < spec.min_exchange_value:
            raise reject(FAILED_MIN_TOTAL_AMOUNT)
        low, high = price_band
        if price > high:
            raise reject(PRICE_MUST_BE_LESS_THAN_MAXPRICE)
        if price < low:
            raise reject(PRICE_MUST_BE_LESS_THAN_MINPRICE)
        need = (
            Requirement(spec.quote, notional + reserve_amount(notional, reserve_rate))
            if side == BUY
            else Requirement(spec.base, quantity)
        )
    elif side == BUY:
        # Market BUY: quantity is the QUOTE amount to spend (reference §0.3).
        if decimals_of(quantity) > ASSETS[spec.quote].precision:
            raise reject(FAILED_INVALID_QUANTITY_SCALE)
        if quantity < spec.min_exchange_value:
            raise reject(FAILED_MIN_TOTAL_AMOUNT)
        need = Requirement(spec.quote, quantity + reserve_amount(quantity, reserve_rate))
    else:
        if decimals_of(quantity) > spec.numerator_scale:
            raise reject(FAILED_INVALID_QUANTITY_SCALE)
        if best_bid is None or quantity * best_bid < spec.min_exchange_value:
            raise reject(FAILED_MIN_TOTAL_AMOUNT)
        need = Requirement(spec.base, quantity)
    free = accounts.free(need.asset)
    if free < need.amount:
        if free + accounts.locked(need.asset) >= need.amount:
            raise reject(FAILED_ORDER_WITH_OPEN_ORDERS)
        raise reject(BALANCE_NOT_ENOUGH)
    return need
