"""The simulator's HTTP server: stdlib ``ThreadingHTTPServer`` around ``SimApp``.

Not in the bot's trading path, so a thread per connection is fine. ``drop`` responses (ghost
orders, timeouts) close the socket without writing a byte, like a proxy dying mid-request
(``reset``: with a TCP RST). A request body shorter than its Content-Length is waited for at most
``SimConfig.body_timeout_s``, then answered 408 and the connection closed (never a hung thread).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from btcbot.sim.config import SimConfig
from btcbot.sim.faults import MAX_HANG_S
from btcbot.sim.http.app import SimApp
from btcbot.sim.http.request import Request, Response

MAX_BODY = 1_000_000


class _Handler(BaseHTTPRequestHandler):
    server: SimHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "btcbot-sim"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence stderr access logs (the app keeps its own request log)."""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, delayed ACK adds ~40 ms per call.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 400/408 (bad length, or too slow/short)."""
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._write(Response(400, {"success": False, "message": "INVALID_CONTENT_LENGTH", "code": 400}))
            return None
        if length == 0:
            return b""
        self.connection.settimeout(self.server.app.config.body_timeout_s)
        try:
            body = self.rfile.read(length)
        except (TimeoutError, OSError):
            body = b""
        finally:
            with contextlib.suppress(OSError):
                self.connection.settimeout(None)
        if len(body) < length:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._write(Response(408, {"success": False, "message": "REQUEST_TIMEOUT", "code": 408}))
            return None
        return body

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        query: dict[str, list[str]] = {}
        for key, values in parse_qs(parts.query, keep_blank_values=True).items():
            query.setdefault(key.lower(), []).extend(values)
        req = Request(
            method=self.command.upper(),
            path=parts.path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_ip=self.client_address[0],
        )
        try:
            resp = self.server.app.handle(req)
        except Exception as exc:  # a simulator bug must answer 500, not kill the connection silently
            resp = Response(
                500, {"success": False, "message": f"SIMULATOR_ERROR: {type(exc).__name__}", "code": 500}
            )
        if resp.drop:
            self._drop(resp.hang_s, resp.reset)
            return
        self._write(resp)
        if resp.declared_length is not None:  # the body was cut short: close as if the link died
            self._drop(0.0, False)

    def _drop(self, hang_s: float, reset: bool) -> None:
        if hang_s > 0:
            self.server.app.stop_event.wait(min(hang_s, MAX_HANG_S))
        self.close_connection = True
        with contextlib.suppress(OSError):
            if reset:  # linger 0: close() sends RST instead of FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.wfile.flush()
                self.connection.close()
                return
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, resp: Response) -> None:
        payload = resp.payload()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        length = len(payload) if resp.declared_length is None else resp.declared_length
        self.send_header("Content-Length", str(length))
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve


class SimHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the SimApp."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: SimApp, host: str, port: int) -> None:
        self.app = app
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class SimServer:
    """Start/stop a simulator in a background thread (``running_simulator`` wraps this)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.app = SimApp(config)
        self.httpd = SimHTTPServer(self.app, config.host, config.port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.httpd.url

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="btcbot-sim", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Foreground mode (CLI)."""
        self.httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.app.stop_event.set()  # wake handlers hanging in a timeout/latency fault
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
