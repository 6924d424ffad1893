"""Progress of long commands (download-data, backtest, optimize): a bar on a terminal, lines elsewhere.

On a TTY it is click's progress bar. When the stream is not a TTY (cron, supervisord, CI, a pipe),
a bar would print its label once and nothing more, so instead a plain line is written whenever
another ``step_pct`` percent is done or ``every_s`` seconds have passed since the last line, and
once at the end::

    progress backtest: 700/1416 strategy bars (49%), elapsed 6s, eta 6s

Lines go to stderr by default, so stdout keeps only results. The clock is injectable (tests).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

import click

DEFAULT_STEP_PCT = 10
DEFAULT_EVERY_S = 30.0


def _seconds(value: float) -> str:
    value = max(0.0, value)
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.0f}m"
    return f"{value / 3600:.1f}h"


class ProgressReporter:
    """``update(done, total)`` with absolute counts; use as a context manager."""

    def __init__(
        self,
        label: str,
        unit: str = "",
        total: int = 0,
        stream: TextIO | None = None,
        tty: bool | None = None,
        step_pct: int = DEFAULT_STEP_PCT,
        every_s: float = DEFAULT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.unit = unit
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self.step_pct = max(1, step_pct)
        self.every_s = every_s
        self.clock = clock
        self.done = 0
        self.lines = 0
        self._bar: Any = None
        self._started = clock()
        self._last_line_at = self._started
        self._last_step = -1
        self._finished = False

    def __enter__(self) -> ProgressReporter:
        if self.tty:
            self._bar = click.progressbar(length=max(1, self.total), label=self.label, file=self.stream,
                                          show_eta=True)
            self._bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, tb)
        elif kind is None and not self._finished and self.done:
            self._line()

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self.done = done
        if self._bar is not None:
            self._bar.length = max(1, self.total)
            self._bar.update(done - self._bar.pos)
            return
        step = (done * 100 // self.total) // self.step_pct if self.total > 0 else 0
        now = self.clock()
        finished = self.total > 0 and done >= self.total
        if finished or step > self._last_step or now - self._last_line_at >= self.every_s:
            self._last_step = step
            self._last_line_at = now
            self._finished = finished
            self._line()

    def message(self, text: str) -> None:
        """A line of its own (e.g. "BTCTRY done"), on the same stream."""
        if self._bar is not None:
            self._bar.render_finish()
        click.echo(f"progress {self.label}: {text}", file=self.stream)

    def _line(self) -> None:
        elapsed = self.clock() - self._started
        unit = f" {self.unit}" if self.unit else ""
        if self.total > 0:
            share = min(100, self.done * 100 // self.total)
            eta = elapsed * (self.total - self.done) / self.done if self.done else 0.0
            text = (f"progress {self.label}: {self.done}/{self.total}{unit} ({share}%), "
                    f"elapsed {_seconds(elapsed)}, eta {_seconds(eta)}")
        else:
            text = f"progress {self.label}: {self.done}{unit}, elapsed {_seconds(elapsed)}"
        click.echo(text, file=self.stream)
        self.stream.flush()
        self.lines += 1
