"""Rolling walk-forward windows: fit on a train span, judge on the unseen span right after it.

::

    |---- train 0 ----|-- test 0 --|
         step  |---- train 1 ----|-- test 1 --|
                      |---- train 2 ----|-- test 2 --|

Window ``k`` trains on ``[start + k*step, start + k*step + train)`` and tests on the following
``test`` span; windows are made while the test span fits before ``end``. ``step`` defaults to
``test``, so the test spans tile the period without overlap and their returns compound into one
out-of-sample record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    train_start: datetime
    train_end: datetime
    test_start: datetime
    test_end: datetime


def walk_forward_windows(start: datetime, end: datetime, train: timedelta, test: timedelta,
                         step: timedelta | None = None) -> list[Window]:
    """The windows between ``start`` and ``end``; raises ValueError when not even one fits."""
    step = step or test
    if train <= timedelta(0) or test <= timedelta(0) or step <= timedelta(0):
        raise ValueError("train, test and step must be positive")
    out: list[Window] = []
    k = 0
    while True:
        train_start = start + step * k
        test_start = train_start + train
        test_end = test_start + test
        if test_end > end:
            break
        out.append(Window(k, train_start, test_start, test_start, test_end))
        k += 1
    if not out:
        raise ValueError(
            f"no walk-forward window fits: train {train} + test {test} is longer than {start:%Y-%m-%d} to {end:%Y-%m-%d}"
        )
    return out
