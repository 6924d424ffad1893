"""With ``observability.otel_exporter_endpoint`` set, the real CLI exports its cycle spans over
OTLP/HTTP: a loopback receiver stands in for the collector and decodes the protobuf requests.

``run`` is checked with the metrics server on too (it builds its own Telemetry around the server's
registry, and tracing must still follow the settings), ``once`` without it.
"""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from observability.http_receiver import serve_loopback
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from btcbot.observability import tracing as tr
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGES = {tr.LIVE_CYCLE, tr.DATA_FEED_UPDATE, tr.STRATEGY_DECIDE, tr.RISK_PRE_TRADE, tr.EXECUTION_SUBMIT,
          tr.RECONCILE_SYNC}


@dataclass
class Collector:
    url: str = ""
    paths: list[str] = field(default_factory=list)
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def spans(self) -> list[tuple[str, dict[str, Any]]]:
        out = []
        with self.lock:
            for req in self.requests:
                for rs in req.resource_spans:
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            attrs = {a.key: a.value.string_value or a.value.int_value for a in s.attributes}
                            out.append((s.name, attrs))
        return out

    def service_names(self) -> set[str]:
        with self.lock:
            return {a.value.string_value for req in self.requests for rs in req.resource_spans
                    for a in rs.resource.attributes if a.key == "service.name"}


@pytest.fixture
def collector() -> Iterator[Collector]:
    col = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server dispatches on this name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with col.lock:
                col.paths.append(self.path)
                col.requests.append(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serve_loopback(Handler) as base:
        col.url = base
        yield col


def bot_env(sim: SimHandle, db: Path, collector: Collector, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BTCBOT_", "OTEL_"))}
    env.update({
        "PYTHONPATH": str(REPO_ROOT),
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": "rebalance",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_DATABASE__URL": f"sqlite:///{db}",
        "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console",
        "BTCBOT_OBSERVABILITY__SERVICE_NAME": "btcbot-test",
        "BTCBOT_OBSERVABILITY__OTEL_EXPORTER_ENDPOINT": collector.url,
    })  # fmt: skip
    env.update(extra)
    upgrade(env["BTCBOT_DATABASE__URL"])
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "metrics_server"),
    [(["once"], False), (["run", "--max-cycles", "1"], False), (["run", "--max-cycles", "1"], True)],
    ids=["once", "run", "run-with-metrics-server"],
)
def test_cli_exports_the_cycle_trace_over_otlp(
    sim: SimHandle, collector: Collector, tmp_path: Path, args: list[str], metrics_server: bool
) -> None:
    extra = {"BTCBOT_OBSERVABILITY__METRICS_PORT": str(free_port())} if metrics_server else {}
    env = bot_env(sim, tmp_path / "bot.db", collector, **extra)
    done = subprocess.run([sys.executable, "-m", "btcbot.cli.main", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert collector.paths and set(collector.paths) == {"/v1/traces"}  # bare collector URL completed
    assert collector.service_names() == {"btcbot-test"}
    spans = collector.spans()
    names = [name for name, _ in spans]
    assert names.count(tr.LIVE_CYCLE) == 1
    assert set(names) >= STAGES
    endpoints = {attrs.get("endpoint") for name, attrs in spans if name == tr.EXCHANGE_CALL}
    assert {"tickers", "balances", "open_orders", "submit_order"} <= endpoints
    # Nothing secret travels with the spans.
    for _, attrs in spans:
        assert sim.api_key not in str(attrs) and sim.api_secret not in str(attrs)
