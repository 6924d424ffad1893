"""Injected time. Nothing in btcbot reads the wall clock except through a Clock."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC wall time."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes back (cadence, timeouts, rate windows)."""
        ...

    def sleep(self, seconds: float) -> None: ...
