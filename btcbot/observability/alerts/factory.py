"""Build the alert sender from the observability settings' values (no config import here)."""

from __future__ import annotations

from collections.abc import Callable

import requests

from btcbot.observability.alerts.formatters import FormatName, make_formatter
from btcbot.observability.alerts.sender import AlertSender, LogOnlySender, WebhookSender


def make_sender(
    webhook_url: str | None,
    payload_format: FormatName,
    service: str,
    *,
    telegram_chat_id: str | None = None,
    timeout_s: float = 5.0,
    redact: Callable[[str], str] | None = None,
    session: requests.Session | None = None,
) -> AlertSender:
    """``WebhookSender`` for ``alert_webhook_url``, or ``LogOnlySender`` when it is unset.

    Pass ``redact`` (e.g. the logging ``Redactor`` holding the API key and secret) so that a secret
    placed in an alert field by mistake is masked. Raises ValueError for an unusable combination
    (telegram without a chat id, a non-http URL) so ``config check`` can report it.
    """
    if not webhook_url:
        return LogOnlySender()
    kwargs = {"redact": redact} if redact is not None else {}
    fmt = make_formatter(payload_format, service, chat_id=telegram_chat_id, **kwargs)
    return WebhookSender(webhook_url, fmt, timeout_s=timeout_s, session=session)
