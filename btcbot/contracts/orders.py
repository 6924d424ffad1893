"""The OrderManager port (design document: ``OrderManager``): the only door orders go out by.

Implemented by :class:`btcbot.services.order_service.OrderService` (persist, then send with the
deterministic client id; docs/execution.md). The design document's ``plan``/``mark_*`` steps are
inside ``submit`` (order row + outbox committed before the POST, then the answer applied) and the
reconciler (fills, cancels confirmed from exchange truth); the cycle only submits and cancels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from btcbot.domain.enums import OrderState
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.intents import Approved
from btcbot.domain.orders import ManagedOrder


@dataclass(frozen=True)
class SubmitOutcome:
    """What became of one approved intent: no order (``client_order_id`` None: the venue rules
    refused it, ``detail`` says why), or the order's state after the POST."""

    client_order_id: ClientOrderId | None
    state: OrderState | None
    detail: str = ""

    @property
    def sent(self) -> bool:
        return self.state in (OrderState.OPEN, OrderState.UNKNOWN)


class OrderManager(Protocol):
    def submit(self, approved: Approved, cycle_id: int) -> SubmitOutcome:
        """Prepare (venue rules), persist, send; never raises for a refusal or an unknown outcome."""
        ...

    def cancel(self, order: ManagedOrder, cycle_id: int) -> bool:
        """Request a cancel; True when the exchange accepted the request."""
        ...


__all__ = ["OrderManager", "SubmitOutcome"]
