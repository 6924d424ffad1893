"""Start a simulator for tests and demos: ``with running_simulator(SimConfig(...)) as sim: ...``.

``sim.base_url`` and ``sim.graph_url`` point at the same loopback server; ``sim.admin`` drives it;
``sim.app`` / ``sim.engine`` / ``sim.clock`` allow in-process assertions. ``SimLinkedClock`` is a
Clock for the client under test that reads market time and, when the client sleeps, advances the
simulator instead of sleeping for real (manual mode), so Retry-After waits cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from btcbot.sim.admin_client import SimAdmin
from btcbot.sim.clock import SimClock
from btcbot.sim.config import DEFAULT_API_SECRET, SimConfig
from btcbot.sim.engine.exchange import SimExchange
from btcbot.sim.http.app import SimApp
from btcbot.sim.http.server import SimServer

__all__ = ["DEFAULT_API_SECRET", "SimAdmin", "SimConfig", "SimHandle", "SimLinkedClock", "running_simulator"]


@dataclass(frozen=True)
class SimHandle:
    """A running simulator."""

    base_url: str
    graph_url: str
    api_key: str
    api_secret: str
    admin: SimAdmin
    app: SimApp
    config: SimConfig

    @property
    def engine(self) -> SimExchange:
        return self.app.engine

    @property
    def clock(self) -> SimClock:
        return self.app.clock

    def state(self) -> dict[str, Any]:
        """Same as ``admin.state()`` but in-process (no HTTP)."""
        from btcbot.sim.http.admin import snapshot

        with self.app.lock:
            self.app.sync()
            return snapshot(self.app)


class SimLinkedClock:
    """Clock protocol for a client under test: market time; ``sleep`` advances the simulator."""

    def __init__(self, handle: SimHandle) -> None:
        self._handle = handle
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._handle.clock.now()

    def monotonic(self) -> float:
        return self._handle.clock.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.slept.append(seconds)
        with self._handle.app.lock:
            self._handle.clock.sleep(seconds)
            self._handle.app.sync()


@contextmanager
def running_simulator(config: SimConfig | None = None) -> Iterator[SimHandle]:
    """Run a simulator on 127.0.0.1 (ephemeral port unless ``config.port``) in a background thread."""
    cfg = config or SimConfig()
    server = SimServer(cfg)
    server.start()
    try:
        yield SimHandle(
            base_url=server.url,
            graph_url=server.url,
            api_key=cfg.api_key,
            api_secret=cfg.api_secret,
            admin=SimAdmin(server.url),
            app=server.app,
            config=cfg,
        )
    finally:
        server.stop()
