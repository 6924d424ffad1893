"""Where fills are booked: one trade of ours becomes, in ONE transaction and at most once per
trade id,

- the ``fills`` row (``add_if_new``: the database's unique trade id is the de-duplication),
- the ledger postings of the trade (``domain.ledger.postings_for_fill``: base, quote, fee, tax),
- the order's progress (``execution.order_events.on_fill``, through the transition table),
- the order journal entry (``fill`` / ``late_fill``) with the trade in its payload,
- the cost-basis and realized-profit accounting (``services.accounting.record_fill``).

Reconciliation decides WHICH trades to book (``execution.reconciliation``: ApplyFill) and calls
``FillBooking.book`` for each; nothing else writes fills.
"""

from __future__ import annotations

from collections.abc import Callable

from loguru import logger

from btcbot.contracts.clock import Clock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.exchange_models import ExchangeOrder, Fill
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.ledger import postings_for_fill
from btcbot.domain.symbols import parse_pair
from btcbot.services.accounting import record_fill
from btcbot.services.execution.order_events import on_fill


class FillBooking:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock, tz: str) -> None:
        self._uow = uow
        self._clock = clock
        self._tz = tz

    def book(self, client_order_id: ClientOrderId, fill: Fill, cycle_id: int) -> bool:
        """Book ``fill`` on the order ``client_order_id``. False when the order has no row or the
        trade is already booked (nothing written then)."""
        now = self._clock.now()
        pair = parse_pair(fill.symbol)
        with self._uow() as uow:
            order = uow.orders.get(client_order_id)
            if order is None:
                return False
            if not uow.fills.add_if_new(fill, cycle_id):
                return False
            uow.ledger.post(postings_for_fill(fill, pair.base, pair.quote), at=now, cycle_id=cycle_id)
            updated, event = on_fill(order, fill, now)
            uow.orders.update(updated)
            uow.journal.append(order.client_order_id, cycle_id, order.state, updated.state, str(event),
                               fill_payload(fill), now)
            record_fill(uow.meta, fill, pair.base, now, self._tz)
            uow.commit()
        logger.bind(event="order.fill", symbol=fill.symbol, client_order_id=client_order_id, outcome="booked").info(
            f"{fill.side} {fill.quantity} @ {fill.price} fee {fill.fee} tax {fill.tax}"
        )
        return True


def fill_payload(fill: Fill) -> dict[str, object]:
    """The journal payload of a booked trade."""
    return {"trade_id": fill.trade_id, "order_id": fill.order_id, "price": str(fill.price),
            "quantity": str(fill.quantity), "fee": str(fill.fee), "tax": str(fill.tax),
            "timestamp": fill.timestamp.isoformat()}


def row_payload(row: ExchangeOrder) -> dict[str, object]:
    """The journal payload of an exchange order row applied to an order."""
    return {"id": row.exchange_order_id, "status": row.status.value, "amount": str(row.amount),
            "left_amount": None if row.left_amount is None else str(row.left_amount),
            "price": str(row.price), "client_order_id": row.client_order_id}
