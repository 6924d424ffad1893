"""One order preparation for the live path and the backtester: approved intent -> venue request.

:func:`prepare_order` is pure. It rounds the approved intent to the symbol's venue rules
(``domain.venue.build_order_request``: price tick, quantity scale, minimum notional with the safety
margin, price band) and gives it its deterministic client order id. A symbol without venue rules
is refused (``NOT_TRADABLE``) rather than sent unchecked. ``OrderService.submit`` (live and paper)
and the backtester call this same function, so a backtest cannot accept an order the live path
would refuse (tests/services/test_order_preparation.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.intents import Approved
from btcbot.domain.market import SymbolRules
from btcbot.domain.venue import RejectionCode, VenueRejection, build_order_request
from btcbot.services.execution.client_order_id import client_order_id_for


def prepare_order(
    approved: Approved, cycle_id: int, rules: Mapping[str, SymbolRules], margin: Decimal
) -> OrderRequest | VenueRejection:
    """The venue request for ``approved`` in cycle ``cycle_id``, or why the venue would refuse it."""
    intent = approved.intent
    symbol_rules = rules.get(intent.symbol)
    if symbol_rules is None:
        return VenueRejection(RejectionCode.NOT_TRADABLE, f"{intent.symbol} has no venue rules")
    return build_order_request(
        symbol_rules,
        side=intent.side,
        order_type=intent.order_type,
        base_quantity=intent.quantity,
        price=intent.price_for_notional,
        client_order_id=client_order_id_for(intent, cycle_id),
        margin=margin,
    )


__all__ = ["prepare_order"]
