"""Acceptance 3 of the observability issue: alerts through the real database outbox to a real
loopback webhook, across restarts in the middle of dispatch.

The hub is built by ``btcbot.app.wiring.build_alert_hub`` (as the app builds it) over a SQLite
FILE database; a "restart" is a brand-new engine + hub over the same file. The receiver is a stdlib
HTTP server on 127.0.0.1:0 that can answer an error or drop the connection per request, and the
hard-crash case is a child process that SIGKILLs itself after a POST was accepted but before
``mark_sent`` committed. "Delivered exactly once" means what a receiver that honours
``X-Idempotency-Key`` sees: every alert kind arrives under exactly one key, and a key is repeated
only for the one delivery the crash interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from btcbot.adapters.clock import ManualClock
from btcbot.app.alerting import AlertHub
from btcbot.app.wiring import build_alert_hub
from btcbot.config.settings import load_settings
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import TradingState
from btcbot.observability.alerts import catalog
from btcbot.observability.alerts.dispatcher import SUPPRESSED_DETAIL
from btcbot.observability.alerts.factory import make_sender
from btcbot.observability.alerts.model import Alert, AlertKind
from btcbot.observability.alerts.policy import AlertPolicy
from btcbot.observability.alerts.sender import IDEMPOTENCY_HEADER
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from observability.http_receiver import serve_loopback

REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN_INTERVAL_S = 300
DROP = -1  # receiver script entry: read the request, then close the socket without answering


# ------------------------------------------------------------------------------ loopback webhook


@dataclass(frozen=True)
class Post:
    key: str
    body: dict[str, Any]
    answered: int


@dataclass
class Webhook:
    """Answers each POST with the next status of ``script`` (then 200); records what it saw."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Post]:
        with self.lock:
            return [p for p in self.posts if p.answered == 200]

    def all_posts(self) -> list[Post]:
        with self.lock:
            return list(self.posts)


@contextmanager
def running_webhook() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server dispatches on this name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with hook.lock:
                status = hook.script.pop(0) if hook.script else 200
                hook.posts.append(Post(self.headers.get(IDEMPOTENCY_HEADER, ""), json.loads(body), status))
            if status == DROP:
                self.close_connection = True
                return  # no status line at all: the client sees the connection close
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serve_loopback(Handler) as base:
        hook.url = base + "/hook"
        yield hook


# ------------------------------------------------------------------------------ app-side helpers


@dataclass
class Process:
    """One "process lifetime": its own engine and hub over the shared database file."""

    engine: Engine
    hub: AlertHub
    clock: ManualClock

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.engine)

    def raise_all(self, alerts: list[Alert]) -> list[bool]:
        with self.uow() as uow:
            decided = [self.hub.raise_alert(uow, a) for a in alerts]
            uow.commit()
        return decided

    def pending_keys(self) -> list[str]:
        with self.uow() as uow:
            return [item.key for item in uow.outbox.pending("alert")]

    def close(self) -> None:
        self.engine.dispose()


def boot(db_url: str, webhook_url: str, clock: ManualClock, fmt: str = "generic") -> Process:
    env = {
        "BTCBOT_DATABASE__URL": db_url,
        "BTCBOT_OBSERVABILITY__ALERT_WEBHOOK_URL": webhook_url,
        "BTCBOT_OBSERVABILITY__ALERT_PAYLOAD_FORMAT": fmt,
        "BTCBOT_OBSERVABILITY__ALERT_TELEGRAM_CHAT_ID": "-1001",
        "BTCBOT_OBSERVABILITY__ALERT_MIN_INTERVAL_S": str(MIN_INTERVAL_S),
    }
    settings = load_settings(environ=env).settings
    engine = create_engine_for(db_url, 5000)
    hub = build_alert_hub(settings, lambda: SqlUnitOfWork(engine), clock)
    assert isinstance(hub, AlertHub)
    return Process(engine, hub, clock)


def one_of_each_kind(at: datetime) -> list[Alert]:
    return [
        catalog.stale_feed("BTCTRY", 185.0, at, at),
        catalog.repeated_retries("market_data", "tickers", 3, "7", at),
        catalog.breaker_open("orders", 5, at, at),
        catalog.risk_reject_spike(5, 5, {"RISK_INSUFFICIENT_CASH": 5}, "7", at),
        catalog.balance_drift("TRY", Decimal("1000.00"), Decimal("990.00"), at),
        catalog.trading_state_change(TradingState.ACTIVE, TradingState.REDUCING, "balance drift", at),
        catalog.lease_lost("pid 42", 9, at),
        catalog.invariant_violation("ledger_balanced", "sum of postings is 0.01", "7", at),
        catalog.risk_rearm(Decimal("100000"), Decimal("84000"), "flat book after review", at),
        catalog.cost_basis_unknown("BTCTRY", 77, Decimal("0.01"), Decimal("2000000"), at),
        catalog.database_outage(75.0, "OperationalError: server closed the connection", at, at),
    ]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    return url


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with running_webhook() as hook:
        yield hook


def kinds_by_key(posts: list[Post]) -> dict[str, str]:
    return {p.key: p.body["kind"] for p in posts}


def assert_each_kind_once(posts: list[Post]) -> None:
    by_key = kinds_by_key(posts)
    assert sorted(by_key.values()) == sorted(k.value for k in AlertKind), "one key per alert kind"
    assert all(key.startswith("alert:") for key in by_key)


# ------------------------------------------------------------------------------ tests


def test_every_kind_is_delivered_once_when_the_receiver_fails_mid_dispatch(db_url: str, webhook: Webhook) -> None:
    # The receiver takes the first POST, then answers 500, then drops a connection unanswered.
    webhook.script = [200, 500, DROP]
    first = boot(db_url, webhook.url, ManualClock(T0))
    assert first.raise_all(one_of_each_kind(T0)) == [True] * len(AlertKind)
    report = first.hub.flush()
    assert len(report.sent) == 1 and report.failed is not None
    assert len(first.pending_keys()) == len(AlertKind) - 1
    report = first.hub.flush()  # the dropped connection: still pending, nothing marked
    assert report.sent == () and report.failed is not None
    first.close()

    second = boot(db_url, webhook.url, ManualClock(T0))  # "restart"
    report = second.hub.flush()
    assert len(report.sent) == len(AlertKind) - 1 and report.failed is None
    assert second.pending_keys() == []
    assert second.hub.flush().sent == ()  # nothing left to send
    second.close()

    assert_each_kind_once(webhook.accepted())
    assert len(webhook.accepted()) == len(AlertKind), "no accepted alert was sent twice"
    # The refused and the dropped POSTs were retried under the SAME key as the accepted one.
    failed_keys = [p.key for p in webhook.all_posts() if p.answered != 200]
    assert len(failed_keys) == 2 and set(failed_keys) <= set(kinds_by_key(webhook.accepted()))


def _crash_child(db_url: str, webhook_url: str, crash_after: int) -> None:
    """Child-process body: flush with the real webhook sender wrapped so that the process is
    SIGKILLed right after the ``crash_after``-th POST was accepted, i.e. between the POST and its
    ``mark_sent`` commit. Same outbox, same policy as the app's hub."""
    real = make_sender(webhook_url, "generic", "btcbot")
    count = 0

    class KillAfterPost:
        def send(self, alert: Alert, idempotency_key: str) -> None:
            nonlocal count
            real.send(alert, idempotency_key)
            count += 1
            if count == crash_after:
                os.kill(os.getpid(), signal.SIGKILL)

    engine = create_engine_for(db_url, 5000)
    hub = AlertHub(lambda: SqlUnitOfWork(engine), ManualClock(T0), KillAfterPost(), AlertPolicy(MIN_INTERVAL_S))
    hub.flush()


def test_a_hard_crash_between_post_and_mark_sent_resends_only_that_alert_under_its_key(
    db_url: str, webhook: Webhook
) -> None:
    parent = boot(db_url, webhook.url, ManualClock(T0))
    parent.raise_all(one_of_each_kind(T0))
    parent.close()

    code = f"from observability.test_alerts_integration import _crash_child; _crash_child({db_url!r}, {webhook.url!r}, 3)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")])}
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                           check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    before_restart = [p.key for p in webhook.accepted()]
    assert len(before_restart) == 3

    restarted = boot(db_url, webhook.url, ManualClock(T0))
    assert len(restarted.pending_keys()) == len(AlertKind) - 2  # two were marked sent; the third was in flight
    report = restarted.hub.flush()
    assert report.failed is None and len(report.sent) == len(AlertKind) - 2
    assert restarted.pending_keys() == []
    restarted.close()

    keys = [p.key for p in webhook.accepted()]
    assert len(keys) == len(AlertKind) + 1
    repeated = [k for k in set(keys) if keys.count(k) > 1]
    assert repeated == [before_restart[2]], "only the interrupted delivery is repeated, with the same key"
    assert_each_kind_once(webhook.accepted())


def test_repeats_of_a_kind_are_rate_limited_across_restarts_then_report_what_was_suppressed(
    db_url: str, webhook: Webhook
) -> None:
    clock = ManualClock(T0)
    proc = boot(db_url, webhook.url, clock)
    assert proc.raise_all([catalog.stale_feed("BTCTRY", 130.0, T0, T0)]) == [True]
    clock.advance(60)
    # New incidents of the same kind inside the interval: suppressed, never enqueued.
    assert proc.raise_all([catalog.stale_feed("ETHTRY", 130.0, clock.now(), clock.now()),
                           catalog.stale_feed("SOLTRY", 130.0, clock.now(), clock.now())]) == [False, False]
    # Other kinds are limited separately; trading-state changes are never rate-limited.
    assert proc.raise_all([
        catalog.trading_state_change(TradingState.ACTIVE, TradingState.REDUCING, "drift", clock.now()),
        catalog.breaker_open("orders", 5, clock.now(), clock.now()),
    ]) == [True, True]
    clock.advance(1)
    assert proc.raise_all([
        catalog.trading_state_change(TradingState.REDUCING, TradingState.ACTIVE, "resumed", clock.now()),
        catalog.breaker_open("orders", 5, clock.now(), clock.now()),
    ]) == [True, False]
    proc.hub.flush()
    proc.close()

    clock.advance(100)  # 161 s after the first stale_feed: still inside the interval, after a restart
    proc = boot(db_url, webhook.url, clock)
    assert proc.raise_all([catalog.stale_feed("XRPTRY", 200.0, clock.now(), clock.now())]) == [False]
    clock.advance(MIN_INTERVAL_S)
    later = catalog.stale_feed("XRPTRY", 500.0, clock.now(), clock.now())
    assert proc.raise_all([later]) == [True]
    # The exact same incident again, even after the interval: a duplicate, never re-sent.
    clock.advance(MIN_INTERVAL_S)
    assert proc.raise_all([later]) == [False]
    proc.hub.flush()
    proc.close()

    posts = webhook.accepted()
    stale = [p.body for p in posts if p.body["kind"] == "stale_feed"]
    assert [b["details"]["symbol"] for b in stale] == ["BTCTRY", "XRPTRY"]
    assert SUPPRESSED_DETAIL not in stale[0]["details"]
    assert stale[1]["details"][SUPPRESSED_DETAIL] == "3"  # ETHTRY, SOLTRY, the first XRPTRY
    assert [p.body["kind"] for p in posts].count("trading_state_change") == 2
    assert [p.body["kind"] for p in posts].count("breaker_open") == 1
    assert len({p.key for p in posts}) == len(posts)


def test_an_alert_raised_in_a_rolled_back_transaction_is_neither_sent_nor_rate_limiting(
    db_url: str, webhook: Webhook
) -> None:
    proc = boot(db_url, webhook.url, ManualClock(T0))
    with proc.uow() as uow:
        assert proc.hub.raise_alert(uow, catalog.lease_lost("pid 1", 3, T0))
        # no commit: the change the alert reports did not happen
    assert proc.pending_keys() == []
    assert proc.hub.flush().sent == ()
    # The policy state rolled back with it, so the same kind is not rate-limited now.
    assert proc.raise_all([catalog.lease_lost("pid 1", 4, T0)]) == [True]
    proc.hub.flush()
    proc.close()
    assert [p.body["details"]["fence"] for p in webhook.accepted()] == ["4"]


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("generic", lambda b: b["kind"] == "balance_drift" and b["details"]["drift"] == "-10.00"
         and b["severity"] == "critical" and b["service"] == "btcbot"),
        ("slack", lambda b: set(b) == {"text"} and b["text"].startswith("[CRITICAL] btcbot: balance_drift")
         and "drift: -10.00" in b["text"]),
        ("telegram", lambda b: set(b) == {"chat_id", "text"} and b["chat_id"] == "-1001"
         and "balance_drift" in b["text"]),
    ],
)
def test_payload_formats_over_the_wire(
    db_url: str, webhook: Webhook, fmt: str, check: Callable[[dict[str, Any]], bool]
) -> None:
    proc = boot(db_url, webhook.url, ManualClock(T0), fmt=fmt)
    proc.raise_all([catalog.balance_drift("TRY", Decimal("1000.00"), Decimal("990.00"), T0)])
    assert proc.hub.flush().failed is None
    proc.close()
    (post,) = webhook.accepted()
    assert check(post.body), post.body
    assert post.key == "alert:balance_drift:TRY:-10.00"
