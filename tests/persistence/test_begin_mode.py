"""with_begin_mode: one option engine per engine and mode, reused by every unit of work; it keeps
the begin mode, shares the pool and sees listeners added to the engine after it was built."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from btcbot.persistence.engine import SQLITE_BEGIN_OPTION, create_engine_for, with_begin_mode
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork


def test_one_option_engine_per_mode_with_later_listeners(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    try:
        immediate = with_begin_mode(engine, "IMMEDIATE")
        assert with_begin_mode(engine, "IMMEDIATE") is immediate
        deferred = with_begin_mode(engine, "DEFERRED")
        assert deferred is not immediate
        assert immediate.get_execution_options()[SQLITE_BEGIN_OPTION] == "IMMEDIATE"
        assert deferred.get_execution_options()[SQLITE_BEGIN_OPTION] == "DEFERRED"
        assert immediate.pool is engine.pool
        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)  # after the option engine was built
        with SqlUnitOfWork(engine) as uow:
            uow.meta.set("k", "v")
            uow.commit()
        assert statements[0] == "BEGIN IMMEDIATE"
        with SqlUnitOfWork(engine) as uow:
            assert uow.meta.get("k") == "v"
    finally:
        engine.dispose()
