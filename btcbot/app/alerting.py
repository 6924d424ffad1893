"""Alerts through the persistence outbox: raised inside the transaction that made the change,
delivered after it committed, marked sent only after the webhook accepted them.

``AlertHub.raise_alert(uow, alert)`` applies the dedup/rate-limit policy (its state lives in the
``meta`` table, so successive cron runs share it) and enqueues the alert in ``uow``.
``AlertHub.flush()`` delivers pending alerts (at-least-once; ``X-Idempotency-Key`` = outbox key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from loguru import logger

from btcbot.contracts.clock import Clock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.observability.alerts.dispatcher import AlertDispatcher, DispatchReport
from btcbot.observability.alerts.model import Alert
from btcbot.observability.alerts.policy import AlertPolicy, PolicyState
from btcbot.observability.alerts.sender import AlertSender

OUTBOX_ALERT = "alert"
META_POLICY = "alerts.policy_state"


class DbAlertOutbox:
    """AlertOutbox over the ``outbox`` table. ``enqueue`` writes into the caller's transaction;
    ``mark_sent`` commits on its own (it follows a delivery, not a state change)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, current: UnitOfWork | None = None,
                 preloaded: list[tuple[str, Alert]] | None = None) -> None:
        self._factory = uow_factory
        self._clock = clock
        self._current = current
        self._preloaded = preloaded  # pending alerts the caller read in its own transaction

    def enqueue(self, alert: Alert) -> bool:
        assert self._current is not None, "enqueue needs the caller's unit of work"
        now = self._clock.now()
        key = f"{OUTBOX_ALERT}:{alert.dedup_key}"
        outbox_id = self._current.outbox.add(OUTBOX_ALERT, key, alert.to_json(), now)
        item = self._current.outbox.get(outbox_id)
        # ``add`` returns the existing row for a known key: it is new only if written just now.
        return item is not None and item.created_at == now

    def pending_alerts(self) -> list[tuple[str, Alert]]:
        if self._preloaded is not None:
            items, self._preloaded = self._preloaded, None
            return items
        with self._factory() as uow:
            return pending_in(uow)

    def mark_sent(self, outbox_id: str) -> None:
        now = self._clock.now()
        with self._factory() as uow:
            for item in uow.outbox.pending(OUTBOX_ALERT):
                if item.key == outbox_id:
                    uow.outbox.mark_done(item.id, now)
            uow.commit()


def pending_in(uow: UnitOfWork) -> list[tuple[str, Alert]]:
    """The undelivered alerts, read inside ``uow``."""
    return [(item.key, Alert.from_json(json.loads(item.payload))) for item in uow.outbox.pending(OUTBOX_ALERT)]


class AlertHub:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, sender: AlertSender,
                 policy: AlertPolicy) -> None:
        self._factory = uow_factory
        self._clock = clock
        self._sender = sender
        self._policy = policy

    def raise_alert(self, uow: UnitOfWork, alert: Alert) -> bool:
        """Policy + enqueue inside ``uow`` (the caller commits). True when it will be sent."""
        raw = uow.meta.get(META_POLICY)
        state = PolicyState.from_json(json.loads(raw)) if raw else PolicyState()
        dispatcher = AlertDispatcher(DbAlertOutbox(self._factory, self._clock, uow), self._sender, self._policy, state)
        decision = dispatcher.submit(alert, self._clock.now())
        uow.meta.set(META_POLICY, json.dumps(dispatcher.state.to_json(), sort_keys=True))
        logger.bind(event="alert." + alert.kind.value, outcome="queued" if decision.send else "suppressed").info(
            alert.summary
        )
        return decision.send

    def raise_now(self, alert: Alert) -> None:
        """Outside a cycle transaction: enqueue in a transaction of its own."""
        with self._factory() as uow:
            self.raise_alert(uow, alert)
            uow.commit()

    def pending_in(self, uow: UnitOfWork) -> list[tuple[str, Alert]]:
        """What ``flush`` will deliver, read inside the caller's transaction just before it
        commits: ``flush(preloaded)`` then needs no transaction of its own."""
        return pending_in(uow)

    def flush(self, preloaded: list[tuple[str, Alert]] | None = None) -> DispatchReport:
        """Deliver what is pending (``preloaded``: as read by ``pending_in`` in the transaction
        that just committed); the report counts what is left (0 unless a delivery failed:
        delivery stops at the first failure, so only then is the outbox read again)."""
        outbox = DbAlertOutbox(self._factory, self._clock, preloaded=preloaded)
        report = AlertDispatcher(outbox, self._sender, self._policy).dispatch_pending()
        if report.failed:
            logger.bind(event="alert.delivery_failed", outcome="retry_later").warning(report.error or "")
            return replace(report, pending=len(outbox.pending_alerts()))
        return replace(report, pending=0)
