"""The ``btcbot run`` loop: fixed cadence from a monotonic clock with jitter; SIGTERM/SIGINT
finish the current cycle and then stop.

Cadence: cycle k is due at ``start + k * interval + jitter_k``; a cycle that overruns skips the
missed slots instead of bunching up. The loop sleeps in short slices so a stop signal is noticed
within about a second, but a running cycle is never interrupted.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from btcbot.contracts.clock import Clock

SLEEP_SLICE_S = 0.5


@dataclass
class StopFlag:
    """Set by a signal handler; checked between cycles only."""

    requested: bool = False
    signal_name: str | None = None

    def request(self, name: str) -> None:
        self.requested = True
        self.signal_name = name


@dataclass
class Cadence:
    interval_s: float
    jitter_s: float
    rng: random.Random = field(default_factory=random.Random)

    def next_due(self, start: float, now: float) -> float:
        """The first slot strictly after ``now`` (missed slots are skipped), plus jitter."""
        elapsed = max(0.0, now - start)
        slots = int(elapsed // self.interval_s) + 1
        jitter = self.rng.uniform(0.0, self.jitter_s) if self.jitter_s > 0 else 0.0
        return start + slots * self.interval_s + jitter


def install_signal_handlers(flag: StopFlag) -> Callable[[], None]:
    """Route SIGTERM/SIGINT to ``flag``; returns a function restoring the previous handlers."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        flag.request(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def run_loop(
    run_cycle: Callable[[], object],
    clock: Clock,
    cadence: Cadence,
    stop: StopFlag,
    max_cycles: int | None = None,
) -> int:
    """Run cycles until ``stop`` is requested or ``max_cycles`` ran. Returns the cycle count."""
    start = clock.monotonic()
    count = 0
    while not stop.requested:
        run_cycle()
        count += 1
        if max_cycles is not None and count >= max_cycles:
            break
        due = cadence.next_due(start, clock.monotonic())
        while not stop.requested:
            remaining = due - clock.monotonic()
            if remaining <= 0:
                break
            clock.sleep(min(SLEEP_SLICE_S, remaining))
    return count
