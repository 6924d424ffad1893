"""Shared plumbing of the cycle benchmarks (not a benchmark itself).

The simulator always runs in its OWN process (``python -m btcbot.sim``), so nothing it does is
counted as the bot's CPU or memory. ``SimProcess`` starts it on a free loopback port and waits
until it answers; ``bot_env`` gives the BTCBOT_* settings of a live bot trading against it.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from btcbot.sim.config import DEFAULT_API_SECRET

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).parent / "results"
API_KEY = "sim-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class SimProcess:
    """``python -m btcbot.sim`` in a child process (manual or wall clock, no rate limits)."""

    clock: str = "wall"
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SimProcess:
        cmd = [sys.executable, "-m", "btcbot.sim", "--port", str(self.port), "--clock", self.clock,
               "--start-time", self.start.isoformat(), "--no-rate-limits"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/__sim/faults", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("simulator did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def advance(self, seconds: float) -> None:
        requests.post(f"{self.url}/__sim/advance", json={"seconds": seconds}, timeout=5).raise_for_status()

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = requests.get(f"{self.url}/__sim/state", timeout=10).json()
        return data


def bot_env(sim_url: str, db_url: str, **extra: str) -> dict[str, str]:
    env = {
        "BTCBOT_EXCHANGE__BASE_URL": sim_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim_url,
        "BTCBOT_AUTH__API_KEY": API_KEY,
        "BTCBOT_AUTH__API_SECRET": DEFAULT_API_SECRET,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__CYCLE_JITTER_S": "0",
        "BTCBOT_DATABASE__URL": db_url,
        "BTCBOT_OBSERVABILITY__LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def child_env(settings: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def machine() -> dict[str, str]:
    """Where the figures come from; the load average says whether the machine was quiet (CPU
    times measured under load are inflated too, not only wall times)."""
    load1, load5, _ = os.getloadavg()
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count()),
            "load_average_1m_5m": f"{load1:.2f} {load5:.2f}"}


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
