"""MetricsServer over real loopback HTTP, with a ManualClock deciding health."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from btcbot.adapters.clock import ManualClock
from btcbot.observability.metrics import Metrics
from btcbot.observability.metrics_server import MetricsServer

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics.create()


@pytest.fixture
def base_url(metrics: Metrics, clock: ManualClock) -> Iterator[str]:
    server = MetricsServer(metrics, "127.0.0.1", 0, healthz_max_age_s=60.0, clock=clock)
    port = server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_metrics_endpoint_serves_exposition_text(base_url: str, metrics: Metrics) -> None:
    metrics.order_submitted()
    r = requests.get(f"{base_url}/metrics", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    fams = {f.name: f for f in text_string_to_metric_families(r.text)}
    assert fams["orders_submitted"].samples[0].value == 1


def test_healthz_is_503_before_any_cycle(base_url: str) -> None:
    r = requests.get(f"{base_url}/healthz", timeout=5)
    assert r.status_code == 503
    assert r.json()["status"] == "starting"


def test_healthz_follows_the_age_of_the_last_cycle(
    base_url: str, metrics: Metrics, clock: ManualClock
) -> None:
    metrics.cycle_finished(100.0, clock.now())
    clock.advance(30)
    r = requests.get(f"{base_url}/healthz", timeout=5)
    assert r.status_code == 200
    body = json.loads(r.text)
    assert body["status"] == "ok"
    assert body["age_s"] == 30.0
    clock.advance(31)
    r = requests.get(f"{base_url}/healthz", timeout=5)
    assert r.status_code == 503
    assert r.json()["status"] == "stale"


def test_unknown_path_is_404(base_url: str) -> None:
    assert requests.get(f"{base_url}/nope", timeout=5).status_code == 404


def test_stop_releases_the_port_and_is_idempotent(metrics: Metrics, clock: ManualClock) -> None:
    server = MetricsServer(metrics, "127.0.0.1", 0, 60.0, clock)
    port = server.start()
    server.stop()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    # The same port can be bound again once released.
    again = MetricsServer(metrics, "127.0.0.1", port, 60.0, clock)
    assert again.start() == port
    again.stop()


def test_start_twice_is_an_error(metrics: Metrics, clock: ManualClock) -> None:
    with MetricsServer(metrics, "127.0.0.1", 0, 60.0, clock) as server, pytest.raises(RuntimeError):
        server.start()
