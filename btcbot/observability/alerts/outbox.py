"""The alert outbox protocol and an in-memory implementation for tests.

Alerts are enqueued inside the cycle's transaction and sent only after it commits
(:class:`~btcbot.observability.alerts.dispatcher.AlertDispatcher`), so an alert about a state
change exists if and only if the change was committed. A database implementation over the
persistence outbox must keep the same contract:

* ``enqueue`` is idempotent by ``alert.dedup_key`` (a unique column): ``False`` if that key is
  already present, pending or sent;
* ``pending_alerts`` returns unsent alerts oldest first, each with its outbox id: a stable string
  (e.g. ``"alert:" + dedup_key``) that is also sent as the ``X-Idempotency-Key`` header;
* ``mark_sent`` is called only after the receiver accepted the POST, and is committed on its own.
"""

from __future__ import annotations

from typing import Protocol

from btcbot.observability.alerts.model import Alert


class AlertOutbox(Protocol):
    def enqueue(self, alert: Alert) -> bool:
        """Store ``alert`` unless its dedup key is already there; True if newly stored."""
        ...

    def pending_alerts(self) -> list[tuple[str, Alert]]:
        """Unsent alerts, oldest first, as ``(outbox_id, alert)``."""
        ...

    def mark_sent(self, outbox_id: str) -> None:
        """Record a successful delivery; the alert is never sent again."""
        ...


class InMemoryAlertOutbox:
    """Fake outbox with the same contract; surviving the dispatcher object models a restart."""

    def __init__(self) -> None:
        self._alerts: dict[str, Alert] = {}
        self._sent: set[str] = set()

    @staticmethod
    def outbox_id(alert: Alert) -> str:
        return f"alert:{alert.dedup_key}"

    def enqueue(self, alert: Alert) -> bool:
        key = self.outbox_id(alert)
        if key in self._alerts:
            return False
        self._alerts[key] = alert
        return True

    def pending_alerts(self) -> list[tuple[str, Alert]]:
        return [(k, a) for k, a in self._alerts.items() if k not in self._sent]

    def mark_sent(self, outbox_id: str) -> None:
        if outbox_id not in self._alerts:
            raise KeyError(outbox_id)
        self._sent.add(outbox_id)

    def sent_ids(self) -> list[str]:
        return [k for k in self._alerts if k in self._sent]
