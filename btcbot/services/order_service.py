"""Submit and cancel: the only code that sends orders.

Submit protocol (never a duplicate, never a lost order):
1. Round the approved intent to the venue's rules (``domain.venue``); a venue refusal means no
   order exists at all.
2. One transaction: the order row (state SUBMITTING: from this commit on the POST may happen),
   its journal entry and a ``submit_order`` outbox row keyed by the deterministic client id.
3. POST. An ack -> OPEN and the outbox row done, in one transaction. ``ExchangeRejected`` (the
   client raises it only for a documented definitive rejection: the "Order outcome policy" table
   in docs/execution.md) -> REJECTED with the exchange's name and code. ANYTHING else
   (AmbiguousOutcome, a 2xx with ``success:false``, an unknown 4xx, 401, 429, 5xx, timeout,
   unreadable body, a crash) -> UNKNOWN with the outbox row left pending: the reconciler
   resolves it by looking the client id up (``services/execution/lookup.py``); nothing is ever
   resent.

Cancel: DELETE, then CANCEL_REQUESTED (BTC Turk cancels asynchronously); the order is CANCELED
only when the exchange shows it so, and fills that arrive meanwhile still count. A cancel answer
that is not final ("cancel outcome unknown") leaves the order's state alone and is journaled;
the next reconcile takes the state from the exchange's order lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from loguru import logger

from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import Account
from btcbot.contracts.orders import SubmitOutcome as SubmitOutcome  # re-export (moved)
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import AmbiguousOutcome, AuthError, ExchangeError, ExchangeRejected, OrderNotFound
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.intents import Approved
from btcbot.domain.market import SymbolRules
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.venue import VenueRejection
from btcbot.failpoints import (
    AFTER_CANCEL_REQUEST,
    AFTER_INTENT_COMMIT,
    AFTER_POST_BEFORE_COMMIT,
    BEFORE_POST,
    Failpoints,
)
from btcbot.services.execution.order_events import on_ack, on_ambiguous, on_cancel_requested, on_rejected
from btcbot.services.order_preparation import prepare_order

OUTBOX_SUBMIT = "submit_order"
#: A cancel BTC Turk accepted but has not carried out after this long is requested again.
CANCEL_RETRY_AFTER_S = 60.0


def request_payload(request: OrderRequest) -> dict[str, Any]:
    return {
        "symbol": request.symbol,
        "side": request.side.value,
        "order_type": request.order_type.value,
        "client_order_id": request.client_order_id,
        "base_quantity": None if request.base_quantity is None else str(request.base_quantity),
        "quote_amount": None if request.quote_amount is None else str(request.quote_amount),
        "price": None if request.price is None else str(request.price),
    }


class OrderService:
    def __init__(
        self,
        account: Account,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        rules: Mapping[str, SymbolRules],
        failpoints: Failpoints,
        min_notional_margin: Decimal,
        fee_rate: Decimal,
        tax_rate: Decimal,
        on_event: Callable[[str, str], None] | None = None,
    ) -> None:
        self._account = account
        self._uow = uow_factory
        self._clock = clock
        self._rules = rules
        self._fp = failpoints
        self._margin = min_notional_margin
        self._fee_rate = fee_rate
        self._tax_rate = tax_rate
        self._on_event = on_event or (lambda _kind, _detail: None)

    def prepare(self, approved: Approved, cycle_id: int) -> OrderRequest | VenueRejection:
        """The venue request (``services.order_preparation.prepare_order``)."""
        return prepare_order(approved, cycle_id, self._rules, self._margin)

    def submit(self, approved: Approved, cycle_id: int) -> SubmitOutcome:
        prepared = self.prepare(approved, cycle_id)
        intent = approved.intent
        log = logger.bind(symbol=intent.symbol, event="order.submit")
        if isinstance(prepared, VenueRejection):
            log.bind(outcome="venue_refused").info(f"not sent: {prepared.code} {prepared.detail}")
            return SubmitOutcome(None, None, f"{prepared.code}: {prepared.detail}")
        request = prepared
        log = log.bind(client_order_id=request.client_order_id)
        now = self._clock.now()
        with self._uow() as uow:
            if uow.orders.get(request.client_order_id) is not None:
                log.bind(outcome="duplicate").warning("order for this intent already exists; not resent")
                return SubmitOutcome(request.client_order_id, None, "duplicate intent")
            order = ManagedOrder(
                client_order_id=request.client_order_id,
                cycle_id=cycle_id,
                strategy_id=intent.strategy_id,
                symbol=request.symbol,
                side=request.side,
                order_type=request.order_type,
                quantity=request.base_quantity if request.base_quantity is not None else intent.quantity,
                price=request.price if request.price is not None else intent.reference_price,
                quote_amount=request.quote_amount,
                state=OrderState.SUBMITTING,
                created_at=now,
                updated_at=now,
                risk_increasing=approved.risk_increasing,
            )
            uow.orders.add(order)
            uow.journal.append(order.client_order_id, cycle_id, None, OrderState.SUBMITTING, "submit_started",
                               request_payload(request), now)
            uow.outbox.add(OUTBOX_SUBMIT, request.client_order_id, request_payload(request), now)
            uow.commit()
        self._fp.hit(AFTER_INTENT_COMMIT)
        self._fp.hit(BEFORE_POST)
        try:
            ack = self._account.submit_order(request)
        except ExchangeRejected as exc:
            name, code = exc.error_name, exc.code
            self._finish(order, "rejected", lambda o, at: on_rejected(o, name, code, at),
                         {"error": name, "code": code}, cycle_id, done=True)
            log.bind(outcome="rejected").warning(f"rejected by exchange: {name} ({code})")
            self._on_event("rejected", name)
            return SubmitOutcome(order.client_order_id, OrderState.REJECTED, name)
        except ExchangeError as exc:
            # AmbiguousOutcome may have reached the venue; CircuitOpen/RateLimited/AuthError were
            # refused before sending. Both go to UNKNOWN: the lookup proves which, after the grace
            # period, and nothing is ever resent blindly.
            self._finish(order, "ambiguous", on_ambiguous, {"error": type(exc).__name__, "detail": str(exc)[:200]},
                         cycle_id, done=False)
            log.bind(outcome="unknown").warning(f"outcome unknown ({type(exc).__name__}); will look it up")
            self._on_event("ambiguous", type(exc).__name__)
            if isinstance(exc, AuthError):
                raise  # the runner halts trading: credentials are broken
            return SubmitOutcome(order.client_order_id, OrderState.UNKNOWN, type(exc).__name__)
        self._fp.hit(AFTER_POST_BEFORE_COMMIT)
        self._finish(order, "acknowledged", lambda o, at: on_ack(o, ack, at),
                     {"exchange_order_id": ack.exchange_order_id}, cycle_id, done=True)
        log.bind(event="order.submit.success", outcome="ok").info(
            f"{request.side} {request.order_type} {request.wire_quantity} id {ack.exchange_order_id}"
        )
        self._on_event("submitted", request.symbol)
        return SubmitOutcome(order.client_order_id, OrderState.OPEN)

    def _finish(
        self,
        order: ManagedOrder,
        event: str,
        apply: Callable[[ManagedOrder, Any], tuple[ManagedOrder, object]],
        payload: Mapping[str, Any],
        cycle_id: int,
        done: bool,
    ) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            current = uow.orders.get(order.client_order_id) or order
            updated, _ = apply(current, now)
            uow.orders.update(updated)
            uow.journal.append(updated.client_order_id, cycle_id, current.state, updated.state, event,
                               dict(payload), now)
            if done:
                for item in uow.outbox.pending(OUTBOX_SUBMIT):
                    if item.key == order.client_order_id:
                        uow.outbox.mark_done(item.id, now)
            uow.commit()

    def cancel(self, order: ManagedOrder, cycle_id: int) -> bool:
        """Request a cancel; True when the exchange accepted the request."""
        log = logger.bind(symbol=order.symbol, client_order_id=order.client_order_id, event="order.cancel")
        if order.exchange_order_id is None or order.is_terminal:
            return False
        if order.state is OrderState.CANCEL_REQUESTED and (
            (self._clock.now() - order.updated_at).total_seconds() < CANCEL_RETRY_AFTER_S
        ):
            return False  # asked recently; BTC Turk cancels asynchronously
        try:
            self._account.cancel_order(order.exchange_order_id)
        except OrderNotFound:
            log.bind(outcome="not_found").info("cancel: exchange no longer has the order; reconcile will settle it")
            return False
        except ExchangeRejected as exc:
            log.bind(outcome="refused").info(f"cancel refused: {exc.error_name}")
            return False
        except AuthError:
            raise  # credentials are broken: the runner halts
        except ExchangeError as exc:
            # Not a final answer: the cancel may or may not have been taken. The order keeps its
            # state; the next reconcile reads it from the exchange (and a still-open entry is
            # asked to cancel again in safe mode).
            log.bind(outcome="unknown").warning(f"cancel outcome unknown: {type(exc).__name__}")
            if isinstance(exc, AmbiguousOutcome):  # it may have reached the venue: keep a record
                self._journal_cancel_unknown(order, cycle_id, exc)
            return False
        self._fp.hit(AFTER_CANCEL_REQUEST)
        now = self._clock.now()
        with self._uow() as uow:
            current = uow.orders.get(order.client_order_id) or order
            if current.is_terminal:
                return True
            if current.state is OrderState.CANCEL_REQUESTED:  # a repeated request: just journal it
                uow.journal.append(current.client_order_id, cycle_id, current.state, current.state,
                                   "cancel_requested_again", None, now)
                uow.orders.update(replace(current, updated_at=now))
                uow.commit()
                return True
            updated, _ = on_cancel_requested(current, now)
            uow.orders.update(updated)
            uow.journal.append(updated.client_order_id, cycle_id, current.state, updated.state,
                               "cancel_requested", None, now)
            uow.commit()
        log.bind(outcome="requested").info("cancel requested")
        return True


    def _journal_cancel_unknown(self, order: ManagedOrder, cycle_id: int, exc: ExchangeError) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            current = uow.orders.get(order.client_order_id) or order
            uow.journal.append(current.client_order_id, cycle_id, current.state, current.state, "cancel_outcome_unknown",
                               {"error": type(exc).__name__, "detail": str(exc)[:200]}, now)
            uow.commit()


def is_risk_increasing(order: ManagedOrder) -> bool:
    """Long-only spot: a BUY adds risk, a SELL reduces it."""
    return order.side is Side.BUY and order.order_type in (OrderType.LIMIT, OrderType.MARKET)
