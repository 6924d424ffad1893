"""Alert flow: policy + outbox inside the transaction, delivery after commit.

    with uow:                                    # the cycle's transaction
        dispatcher.submit(alert, now)            # policy decides; allowed alerts go to the outbox
        save(dispatcher.state.to_json())         # persist the policy state in the same transaction
        uow.commit()
    dispatcher.dispatch_pending()                # after commit: POST, then mark_sent

Guarantees: an alert is lost only if the transaction that raised it rolled back (then the state
change it reports did not happen either). ``mark_sent`` follows a successful POST, so a crash between
the two re-sends the alert after restart with the same ``X-Idempotency-Key`` (at-least-once delivery;
receivers that honour the key see it once). Delivery stops at the first failure so an unreachable
webhook costs at most one timeout per cycle; the rest stay pending for the next call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from btcbot.observability.alerts.model import Alert
from btcbot.observability.alerts.outbox import AlertOutbox
from btcbot.observability.alerts.policy import AlertPolicy, Decision, PolicyState, Verdict
from btcbot.observability.alerts.sender import AlertDeliveryError, AlertSender

SUPPRESSED_DETAIL = "suppressed_since_last"


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sent: tuple[str, ...]
    failed: str | None = None
    error: str | None = None
    #: Alerts left in the outbox after this dispatch (``alert_outbox_pending``); None = not counted.
    pending: int | None = None


class AlertDispatcher:
    """Applies :class:`AlertPolicy`, writes to an :class:`AlertOutbox`, delivers through a sender."""

    def __init__(
        self,
        outbox: AlertOutbox,
        sender: AlertSender,
        policy: AlertPolicy,
        state: PolicyState | None = None,
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self._policy = policy
        self._state = state if state is not None else PolicyState()

    @property
    def state(self) -> PolicyState:
        """Policy state to persist with the transaction that called :meth:`submit`."""
        return self._state

    def restore(self, state: PolicyState) -> None:
        """Reset to persisted state (e.g. after the transaction that called submit rolled back)."""
        self._state = state

    def submit(self, alert: Alert, now: datetime) -> Decision:
        """Decide and, if allowed, enqueue. Call inside the transaction; sends nothing."""
        decision, new_state = self._policy.decide(self._state, alert, now)
        if decision.send:
            if decision.suppressed_before:
                details = {**alert.details, SUPPRESSED_DETAIL: str(decision.suppressed_before)}
                alert = replace(alert, details=details)
            if not self._outbox.enqueue(alert):
                decision = Decision(Verdict.DUPLICATE)
        self._state = new_state
        return decision

    def dispatch_pending(self) -> DispatchReport:
        """Deliver pending alerts oldest first; call after commit. Never raises AlertDeliveryError."""
        sent: list[str] = []
        for outbox_id, alert in self._outbox.pending_alerts():
            try:
                self._sender.send(alert, outbox_id)
            except AlertDeliveryError as exc:
                return DispatchReport(tuple(sent), failed=outbox_id, error=str(exc))
            self._outbox.mark_sent(outbox_id)
            sent.append(outbox_id)
        return DispatchReport(tuple(sent))
