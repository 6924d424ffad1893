"""Python's cyclic garbage collector around a command (``btcbot once`` is a cron job: start-up is
most of its cost).

Every automatic collection walks the objects of its generations, and a full one walks them all:
the ~90,000 objects the modules of a ``once`` create (SQLAlchemy, pydantic's validators, the
settings, the wire schemas) make one full collection cost 50-90 ms on a small machine. A ``once``
used to trigger some 200 collections while importing and starting, and two full ones while the
interpreter shut down: about a quarter of its CPU time (benchmarks/cycle_once_walltime.py), for
garbage that is almost all long-lived (modules, classes, functions).

- ``paused()``: no automatic collection while a command starts (the CLI's ``main``); afterwards the
  collector is as it was before. Commands that keep running (``run``, ``backtest``, ``sim``, ...)
  call ``resume()`` as soon as they are chosen; ``once`` keeps it paused for its one cycle (its
  garbage is bounded: one cycle, then exit).
- ``freeze_for_exit()``: the process is about to exit (everything explicit - lease release,
  engine dispose, log flush - already ran): the heap is frozen, so the interpreter's shutdown
  collections have nothing to walk. Only unreachable reference cycles still alive at that point
  are affected: their finalizers do not run (the operating system reclaims the memory; Python
  never promised finalizers at exit).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused_here = False


@contextmanager
def paused() -> Iterator[None]:
    """Automatic collection off for the block (unless it is already off); back on after it,
    unless ``resume()`` was called inside."""
    global _paused_here
    if not gc.isenabled() or _paused_here:
        yield
        return
    gc.disable()
    _paused_here = True
    try:
        yield
    finally:
        resume()


def resume() -> None:
    """Automatic collection back on if ``paused()`` turned it off (a no-op otherwise)."""
    global _paused_here
    if _paused_here:
        _paused_here = False
        gc.enable()


def is_paused() -> bool:
    return _paused_here


def freeze_for_exit() -> None:
    """Call right before the process exits, and while still paused (turning the collector back on
    after a long pause collects everything allocated meanwhile at the next allocation): the heap
    moves to the permanent generation, which no collection walks, shutdown's included."""
    gc.freeze()
