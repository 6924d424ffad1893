"""Exchange observations applied to a ManagedOrder: pure, through the transition table.

Every function returns ``(new_order, event)`` where ``event`` names the journal entry
(``OrderEvent``), or raises IllegalTransition (an InvariantViolation: the cycle halts).

Policy (ARCHITECTURE.md section 4):
- State comes from the exchange row, quantities ONLY from fills (user trades by order id).
  Exchange rows can be stale or odd (market-buy rows carry a meaningless ``quantity``), fills
  are the one authoritative, countable source. So ``on_exchange_order`` never changes
  ``filled_quantity`` and ``on_fill`` is the only thing that does.
- Progress never goes backwards: a stale ``Untouched`` row for an order we already know is
  partially filled leaves it PARTIALLY_FILLED; a terminal local order ignores stale open rows.
- A pending cancel stays CANCEL_REQUESTED while the exchange still shows the order open
  (cancel is asynchronous on BTC Turk); it ends in CANCELED or FILLED.
- Exchange ``Closed`` means FILLED only when the fills confirm it or ``left_amount == 0``.
  ``Closed`` with ``left_amount > 0`` is an order the venue finished with a remainder (e.g. a
  market order stopped by the 5 % protection band) -> CANCELED (its fills still count).
  ``Closed`` with unknown ``left_amount`` and unconfirming fills -> unchanged, event
  ``EXCHANGE_CLOSED_AWAITING_FILLS``: fetch the fills and look again.
- Fills apply in every state that can have fills, including CANCELED/CANCEL_REQUESTED/FILLED
  (late fills). A fill for a REJECTED or NOT_PLACED order, or one that pushes a base-sized order
  past its quantity, is an invariant violation. De-duplication by trade id is the caller's job
  (the DB's unique trade id and ``reconcile``'s ``known_trade_ids``).
- The exchange outranks our conclusions: a REJECTED or NOT_PLACED order that the exchange shows
  after all (a row or a trade with its client id) is reopened by ``on_exchange_correction``
  (UNKNOWN with the exchange id; fills and row follow as usual), the one way out of those
  terminal states.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from btcbot.domain.enums import OrderState, Side, VenueOrderStatus
from btcbot.domain.errors import IllegalTransition
from btcbot.domain.exchange_models import ExchangeOrder, Fill, SubmitAck
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.orders import ManagedOrder

S = OrderState


class OrderEvent(StrEnum):
    """Journal event names (``order_events.event``)."""

    SUBMIT_STARTED = "submit_started"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    AMBIGUOUS = "ambiguous"
    EXCHANGE_STATE = "exchange_state"
    EXCHANGE_CLOSED_AWAITING_FILLS = "exchange_closed_awaiting_fills"
    STALE_EXCHANGE_ROW = "stale_exchange_row"
    FILL = "fill"
    LATE_FILL = "late_fill"
    CANCEL_REQUESTED = "cancel_requested"
    NOT_PLACED = "not_placed"
    CORRECTED_BY_EXCHANGE = "corrected_by_exchange"


Applied = tuple[ManagedOrder, OrderEvent]

#: States in which the order may exist on the exchange (so exchange rows and fills may refer to it).
_MAY_EXIST = frozenset({S.SUBMITTING, S.UNKNOWN, S.OPEN, S.PARTIALLY_FILLED, S.CANCEL_REQUESTED})
#: States from which "not found on the exchange after the grace period" may end the order.
_UNRESOLVED = frozenset({S.PLANNED, S.SUBMITTING, S.UNKNOWN})


def _illegal(order: ManagedOrder, what: str) -> IllegalTransition:
    return IllegalTransition(f"order {order.client_order_id} ({order.state}): {what}")


def fills_complete(order: ManagedOrder) -> bool:
    """True when the fills alone prove the order is done.

    Base-sized orders (limit, market sell): filled base >= quantity. A market BUY is sized in
    quote and the venue may spend slightly less than asked, so fills cannot prove completion:
    only the exchange row (``left_amount == 0``) can.
    """
    if order.quote_amount is not None:
        return False
    return order.filled_quantity >= order.quantity


def _check_identity(
    order: ManagedOrder, *, exchange_order_id: int, client_order_id: str | None, symbol: str, side: Side
) -> None:
    if order.exchange_order_id is not None and order.exchange_order_id != exchange_order_id:
        raise _illegal(order, f"exchange order id {exchange_order_id} != known {order.exchange_order_id}")
    if client_order_id is not None and client_order_id != order.client_order_id:
        raise _illegal(order, f"client order id {client_order_id!r} does not match")
    if symbol.upper() != order.symbol.upper() or side != order.side:
        raise _illegal(order, f"symbol/side {symbol}/{side} do not match {order.symbol}/{order.side}")


def on_submit_started(order: ManagedOrder, at: datetime) -> Applied:
    """PLANNED -> SUBMITTING (committed before the POST). Never from UNKNOWN: no blind resend."""
    if order.state is not S.PLANNED:
        raise _illegal(order, "submit may only start from PLANNED")
    return order.transition(S.SUBMITTING, at), OrderEvent.SUBMIT_STARTED


def on_ack(order: ManagedOrder, ack: SubmitAck, at: datetime) -> Applied:
    """The POST succeeded: SUBMITTING/UNKNOWN -> OPEN with the exchange order id.

    If the order already progressed (a fill or exchange row was applied first), only the id is
    recorded; a REJECTED/NOT_PLACED/PLANNED order cannot be acknowledged.
    """
    _check_identity(
        order,
        exchange_order_id=ack.exchange_order_id,
        client_order_id=ack.client_order_id,
        symbol=ack.symbol,
        side=ack.side,
    )
    if order.state in (S.SUBMITTING, S.UNKNOWN):
        target = S.OPEN
    elif order.state in (S.OPEN, S.PARTIALLY_FILLED, S.CANCEL_REQUESTED, S.FILLED, S.CANCELED):
        target = order.state
    else:
        raise _illegal(order, "acknowledgement for an order that cannot exist on the exchange")
    return order.transition(target, at, exchange_order_id=ack.exchange_order_id), OrderEvent.ACKNOWLEDGED


def on_rejected(order: ManagedOrder, error_name: str, code: int | None, at: datetime) -> Applied:
    """A definitive business error answered the POST: SUBMITTING -> REJECTED (name + code kept)."""
    if order.state is not S.SUBMITTING:
        raise _illegal(order, "only a SUBMITTING order can be rejected")
    return order.transition(S.REJECTED, at, reject_reason=error_name, reject_code=code), OrderEvent.REJECTED


def on_ambiguous(order: ManagedOrder, at: datetime) -> Applied:
    """The POST's outcome is unknown (timeout, reset, 5xx after sending): SUBMITTING -> UNKNOWN."""
    if order.state not in (S.SUBMITTING, S.UNKNOWN):
        raise _illegal(order, "only a SUBMITTING order can become UNKNOWN")
    return order.transition(S.UNKNOWN, at), OrderEvent.AMBIGUOUS


def _target_for(order: ManagedOrder, xo: ExchangeOrder) -> OrderState | None:
    """The local state an exchange row implies, or None for 'leave as is' (see module docstring)."""
    status = xo.status
    if status is VenueOrderStatus.CANCELED:
        return S.CANCELED
    if status is VenueOrderStatus.CLOSED:
        if xo.left_amount is not None and xo.left_amount == 0:
            return S.FILLED
        if fills_complete(order):
            return S.FILLED
        if xo.left_amount is not None and xo.left_amount > 0:
            return S.CANCELED
        return None
    # Still open on the exchange.
    if order.state is S.CANCEL_REQUESTED:
        return S.CANCEL_REQUESTED
    if fills_complete(order):
        return S.FILLED
    if status is VenueOrderStatus.PARTIAL or order.filled_quantity > 0 or order.state is S.PARTIALLY_FILLED:
        return S.PARTIALLY_FILLED
    return S.OPEN


def on_exchange_order(order: ManagedOrder, xo: ExchangeOrder, at: datetime) -> Applied:
    """Apply an exchange row (open orders, all orders or single order) to the order's STATE.

    Untouched/Partial/Closed/Canceled -> OPEN/PARTIALLY_FILLED/FILLED/CANCELED with the rules of
    the module docstring. Quantities are untouched. Records the exchange order id if missing.
    """
    _check_identity(
        order,
        exchange_order_id=xo.exchange_order_id,
        client_order_id=xo.client_order_id,
        symbol=xo.symbol,
        side=xo.side,
    )
    if order.state in (S.PLANNED, S.REJECTED, S.NOT_PLACED):
        raise _illegal(
            order,
            f"exchange reports order {xo.exchange_order_id} ({xo.status}) that we "
            "believed never reached the exchange",
        )
    if order.state in (S.FILLED, S.CANCELED):
        if xo.status.is_open:
            return order, OrderEvent.STALE_EXCHANGE_ROW
        expected = VenueOrderStatus.CLOSED if order.state is S.FILLED else VenueOrderStatus.CANCELED
        if xo.status is not expected and not (
            order.state is S.CANCELED
            and xo.status is VenueOrderStatus.CLOSED
            and xo.left_amount is not None
            and xo.left_amount > 0
        ):
            raise _illegal(order, f"exchange says {xo.status} for a locally {order.state} order")
        return order, OrderEvent.STALE_EXCHANGE_ROW
    target = _target_for(order, xo)
    if target is None:
        if order.exchange_order_id is None:
            order = order.transition(order.state, at, exchange_order_id=xo.exchange_order_id)
        return order, OrderEvent.EXCHANGE_CLOSED_AWAITING_FILLS
    if order.state is S.PARTIALLY_FILLED and target is S.OPEN:
        target = S.PARTIALLY_FILLED
    return order.transition(target, at, exchange_order_id=xo.exchange_order_id), OrderEvent.EXCHANGE_STATE


def on_fill(order: ManagedOrder, fill: Fill, at: datetime) -> Applied:
    """Accumulate one fill (quantity, quote value, fee + tax) and advance the state.

    SUBMITTING/UNKNOWN/OPEN/PARTIALLY_FILLED -> PARTIALLY_FILLED (FILLED when fills complete a
    base-sized order); CANCEL_REQUESTED stays (or FILLED when complete); FILLED/CANCELED keep
    their state and still count the quantities (late fill).
    """
    _check_identity(
        order,
        exchange_order_id=fill.order_id,
        client_order_id=fill.client_order_id,
        symbol=fill.symbol,
        side=fill.side,
    )
    if order.state not in _MAY_EXIST and order.state not in (S.FILLED, S.CANCELED):
        raise _illegal(order, f"fill {fill.trade_id} for an order that never reached the exchange")
    if fill.quantity <= 0 or fill.price <= 0 or fill.fee < 0 or fill.tax < 0:
        raise _illegal(order, f"fill {fill.trade_id} has a non-positive quantity/price or a negative fee")
    filled = order.with_fill(fill.quantity, fill.quote_value, fill.fee + fill.tax, at)
    if filled.quote_amount is None and filled.filled_quantity > filled.quantity:
        raise _illegal(order, f"fill {fill.trade_id} overfills: {filled.filled_quantity} > {filled.quantity}")
    if filled.exchange_order_id is None:
        filled = filled.transition(filled.state, at, exchange_order_id=fill.order_id)
    if order.state in (S.FILLED, S.CANCELED):
        return filled, OrderEvent.LATE_FILL
    if fills_complete(filled):
        target = S.FILLED
    elif order.state is S.CANCEL_REQUESTED:
        target = S.CANCEL_REQUESTED
    else:
        target = S.PARTIALLY_FILLED
    return filled.transition(target, at), OrderEvent.FILL


def on_cancel_requested(order: ManagedOrder, at: datetime) -> Applied:
    """The exchange accepted our cancel request: OPEN/PARTIALLY_FILLED -> CANCEL_REQUESTED.

    BTC Turk cancels by exchange order id only, so an order without one cannot be canceled.
    """
    if order.exchange_order_id is None:
        raise _illegal(order, "cannot request a cancel without an exchange order id")
    if order.state not in (S.OPEN, S.PARTIALLY_FILLED, S.CANCEL_REQUESTED, S.UNKNOWN, S.SUBMITTING):
        raise _illegal(order, "cancel requested for an order that is not open")
    return order.transition(S.CANCEL_REQUESTED, at), OrderEvent.CANCEL_REQUESTED


def grace_elapsed(order: ManagedOrder, now: datetime, grace_s: float) -> bool:
    """True when ``grace_s`` seconds passed since the order was created AND last updated."""
    since = max(order.created_at, order.updated_at)
    return now - since >= timedelta(seconds=grace_s)


def on_not_found_after_grace(order: ManagedOrder, now: datetime, grace_s: float) -> Applied:
    """PLANNED/SUBMITTING/UNKNOWN -> NOT_PLACED, only once the grace period is over.

    The caller must have looked the client id up (``lookup.resolve_unknown``) and found nothing;
    calling this before the grace period ends is an invariant violation, not a no-op, because
    declaring an order not placed too early is how duplicates happen.
    """
    if order.state not in _UNRESOLVED:
        raise _illegal(order, "only an unresolved order can be declared not placed")
    if not grace_elapsed(order, now, grace_s):
        raise _illegal(order, f"not-found grace period of {grace_s}s has not elapsed")
    if order.state is S.SUBMITTING:
        # A SUBMITTING row seen by a later cycle is a send with an unknown outcome: it passes
        # through UNKNOWN, which is the only road to NOT_PLACED in the transition table.
        order = order.transition(S.UNKNOWN, now)
    return order.transition(S.NOT_PLACED, now), OrderEvent.NOT_PLACED


#: States we concluded without the exchange's word: the exchange may prove them wrong.
NEVER_PLACED = frozenset({S.REJECTED, S.NOT_PLACED})


def on_exchange_correction(
    order: ManagedOrder, exchange_order_id: int, xo: ExchangeOrder | None, at: datetime
) -> Applied:
    """REJECTED/NOT_PLACED, but the exchange has the order: reopen it as UNKNOWN with its exchange id.

    Outside the transition table on purpose: this corrects a wrong conclusion, it is not a
    lifecycle step. From UNKNOWN the usual road follows: its fills (``on_fill``), then its row
    (``on_exchange_order``), so the journal tells what happened in the usual words. ``xo`` (the
    row that proved it, None when only a trade did) is checked against the order's identity.
    The rejection's name and code are kept as history.
    """
    if order.state not in NEVER_PLACED:
        raise _illegal(order, "only a REJECTED or NOT_PLACED order is corrected by the exchange")
    if xo is not None:
        if xo.exchange_order_id != exchange_order_id:
            raise _illegal(order, f"row {xo.exchange_order_id} is not exchange order {exchange_order_id}")
        _check_identity(order, exchange_order_id=exchange_order_id, client_order_id=xo.client_order_id,
                        symbol=xo.symbol, side=xo.side)
    reopened = replace(order, state=S.UNKNOWN, exchange_order_id=ExchangeOrderId(exchange_order_id), updated_at=at)
    return reopened, OrderEvent.CORRECTED_BY_EXCHANGE
