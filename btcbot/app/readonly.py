"""Read-only access to the bot's database for the operator commands that must work while
``btcbot run`` holds the lease (``status``, ``reconcile`` without ``--apply``).

:class:`ReadOnlyUnitOfWork` is a :class:`SqlUnitOfWork` that never takes the SQLite write lock
(a plain ``BEGIN``, not ``BEGIN IMMEDIATE``: WAL readers never wait for the running bot and never
make it wait) and refuses to commit, so nothing it touched can reach the database.
:class:`ReadOnlyPaperStore` gives the paper exchange its saved account without ever saving it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from btcbot.adapters.paper.state import META_KEY as PAPER_STATE_KEY
from btcbot.persistence.engine import with_begin_mode
from btcbot.persistence.unit_of_work import SqlUnitOfWork


class ReadOnlyCommit(RuntimeError):
    """A read-only command tried to write: a bug, never an operator error."""


class ReadOnlyUnitOfWork(SqlUnitOfWork):
    """Same repositories as :class:`SqlUnitOfWork`; a deferred transaction; ``commit`` refused."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, fencing_token=None)

    def _bind(self) -> Engine:
        return with_begin_mode(self._engine, "DEFERRED")

    def commit(self) -> None:
        raise ReadOnlyCommit("read-only unit of work: this command writes nothing")


class ReadOnlyPaperStore:
    """PaperStateStore over the ``paper.state`` meta row that never saves (the running bot owns it)."""

    def __init__(self, engine: Engine, key: str = PAPER_STATE_KEY) -> None:
        self._engine = engine
        self._key = key

    def load(self) -> str | None:
        with ReadOnlyUnitOfWork(self._engine) as uow:
            return uow.meta.get(self._key)

    def save(self, document: str) -> None:
        """Resting orders matched while reading stay in memory: the running bot books them."""


__all__ = ["PAPER_STATE_KEY", "ReadOnlyCommit", "ReadOnlyPaperStore", "ReadOnlyUnitOfWork"]
