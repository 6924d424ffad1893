"""HTTP endpoint for ``/metrics`` (Prometheus scrape) and ``/healthz`` (liveness for a supervisor).

This is the ONE background thread in btcbot. The trading path stays single-threaded; the server
thread only reads: ``Metrics.render()`` (prometheus_client instruments are thread-safe) and
``Metrics.last_cycle_at`` (a single reference read). It never touches the database or the exchange,
so it cannot interfere with a cycle. The thread is a daemon: it never keeps the process alive.

``/healthz`` answers 200 with a JSON body when the last cycle finished less than
``healthz_max_age_s`` ago, else 503 (also 503 before the first cycle), so a stuck loop is visible to
an external checker even though the process is still running.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from btcbot.contracts.clock import Clock
from btcbot.observability.metrics import Metrics

_PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def health(metrics: Metrics, clock: Clock, max_age_s: float) -> tuple[int, dict[str, Any]]:
    """Pure health decision: (HTTP status, JSON body)."""
    last = metrics.last_cycle_at
    if last is None:
        return 503, {"status": "starting", "last_cycle_at": None, "max_age_s": max_age_s}
    age = (clock.now() - last).total_seconds()
    body = {"last_cycle_at": last.isoformat(), "age_s": round(age, 3), "max_age_s": max_age_s}
    if age <= max_age_s:
        return 200, {"status": "ok", **body}
    return 503, {"status": "stale", **body}


class MetricsServer:
    """Serves ``GET /metrics`` and ``GET /healthz`` on ``host:port`` from a daemon thread."""

    def __init__(
        self, metrics: Metrics, host: str, port: int, healthz_max_age_s: float, clock: Clock
    ) -> None:
        self._metrics = metrics
        self._host = host
        self._port = port
        self._max_age_s = healthz_max_age_s
        self._clock = clock
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Bind and start serving; returns the bound port (``port=0`` picks a free one)."""
        if self._server is not None:
            raise RuntimeError("metrics server already started")
        server = HTTPServer((self._host, self._port), self._handler_class())
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="btcbot-metrics", daemon=True
        )
        self._thread.start()
        return int(server.server_address[1])

    def stop(self) -> None:
        """Stop serving and release the socket; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        metrics, clock, max_age_s = self._metrics, self._clock, self._max_age_s

        class Handler(BaseHTTPRequestHandler):
            # A client that connects and sends nothing must not block the single server thread forever.
            timeout = 10

            def do_GET(self) -> None:  # http.server dispatches on this name
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._reply(200, _PROM_CONTENT_TYPE, metrics.render())
                elif path == "/healthz":
                    status, body = health(metrics, clock, max_age_s)
                    self._reply(status, "application/json", json.dumps(body).encode())
                else:
                    self._reply(404, "text/plain; charset=utf-8", b"not found\n")

            def _reply(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # Scrapes every 15 s would flood stderr; request logging is not useful here.
                return

        return Handler
