"""Delivery of one alert: a webhook POST, or a log line when no webhook is configured.

Webhook URLs are secrets (a Slack webhook URL or a Telegram bot URL grants posting rights), so no
error raised here contains the URL: messages name only the HTTP status or the exception type, and the
underlying ``requests`` exception (whose text includes the URL) is not chained.
"""

from __future__ import annotations

from typing import Protocol

import requests
from loguru import logger

from btcbot.domain.errors import BtcbotError
from btcbot.observability.alerts.formatters import PayloadFormatter
from btcbot.observability.alerts.model import Alert, Severity

IDEMPOTENCY_HEADER = "X-Idempotency-Key"


class AlertDeliveryError(BtcbotError):
    """The alert webhook did not accept an alert (timeout, connection error or non-2xx answer).

    Operator: the alert stays in the outbox and is retried after the next cycle; check that the
    webhook URL is right and reachable (``btcbot config check`` shows it masked).
    """


class AlertSender(Protocol):
    def send(self, alert: Alert, idempotency_key: str) -> None:
        """Deliver ``alert`` or raise :class:`AlertDeliveryError`; receivers may dedupe by the key."""
        ...


class WebhookSender:
    """POSTs ``fmt(alert)`` as JSON to ``url`` with an ``X-Idempotency-Key`` header."""

    def __init__(
        self,
        url: str,
        fmt: PayloadFormatter,
        timeout_s: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("alert webhook URL must be http(s)")
        self._url = url
        self._fmt = fmt
        self._timeout_s = timeout_s
        self._session = session if session is not None else requests.Session()

    def __repr__(self) -> str:
        return "WebhookSender(url=***)"

    def send(self, alert: Alert, idempotency_key: str) -> None:
        payload = dict(self._fmt(alert))
        try:
            response = self._session.post(
                self._url,
                json=payload,
                headers={IDEMPOTENCY_HEADER: idempotency_key},
                timeout=self._timeout_s,
            )
        except requests.RequestException as exc:
            raise AlertDeliveryError(f"alert webhook request failed: {type(exc).__name__}") from None
        status = response.status_code
        response.close()
        if not 200 <= status < 300:
            raise AlertDeliveryError(f"alert webhook answered HTTP {status}")


_LEVELS = {Severity.INFO: "INFO", Severity.WARNING: "WARNING", Severity.CRITICAL: "CRITICAL"}


class LogOnlySender:
    """Used when ``observability.alert_webhook_url`` is unset: the alert becomes a log event."""

    def send(self, alert: Alert, idempotency_key: str) -> None:
        logger.bind(
            event="alert",
            alert_kind=alert.kind.value,
            severity=alert.severity.value,
            dedup_key=idempotency_key,
            details=dict(alert.details),
        ).log(_LEVELS[alert.severity], "alert {}: {}", alert.kind.value, alert.summary)
