"""Alerts: values, a pure dedup/rate-limit policy, payload formats, webhook delivery via an outbox."""

from btcbot.observability.alerts import catalog
from btcbot.observability.alerts.dispatcher import AlertDispatcher, DispatchReport
from btcbot.observability.alerts.factory import make_sender
from btcbot.observability.alerts.formatters import (
    PayloadFormatter,
    alert_text,
    generic_payload,
    make_formatter,
    slack_payload,
    telegram_payload,
)
from btcbot.observability.alerts.model import Alert, AlertKind, Severity
from btcbot.observability.alerts.outbox import AlertOutbox, InMemoryAlertOutbox
from btcbot.observability.alerts.policy import AlertPolicy, Decision, PolicyState, Verdict
from btcbot.observability.alerts.sender import (
    IDEMPOTENCY_HEADER,
    AlertDeliveryError,
    AlertSender,
    LogOnlySender,
    WebhookSender,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "Alert",
    "AlertDeliveryError",
    "AlertDispatcher",
    "AlertKind",
    "AlertOutbox",
    "AlertPolicy",
    "AlertSender",
    "Decision",
    "DispatchReport",
    "InMemoryAlertOutbox",
    "LogOnlySender",
    "PayloadFormatter",
    "PolicyState",
    "Severity",
    "Verdict",
    "WebhookSender",
    "alert_text",
    "catalog",
    "generic_payload",
    "make_formatter",
    "make_sender",
    "slack_payload",
    "telegram_payload",
]
