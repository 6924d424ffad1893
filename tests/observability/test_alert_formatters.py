"""Payload formatters: exact shapes, secret masking, redaction hook, length cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from btcbot.observability.alerts import Alert, AlertKind, Severity, make_formatter
from btcbot.observability.alerts.formatters import MAX_TEXT_CHARS

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECRET = "c2VjcmV0LXZhbHVlLWZvci10ZXN0"


def drift_alert(**extra: str) -> Alert:
    details = {"asset": "BTC", "ledger": "0.5", "exchange": "0.49", **extra}
    return Alert(
        AlertKind.BALANCE_DRIFT, Severity.CRITICAL, "ledger and exchange disagree", details, "d-1", T0
    )


def test_generic_shape() -> None:
    payload = make_formatter("generic", "btcbot")(drift_alert())
    assert payload == {
        "kind": "balance_drift",
        "severity": "critical",
        "summary": "ledger and exchange disagree",
        "details": {"asset": "BTC", "exchange": "0.49", "ledger": "0.5"},
        "at": "2026-06-01T09:00:00+00:00",
        "service": "btcbot",
    }


def test_slack_and_telegram_text() -> None:
    text = (
        "[CRITICAL] btcbot: balance_drift\nledger and exchange disagree\n"
        "asset: BTC\nexchange: 0.49\nledger: 0.5\nat: 2026-06-01T09:00:00+00:00"
    )
    assert make_formatter("slack", "btcbot")(drift_alert()) == {"text": text}
    assert make_formatter("telegram", "btcbot", chat_id="42")(drift_alert()) == {
        "chat_id": "42",
        "text": text,
    }


@pytest.mark.parametrize("fmt", ["generic", "slack", "telegram"])
def test_secret_like_keys_are_masked_and_redactor_applies(fmt: str) -> None:
    alert = drift_alert(api_secret=SECRET, Authorization=SECRET, note=f"seen {SECRET} in header")
    formatter = make_formatter(fmt, "btcbot", chat_id="1", redact=lambda s: s.replace(SECRET, "***"))  # type: ignore[arg-type]
    rendered = json.dumps(formatter(alert))
    assert SECRET not in rendered
    assert "***" in rendered


def test_secret_like_keys_are_masked_without_a_redactor() -> None:
    alert = drift_alert(api_key="AKEY-123456", token="tok-abcdef", x_signature="sig")
    rendered = json.dumps(make_formatter("generic", "btcbot")(alert))
    assert "AKEY-123456" not in rendered and "tok-abcdef" not in rendered and '"sig"' not in rendered


def test_long_text_is_capped() -> None:
    alert = drift_alert(blob="x" * 10_000)
    assert len(make_formatter("telegram", "b", chat_id="1")(alert)["text"]) == MAX_TEXT_CHARS


def test_telegram_needs_a_chat_id_and_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError):
        make_formatter("telegram", "btcbot")
    with pytest.raises(ValueError):
        make_formatter("email", "btcbot")  # type: ignore[arg-type]
