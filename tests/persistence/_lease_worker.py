"""Child-process bodies for the lease race tests (run with the multiprocessing spawn context)."""

from __future__ import annotations

import os
import time
from datetime import datetime
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from btcbot.domain.errors import LeaseHeld
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import acquire


def race(url: str, rounds: int, now_iso: str, barrier: Barrier, results: Any) -> None:
    """Each round: wait for the other racer, then both try to take lease ``race-<round>``."""
    engine = create_engine_for(url, busy_timeout_ms=20000)
    now = datetime.fromisoformat(now_iso)
    try:
        for i in range(rounds):
            barrier.wait(timeout=60)
            try:
                token = acquire(engine, "racer", os.getpid(), 60, now, name=f"race-{i}")
                results.put((i, os.getpid(), token.token))
            except LeaseHeld as exc:
                results.put((i, os.getpid(), str(exc)))
    finally:
        engine.dispose()


def hold(url: str, now_iso: str, ttl_s: float, ready: Event) -> None:
    """Take the lease, signal, then hang until killed (a crashed holder)."""
    engine = create_engine_for(url)
    acquire(engine, "holder-host", os.getpid(), ttl_s, datetime.fromisoformat(now_iso))
    ready.set()
    while True:
        time.sleep(1)
