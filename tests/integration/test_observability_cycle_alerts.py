"""Alerts raised by the REAL trading cycle reach a loopback webhook.

The app is built as the CLI builds it (``start`` -> ``build_app`` -> ``build_alert_hub``) with
``observability.alert_webhook_url`` pointing at a stdlib HTTP receiver on 127.0.0.1, trading live
against the in-process simulator (manual market clock, ``SimLinkedClock``). Exchange trouble is
produced with the simulator's own fault injection, drift by changing its balances, lease loss by
another owner taking the expired lease. Each cycle goes through ``_guarded_cycle`` (the error
policy the CLI uses), and every assertion is on what the receiver got over HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from observability.http_receiver import serve_loopback

from btcbot.app.operations import _guarded_cycle, start
from btcbot.app.wiring import App
from btcbot.config.settings import load_settings
from btcbot.domain.errors import InvariantViolation, LeaseLost
from btcbot.observability.alerts.sender import IDEMPOTENCY_HEADER
from btcbot.persistence.lease import acquire
from btcbot.persistence.migrations import upgrade
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle, SimLinkedClock

TICKER_ROUTE = "GET /api/v2/ticker"
BALANCE_ROUTE = "GET /api/v1/users/balances"


@dataclass
class Hook:
    url: str = ""
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def kinds(self) -> list[str]:
        with self.lock:
            return [body["kind"] for _, body in self.posts]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body in self.posts if body["kind"] == kind]

    def keys(self) -> list[str]:
        with self.lock:
            return [key for key, _ in self.posts]


@pytest.fixture
def hook() -> Iterator[Hook]:
    rec = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server dispatches on this name
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with rec.lock:
                rec.posts.append((self.headers.get(IDEMPOTENCY_HEADER, ""), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serve_loopback(Handler) as base:
        rec.url = base + "/alerts"
        yield rec


@pytest.fixture
def sim_config() -> SimConfig:
    """The shared ``sim`` fixture with a manual market clock (``SimLinkedClock`` drives it)."""
    return SimConfig()


def boot(sim: SimHandle, hook: Hook, tmp_path: Path, **extra: str) -> App:
    env = {
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": "rebalance",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "BTCBOT_RESILIENCE__RETRY_BASE_DELAY_S": "0.01",
        "BTCBOT_OBSERVABILITY__ALERT_WEBHOOK_URL": hook.url,
        "BTCBOT_OBSERVABILITY__ALERT_MIN_INTERVAL_S": "0",
        **extra,
    }
    settings = load_settings(environ=env).settings
    upgrade(settings.database.url)
    app = start(settings, clock=SimLinkedClock(sim), candle_store=MemoryCandleStore())
    app.cycle()  # venue rules once, outside the measured cycles
    return app


def test_retries_stale_feed_and_an_open_breaker_are_alerted_by_the_cycle(
    sim: SimHandle, hook: Hook, tmp_path: Path
) -> None:
    app = boot(sim, hook, tmp_path)
    try:
        # Cycle 1: two failed ticker attempts and one failed balances attempt: 3 retries.
        sim.admin.set_fault(TICKER_ROUTE, kind="error", status=502, count=2)
        sim.admin.set_fault(BALANCE_ROUTE, kind="error", status=502, count=1)
        first = _guarded_cycle(app)
        assert first.result is not None
        assert hook.kinds().count("repeated_retries") == 1
        (retries,) = hook.of_kind("repeated_retries")
        assert retries["details"]["attempts"] == "3"
        assert retries["details"]["cycle_id"] == str(first.result.cycle_id)

        # Cycle 2: tickers 10 minutes behind market time: every symbol is stale.
        sim.admin.advance(60)
        sim.admin.set_fault(TICKER_ROUTE, kind="stale_ticker", seconds=600)
        second = _guarded_cycle(app)
        assert second.safe_mode
        stale = hook.of_kind("stale_feed")
        assert sorted(b["details"]["symbol"] for b in stale) == ["AVAXTRY", "BTCTRY", "ETHTRY", "SOLTRY", "XRPTRY"]
        # The same stale data seen again (market time has not moved) is the same incident.
        _guarded_cycle(app)
        assert len(hook.of_kind("stale_feed")) == 5
        sim.admin.clear_faults()

        # Cycle 4: the exchange is under maintenance: the market-data breaker opens at once.
        sim.admin.advance(60)
        sim.admin.set_fault(TICKER_ROUTE, kind="maintenance", count=1)
        fourth = _guarded_cycle(app)
        assert fourth.safe_mode
        (breaker,) = hook.of_kind("breaker_open")
        assert breaker["details"]["endpoint_group"] == "market_data"
        assert breaker["severity"] == "warning"
    finally:
        app.close()
    assert len(set(hook.keys())) == len(hook.keys()), "no alert was delivered twice"


def test_reject_spike_when_risk_denies_five_intents(sim: SimHandle, hook: Hook, tmp_path: Path) -> None:
    app = boot(sim, hook, tmp_path, BTCBOT_RISK__MAX_GROSS_EXPOSURE="1")
    try:
        outcome = _guarded_cycle(app)
    finally:
        app.close()
    assert outcome.result is not None and len(outcome.result.denied) >= 5
    (spike,) = hook.of_kind("risk_reject_spike")
    assert spike["details"]["rejects"] == str(len(outcome.result.denied))
    assert spike["details"]["cycle_id"] == str(outcome.result.cycle_id)


def test_balance_drift_then_state_change_to_reducing(sim: SimHandle, hook: Hook, tmp_path: Path) -> None:
    # Risk denies every entry, so the bot's own trades never move the balances under test.
    app = boot(sim, hook, tmp_path, BTCBOT_RISK__MAX_GROSS_EXPOSURE="1")
    try:
        sim.admin.set_balance("TRY", Decimal("90000"))  # 10 000 TRY vanished behind the bot's back
        _guarded_cycle(app)
        (drift,) = hook.of_kind("balance_drift")
        details = drift["details"]
        assert details["asset"] == "TRY"
        assert (Decimal(details["ledger"]), Decimal(details["exchange"])) == (Decimal(100000), Decimal(90000))
        assert Decimal(details["drift"]) == Decimal(-10000)
        assert drift["severity"] == "critical"
        assert hook.of_kind("trading_state_change") == []
        # Second drifting cycle: the bot stops taking risk and says so.
        sim.admin.advance(60)
        outcome = _guarded_cycle(app)
        assert outcome.result is not None and outcome.result.trading_state.value == "REDUCING"
        (change,) = hook.of_kind("trading_state_change")
        assert (change["details"]["from"], change["details"]["to"]) == ("ACTIVE", "REDUCING")
        assert len(hook.of_kind("balance_drift")) == 1, "the same drift is one incident"
    finally:
        app.close()


def test_lease_lost_is_alerted_before_the_process_stops(sim: SimHandle, hook: Hook, tmp_path: Path) -> None:
    app = boot(sim, hook, tmp_path)
    try:
        assert app.lease.token is not None
        ttl = app.settings.database.lease_ttl_s
        sim.admin.advance(ttl + 1)  # our lease expired (we were "stuck")...
        thief = acquire(app.engine, "other-host", 4242, ttl, app.clock.now())  # ...and someone took it
        with pytest.raises(LeaseLost):
            _guarded_cycle(app)
    finally:
        app.close()
    (lost,) = hook.of_kind("lease_lost")
    assert lost["severity"] == "critical"
    assert lost["details"]["fence"] == str(thief.token - 1)


class BrokenStrategy:
    """Stands in for a bug deep in the cycle: deciding trips an invariant check."""

    strategy_id = "s1"

    def required_history(self) -> int:
        return 0

    def decide(self, *_: object) -> list[object]:
        raise InvariantViolation("ledger_balanced: postings of cycle 1 sum to 0.01 TRY")


def test_invariant_violation_halts_and_alerts_both_the_violation_and_the_halt(
    sim: SimHandle, hook: Hook, tmp_path: Path
) -> None:
    app = boot(sim, hook, tmp_path)
    try:
        app.cycle().d.strategy = BrokenStrategy()  # type: ignore[assignment]
        with pytest.raises(InvariantViolation):
            _guarded_cycle(app)
    finally:
        app.close()
    (violation,) = hook.of_kind("invariant_violation")
    assert violation["severity"] == "critical"
    assert violation["details"]["invariant"] == "InvariantViolation"
    assert "0.01 TRY" in violation["details"]["message"]
    (halt,) = hook.of_kind("trading_state_change")
    assert (halt["details"]["from"], halt["details"]["to"], halt["severity"]) == ("ACTIVE", "HALTED", "critical")
