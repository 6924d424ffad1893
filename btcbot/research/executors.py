"""The one executor seam: run picklable tasks, report progress, return results in task order.

* :class:`LocalPoolExecutor` (default): one ``concurrent.futures.ProcessPoolExecutor`` of
  ``workers`` processes (spawned, so no parent state leaks in) for the whole search. ``start``
  brings every worker up (each waits at a barrier until all exist), so tasks spread over all.
* :class:`DaskExecutor` (``dask://HOST:PORT``): the tasks go to an existing Dask distributed
  scheduler (optional extra ``dask``; imported only here, only then). Workers must be able to
  import btcbot and reach the data (a seed regenerates synthetic candles anywhere; a database
  URL must be reachable from them). ``warm`` runs on every worker via ``Client.run``.

Results never depend on which worker ran a task or in which order tasks finished.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
#: ``progress(done, total)`` after every finished task.
OnDone = Callable[[int, int], None]
BARRIER_TIMEOUT_S = 120.0
DASK_INSTALL_HINT = "install the dask extra: pip install 'btcbot[dask]'"


class Executor(Protocol):
    """``start`` once (``warm(*warm_args)`` runs once in every worker), ``map`` any number of
    times on the same workers, ``close`` at the end (also on error)."""

    name: str

    def start(self, warm: Callable[..., None] | None = None, warm_args: tuple[Any, ...] = ()) -> None: ...

    def map(self, fn: Callable[[T], R], tasks: Sequence[T], on_done: OnDone | None = None) -> list[R]: ...

    def close(self) -> None: ...


class ExecutorUnavailable(RuntimeError):
    """The requested executor cannot be used (a missing extra, an unreachable scheduler)."""


def _init_worker(barrier: Any, warm: Callable[..., None] | None, warm_args: tuple[Any, ...]) -> None:
    """Pool initializer: warm the worker, then hold it until every worker process exists."""
    if warm is not None:
        warm(*warm_args)
    barrier.wait(BARRIER_TIMEOUT_S)


def _pid() -> int:
    return os.getpid()


class LocalPoolExecutor:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.name = f"local process pool ({self.workers} workers)"
        self._pool: ProcessPoolExecutor | None = None

    def start(self, warm: Callable[..., None] | None = None, warm_args: tuple[Any, ...] = ()) -> None:
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(self.workers)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_init_worker,
                                         initargs=(barrier, warm, warm_args))
        # Workers start on demand: one call per worker starts them all (each blocks at the barrier
        # until the last one is up), so every later task can go to any of them.
        for future in [self._pool.submit(_pid) for _ in range(self.workers)]:
            future.result()

    def map(self, fn: Callable[[T], R], tasks: Sequence[T], on_done: OnDone | None = None) -> list[R]:
        if self._pool is None:
            raise RuntimeError("start() the executor first")
        results: list[Any] = [None] * len(tasks)
        pending: dict[Future[R], int] = {self._pool.submit(fn, task): i for i, task in enumerate(tasks)}
        done_count = 0
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                results[pending.pop(future)] = future.result()
                done_count += 1
                if on_done is not None:
                    on_done(done_count, len(tasks))
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    def __init__(self, address: str) -> None:
        self.address = address
        self.name = f"dask scheduler {address}"
        self._client: Any = None
        self._distributed: Any = None

    def start(self, warm: Callable[..., None] | None = None, warm_args: tuple[Any, ...] = ()) -> None:
        try:
            self._distributed = importlib.import_module("distributed")
        except ImportError as exc:
            raise ExecutorUnavailable(f"--executor dask:// needs dask.distributed: {DASK_INSTALL_HINT}") from exc
        try:
            self._client = self._distributed.Client(self.address, timeout=30, set_as_default=False)
        except OSError as exc:
            raise ExecutorUnavailable(f"cannot reach the Dask scheduler at {self.address}: {exc}") from exc
        if warm is not None:
            self._client.run(warm, *warm_args)  # once on every worker

    def map(self, fn: Callable[[T], R], tasks: Sequence[T], on_done: OnDone | None = None) -> list[R]:
        if self._client is None:
            raise RuntimeError("start() the executor first")
        if not tasks:
            return []
        futures = self._client.map(fn, list(tasks), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        finished: queue.Queue[Any] = queue.Queue()
        for future in futures:  # completion order only drives progress, never the results' order
            future.add_done_callback(finished.put)
        results: list[Any] = [None] * len(tasks)
        for done_count in range(1, len(tasks) + 1):
            future = finished.get()
            results[index[future.key]] = future.result()
            if on_done is not None:
                on_done(done_count, len(tasks))
        return results

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def executor_for(spec: str, workers: int | None) -> Executor:
    """``local`` (default) or ``dask://HOST:PORT``; raises ValueError for anything else."""
    text = (spec or "local").strip()
    if text == "local":
        return LocalPoolExecutor(workers)
    if text.startswith("dask://"):
        host = text[len("dask://"):]
        if not host or ":" not in host:
            raise ValueError(f"{spec!r}: expected dask://HOST:PORT")
        return DaskExecutor("tcp://" + host)
    raise ValueError(f"{spec!r}: use local or dask://HOST:PORT")
