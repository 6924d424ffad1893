"""The simulator's market clock: manual (moves only when told) or wall (real time x speed).

It implements the ``btcbot.contracts.clock.Clock`` protocol so a client under test can share it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

MANUAL = "manual"
WALL = "wall"


class SimClock:
    """Thread-safe market clock. In wall mode ``speed`` market seconds pass per real second."""

    def __init__(self, start: datetime, mode: str = MANUAL, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        if mode not in (MANUAL, WALL):
            raise ValueError(f"clock mode must be {MANUAL!r} or {WALL!r}, not {mode!r}")
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.mode = mode
        self.speed = speed
        self._lock = threading.Lock()
        self._start = start.astimezone(UTC)
        self._offset_s = 0.0  # market seconds added by advance()
        self._real_origin = time.monotonic()

    def _elapsed_s(self) -> float:
        real = (time.monotonic() - self._real_origin) * self.speed if self.mode == WALL else 0.0
        return real + self._offset_s

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed_s())

    def now_ms(self) -> int:
        """Market time as Unix milliseconds."""
        return int(self.now().timestamp() * 1000)

    def monotonic(self) -> float:
        with self._lock:
            return 1000.0 + self._elapsed_s()

    def advance(self, seconds: float) -> None:
        """Move market time forward (both modes; in wall mode it is a jump on top of real time)."""
        if seconds < 0:
            raise ValueError("time does not go back")
        with self._lock:
            self._offset_s += seconds

    def sleep(self, seconds: float) -> None:
        """Manual mode: advance. Wall mode: really sleep the equivalent real time."""
        if seconds <= 0:
            return
        if self.mode == MANUAL:
            self.advance(seconds)
        else:
            time.sleep(seconds / self.speed)
