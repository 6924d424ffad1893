"""Webhook payloads built from an alert's structured fields only.

Three shapes: ``generic`` JSON (``{"kind","severity","summary","details","at","service"}``),
``slack`` incoming webhook (``{"text"}``) and ``telegram`` Bot API sendMessage
(``{"chat_id","text"}``). Detail values under secret-looking keys (secret, token, password, api key,
signature, authorization ...) are masked, and every string passes through an optional ``redact``
callable (pass the logging ``Redactor`` holding the configured secrets).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from btcbot.observability.alerts.model import Alert

MASK = "***"
#: Telegram rejects texts over 4096 characters; stay well below.
MAX_TEXT_CHARS = 3500

PayloadFormatter = Callable[[Alert], Mapping[str, Any]]
FormatName = Literal["generic", "slack", "telegram"]

_SECRET_KEY_RE = re.compile(
    r"secret|token|passw|api[_-]?key|authorization|signature|credential|private|x-pck", re.IGNORECASE
)


def _identity(text: str) -> str:
    return text


def safe_details(alert: Alert, redact: Callable[[str], str] = _identity) -> dict[str, str]:
    """Details with secret-looking keys masked and every value passed through ``redact``."""
    return {k: MASK if _SECRET_KEY_RE.search(k) else redact(v) for k, v in sorted(alert.details.items())}


def alert_text(alert: Alert, service: str, redact: Callable[[str], str] = _identity) -> str:
    """Human-readable multi-line text (Slack, Telegram)."""
    lines = [f"[{alert.severity.value.upper()}] {service}: {alert.kind.value}", redact(alert.summary)]
    lines += [f"{k}: {v}" for k, v in safe_details(alert, redact).items()]
    lines.append(f"at: {alert.at.isoformat()}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def generic_payload(alert: Alert, service: str, redact: Callable[[str], str] = _identity) -> dict[str, Any]:
    return {
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "summary": redact(alert.summary),
        "details": safe_details(alert, redact),
        "at": alert.at.isoformat(),
        "service": service,
    }


def slack_payload(alert: Alert, service: str, redact: Callable[[str], str] = _identity) -> dict[str, Any]:
    return {"text": alert_text(alert, service, redact)}


def telegram_payload(
    alert: Alert, service: str, chat_id: str, redact: Callable[[str], str] = _identity
) -> dict[str, Any]:
    return {"chat_id": chat_id, "text": alert_text(alert, service, redact)}


def make_formatter(
    name: FormatName,
    service: str,
    *,
    chat_id: str | None = None,
    redact: Callable[[str], str] = _identity,
) -> PayloadFormatter:
    """The formatter for ``observability.alert_payload_format``; telegram needs ``chat_id``."""
    if name == "generic":
        return lambda a: generic_payload(a, service, redact)
    if name == "slack":
        return lambda a: slack_payload(a, service, redact)
    if name == "telegram":
        if not chat_id:
            raise ValueError("the telegram alert format needs observability.alert_telegram_chat_id")
        cid = chat_id
        return lambda a: telegram_payload(a, service, cid, redact)
    raise ValueError(f"unknown alert payload format {name!r}")
