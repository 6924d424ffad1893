"""Request bodies: the submit-order JSON (btcturk_api.md 5.6)."""

from __future__ import annotations

import re
from decimal import Decimal

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest

#: SWAGGER's pattern for order numbers: <= 12 integer digits, <= 16 decimals, no sign/exponent.
_NUMBER = re.compile(r"^\d{0,12}(\.\d{1,16})?$")


def plain_decimal(value: Decimal) -> str:
    """``Decimal`` -> ``"0.001"``: fixed point, no exponent, no trailing zeros, venue-legal.

    Raises ValueError for negative, non-finite or out-of-pattern values (nothing is sent).
    """
    if not value.is_finite() or value < 0:
        raise ValueError("order numbers must be finite and non-negative")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if not _NUMBER.fullmatch(text):
        raise ValueError("order number has more than 12 integer digits or 16 decimals")
    return text


def submit_body(request: OrderRequest) -> dict[str, str]:
    """The JSON body of POST /api/v1/order. A market BUY's ``quantity`` is the QUOTE amount."""
    body = {
        "quantity": plain_decimal(request.wire_quantity),
        "stopPrice": "0",
        "newOrderClientId": request.client_order_id,
        "orderMethod": "limit" if request.order_type is OrderType.LIMIT else "market",
        "orderType": "buy" if request.side is Side.BUY else "sell",
        "pairSymbol": request.symbol,
    }
    if request.order_type is OrderType.LIMIT:
        assert request.price is not None  # OrderRequest guarantees it
        body["price"] = plain_decimal(request.price)
    return body
