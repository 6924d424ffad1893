"""Alert delivery through the outbox to a REAL loopback HTTP receiver.

Covers: every kind delivered exactly once; a crash after the POST but before mark_sent (the
receiver sees the idempotency key twice and counts it once); pending alerts sent after a restart;
an unreachable or failing webhook leaves alerts pending; repeats within the interval suppressed.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest

from btcbot.observability.alerts import (
    IDEMPOTENCY_HEADER,
    Alert,
    AlertDeliveryError,
    AlertDispatcher,
    AlertKind,
    AlertPolicy,
    InMemoryAlertOutbox,
    LogOnlySender,
    PolicyState,
    Severity,
    Verdict,
    WebhookSender,
    make_formatter,
    make_sender,
)

from .http_receiver import Receiver

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class ProcessDied(BaseException):
    """Stands for SIGKILL: nothing after it in the process runs."""


class DieAfterPost:
    """Sender that really POSTs, then the process 'dies' before the dispatcher can mark_sent."""

    def __init__(self, inner: WebhookSender) -> None:
        self.inner = inner

    def send(self, alert: Alert, idempotency_key: str) -> None:
        self.inner.send(alert, idempotency_key)
        raise ProcessDied


def make_alert(kind: AlertKind, key: str | None = None, at: datetime = T0) -> Alert:
    return Alert(kind, Severity.WARNING, f"{kind.value} happened", {"cycle_id": "c-1"}, key or kind.value, at)


def generic_sender(url: str) -> WebhookSender:
    return WebhookSender(url + "/hook", make_formatter("generic", "btcbot-test"), timeout_s=5)


def keys(receiver: Receiver) -> list[str]:
    return [r.headers[IDEMPOTENCY_HEADER.lower()] for r in receiver.received()]


def test_each_kind_is_delivered_exactly_once(receiver: Receiver) -> None:
    outbox = InMemoryAlertOutbox()
    d = AlertDispatcher(outbox, generic_sender(receiver.url), AlertPolicy(300))
    for kind in AlertKind:
        assert d.submit(make_alert(kind), T0).send
    assert receiver.received() == []  # nothing is sent before dispatch (i.e. before commit)
    report = d.dispatch_pending()
    assert report.failed is None and len(report.sent) == len(AlertKind)
    assert d.dispatch_pending().sent == ()  # nothing left: no second delivery
    bodies = [json.loads(r.body) for r in receiver.received()]
    assert sorted(b["kind"] for b in bodies) == sorted(k.value for k in AlertKind)
    assert all(r.path == "/hook" for r in receiver.received())
    assert set(bodies[0]) == {"kind", "severity", "summary", "details", "at", "service"}
    assert bodies[0]["service"] == "btcbot-test" and bodies[0]["details"] == {"cycle_id": "c-1"}
    assert len(set(keys(receiver))) == len(AlertKind)


def test_crash_after_post_before_mark_sent_redelivers_with_same_key(receiver: Receiver) -> None:
    outbox = InMemoryAlertOutbox()  # survives the "process": it is the database
    real = generic_sender(receiver.url)
    first = AlertDispatcher(outbox, DieAfterPost(real), AlertPolicy(300))
    first.submit(make_alert(AlertKind.BREAKER_OPEN, "b-1"), T0)
    first.submit(make_alert(AlertKind.STALE_FEED, "s-1"), T0)
    saved_state = first.state.to_json()
    with pytest.raises(ProcessDied):
        first.dispatch_pending()
    assert len(receiver.received()) == 1
    assert [i for i, _ in outbox.pending_alerts()] == ["alert:b-1", "alert:s-1"]

    restarted = AlertDispatcher(outbox, real, AlertPolicy(300), PolicyState.from_json(saved_state))
    report = restarted.dispatch_pending()
    assert report.sent == ("alert:b-1", "alert:s-1")
    assert keys(receiver) == ["alert:b-1", "alert:b-1", "alert:s-1"]
    assert len(set(keys(receiver))) == 2  # a receiver deduplicating by key sees each alert once
    assert outbox.pending_alerts() == []
    # The restored policy still knows the incident: raising it again enqueues nothing.
    assert restarted.submit(make_alert(AlertKind.BREAKER_OPEN, "b-1"), T0).verdict is Verdict.DUPLICATE


def test_failing_webhook_keeps_alerts_pending_and_stops_at_first_failure(receiver: Receiver) -> None:
    outbox = InMemoryAlertOutbox()
    d = AlertDispatcher(outbox, generic_sender(receiver.url), AlertPolicy(0))
    d.submit(make_alert(AlertKind.LEASE_LOST), T0)
    d.submit(make_alert(AlertKind.BALANCE_DRIFT), T0)
    receiver.status = 500
    report = d.dispatch_pending()
    assert report.sent == () and report.failed == "alert:lease_lost"
    assert report.error == "alert webhook answered HTTP 500"
    assert len(receiver.received()) == 1  # stopped: the second alert was not tried
    assert len(outbox.pending_alerts()) == 2
    receiver.status = 204
    assert d.dispatch_pending().sent == ("alert:lease_lost", "alert:balance_drift")
    assert outbox.pending_alerts() == []


def test_unreachable_webhook_error_does_not_leak_the_url() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret_url = f"http://127.0.0.1:{port}/bot123456:SECRET-TOKEN/sendMessage"
    sender = WebhookSender(secret_url, make_formatter("generic", "btcbot"), timeout_s=2)
    with pytest.raises(AlertDeliveryError) as info:
        sender.send(make_alert(AlertKind.STALE_FEED), "k")
    assert "SECRET-TOKEN" not in str(info.value)
    assert info.value.__suppress_context__ and info.value.__cause__ is None
    assert "SECRET-TOKEN" not in repr(sender)


def test_repeats_within_interval_are_suppressed_and_counted_in_the_next_alert(receiver: Receiver) -> None:
    outbox = InMemoryAlertOutbox()
    d = AlertDispatcher(outbox, generic_sender(receiver.url), AlertPolicy(300))
    for i in range(4):  # four stale-feed incidents within a minute
        d.submit(
            make_alert(AlertKind.STALE_FEED, f"stale-{i}", T0 + timedelta(seconds=15 * i)),
            T0 + timedelta(seconds=15 * i),
        )
    d.dispatch_pending()
    later = T0 + timedelta(seconds=301)
    assert d.submit(make_alert(AlertKind.STALE_FEED, "stale-9", later), later).send
    d.dispatch_pending()
    bodies = [json.loads(r.body) for r in receiver.received()]
    assert [b["details"].get("suppressed_since_last") for b in bodies] == [None, "3"]


def test_outbox_dedup_wins_even_without_policy_state(receiver: Receiver) -> None:
    outbox = InMemoryAlertOutbox()
    AlertDispatcher(outbox, generic_sender(receiver.url), AlertPolicy(0)).submit(
        make_alert(AlertKind.LEASE_LOST, "x"), T0
    )
    fresh = AlertDispatcher(outbox, generic_sender(receiver.url), AlertPolicy(0))  # state lost
    assert fresh.submit(make_alert(AlertKind.LEASE_LOST, "x"), T0).verdict is Verdict.DUPLICATE
    fresh.dispatch_pending()
    assert keys(receiver) == ["alert:x"]


@pytest.mark.parametrize("fmt", ["slack", "telegram"])
def test_chat_formats_over_http(receiver: Receiver, fmt: str) -> None:
    formatter = make_formatter(fmt, "btcbot", chat_id="-100123")  # type: ignore[arg-type]
    d = AlertDispatcher(InMemoryAlertOutbox(), WebhookSender(receiver.url, formatter), AlertPolicy(0))
    d.submit(make_alert(AlertKind.INVARIANT_VIOLATION), T0)
    assert d.dispatch_pending().failed is None
    (req,) = receiver.received()
    body = json.loads(req.body)
    assert req.headers["content-type"] == "application/json"
    assert body["text"].startswith("[WARNING] btcbot: invariant_violation\ninvariant_violation happened")
    assert set(body) == ({"text"} if fmt == "slack" else {"chat_id", "text"})


def test_log_only_sender_marks_alerts_sent() -> None:
    outbox = InMemoryAlertOutbox()
    d = AlertDispatcher(outbox, LogOnlySender(), AlertPolicy(0))
    d.submit(make_alert(AlertKind.REPEATED_RETRIES), T0)
    assert d.dispatch_pending().sent == ("alert:repeated_retries",)
    assert outbox.sent_ids() == ["alert:repeated_retries"]


def test_webhook_url_must_be_http() -> None:
    with pytest.raises(ValueError):
        WebhookSender("file:///etc/passwd", make_formatter("generic", "b"))


def test_make_sender_picks_log_only_without_url_and_webhook_with_one(receiver: Receiver) -> None:
    assert isinstance(make_sender(None, "generic", "btcbot"), LogOnlySender)
    sender = make_sender(
        receiver.url, "telegram", "btcbot", telegram_chat_id="7", redact=lambda s: s.replace("hunter2", "***")
    )
    alert = Alert(AlertKind.LEASE_LOST, Severity.CRITICAL, "lost hunter2", {}, "l-1", T0)
    sender.send(alert, "alert:l-1")
    (req,) = receiver.received()
    assert json.loads(req.body) == {"chat_id": "7", "text": alert_text_expected()}
    with pytest.raises(ValueError):
        make_sender(receiver.url, "telegram", "btcbot")


def alert_text_expected() -> str:
    return "[CRITICAL] btcbot: lease_lost\nlost ***\nat: 2026-06-01T09:00:00+00:00"
