"""The ``btcbot run`` loop: fixed cadence from a monotonic clock with jitter; SIGTERM/SIGINT
finish the current cycle and then stop.

Cadence: cycle k is due at ``start + k * interval + jitter_k``; a cycle that overruns skips the
missed slots instead of bunching up. The loop sleeps in short slices so a stop signal is noticed
within about a second, but a running cycle is never interrupted.

Database outages (``OutagePolicy``): a cycle that fails because the database is unreachable (a
dropped PostgreSQL connection, a server restart, a SQLite file locked past the busy timeout) does
not end the process. No cycle runs while the database is down - so nothing is sent that could not
be recorded first - and the database is probed with exponential backoff instead. The first
successful probe resumes the loop at once (a fresh cycle reconciles whatever the failed one left
behind); an outage longer than ``alert_after_s`` is alerted once; one longer than ``limit_s``
raises DatabaseUnavailable (``btcbot run`` exits 4).
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from btcbot.contracts.clock import Clock

SLEEP_SLICE_S = 0.5


class DatabaseUnavailable(Exception):
    """``btcbot run``: the database stayed unreachable for longer than ``database.outage_limit_s``.

    Operator: bring the database back (PostgreSQL up, disk space, the process holding a SQLite
    lock), then start the bot again; a supervisor restarts it by itself. Nothing was sent during
    the outage. Exit code 4.
    """


@dataclass
class OutagePolicy:
    """How ``run_loop`` rides out a database outage (see the module docstring)."""

    is_outage: Callable[[BaseException], bool]
    probe: Callable[[], None]
    """Raises while the database is unreachable; returns once a trivial query works."""
    alert_after_s: float
    limit_s: float
    on_alert: Callable[[float, BaseException], None] = lambda _s, _e: None
    on_recovered: Callable[[float], None] = lambda _s: None
    base_delay_s: float = 0.5
    max_delay_s: float = 15.0


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


def _sleep(clock: Clock, stop: StopFlag, seconds: float) -> None:
    end = clock.monotonic() + seconds
    while not stop.requested:
        remaining = end - clock.monotonic()
        if remaining <= 0:
            return
        clock.sleep(min(SLEEP_SLICE_S, remaining))


def _describe(error: BaseException) -> str:
    text = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {text}"[:300]


def ride_out_outage(error: BaseException, policy: OutagePolicy, clock: Clock, stop: StopFlag) -> None:
    """Probe with backoff until the database answers (return), a stop is requested (return), or
    the outage passed ``policy.limit_s`` (DatabaseUnavailable)."""
    from loguru import logger

    started = clock.monotonic()
    delay = policy.base_delay_s
    alerted = False
    last = error
    logger.bind(event="database.outage", outcome="retrying").warning(
        f"database unreachable, no cycle runs until it answers: {_describe(error)}"
    )
    while not stop.requested:
        elapsed = clock.monotonic() - started
        if elapsed >= policy.alert_after_s and not alerted:
            alerted = True
            logger.bind(event="database.outage", outcome="alert").error(
                f"database unreachable for {elapsed:.0f} s: {_describe(last)}"
            )
            policy.on_alert(elapsed, last)
        if elapsed >= policy.limit_s:
            raise DatabaseUnavailable(
                f"database unreachable for {elapsed:.0f} s (database.outage_limit_s={policy.limit_s:g}): "
                f"{_describe(last)}"
            )
        wait = min(delay, policy.limit_s - elapsed)
        if not alerted:
            wait = min(wait, policy.alert_after_s - elapsed)
        _sleep(clock, stop, max(0.0, wait))
        delay = min(delay * 2, policy.max_delay_s)
        if stop.requested:
            return
        try:
            policy.probe()
        except Exception as exc:
            if not policy.is_outage(exc):
                raise
            last = exc
            continue
        elapsed = clock.monotonic() - started
        logger.bind(event="database.outage", outcome="recovered").warning(
            f"database answers again after {elapsed:.1f} s; resuming"
        )
        policy.on_recovered(elapsed)
        return


def run_loop(
    run_cycle: Callable[[], object],
    clock: Clock,
    cadence: Cadence,
    stop: StopFlag,
    max_cycles: int | None = None,
    outage: OutagePolicy | None = None,
) -> int:
    """Run cycles until ``stop`` is requested or ``max_cycles`` ran. Returns the cycle count (a
    cycle cut short by a database outage counts)."""
    start = clock.monotonic()
    count = 0
    while not stop.requested:
        try:
            run_cycle()
        except Exception as exc:
            if outage is None or not outage.is_outage(exc):
                raise
            ride_out_outage(exc, outage, clock, stop)
            count += 1
            if max_cycles is not None and count >= max_cycles:
                break
            continue  # the database is back: the next cycle starts at once
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
