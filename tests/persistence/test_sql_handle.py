"""SqlUnitOfWork runs on one Connection and joins an ORM Session to its transaction only when a
repository needs the ORM (btcbot.persistence.sql_handle): Core and ORM writes commit and roll back
together, Core reads see pending ORM writes, a failed flush blocks the unit of work until it is
rolled back (as a plain Session would), and a unit of work that reads nothing begins nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from btcbot.domain.enums import OrderState
from btcbot.domain.ledger import genesis_postings
from btcbot.persistence.tables import MetaRow
from btcbot.persistence.unit_of_work import SqlUnitOfWork

from .factories import T0, later, order, snapshot


def test_core_and_orm_writes_commit_together(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order("s1-1-BTCTRY-B-a"))  # ORM
        assert [o.client_order_id for o in uow.orders.list_non_terminal()] == ["s1-1-BTCTRY-B-a"]  # Core read
        uow.meta.set("k", "v")  # Core
        uow.ledger.post(genesis_postings("TRY", Decimal(100), "test deposit"), at=T0)  # Core
        uow.journal.append("s1-1-BTCTRY-B-a", 1, None, "PLANNED", "test", None, T0)  # ORM
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.orders.get("s1-1-BTCTRY-B-a") is not None
        assert uow.meta.get("k") == "v"
        assert uow.ledger.wallet_balances() == {"TRY": Decimal(100)}
        assert [e["event"] for e in uow.journal.for_order("s1-1-BTCTRY-B-a")] == ["test"]


def test_core_and_orm_writes_roll_back_together(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order("s1-1-BTCTRY-B-a"))
        uow.meta.set("k", "v")
        uow.rollback()
        assert uow.orders.list_non_terminal() == [] and uow.meta.get("k") is None
        uow.orders.add(order("s1-1-BTCTRY-B-b"))  # the unit of work goes on after a rollback
        uow.snapshots.save(snapshot(7))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order("s1-1-BTCTRY-B-c"))
        uow.meta.set("k", "lost")
        # leaving the block without commit rolls both back
    with SqlUnitOfWork(engine) as uow:
        assert [o.client_order_id for o in uow.orders.list_non_terminal()] == ["s1-1-BTCTRY-B-b"]
        assert uow.meta.get("k") is None
        latest = uow.snapshots.latest()
        assert latest is not None and latest.cycle_id == 7


def test_orm_update_is_seen_by_the_core_lists_before_commit(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order("s1-1-BTCTRY-B-a"))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        stored = uow.orders.get("s1-1-BTCTRY-B-a")
        assert stored is not None
        uow.orders.update(stored.transition(OrderState.NOT_PLACED, later(1)))
        assert uow.orders.list_non_terminal() == []
        assert [o.state for o in uow.orders.list_recent(5)] == [OrderState.NOT_PLACED]


def test_a_failed_flush_blocks_the_unit_of_work_until_rollback(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.meta.set("dup", "1")
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.meta.set("other", "written before the failure")
        uow.orders.add(order("s1-1-BTCTRY-B-a"))
        uow._require_db().session.add(MetaRow(key="dup", value="2"))  # a primary-key clash at flush
        with pytest.raises(IntegrityError):
            uow.orders.list_non_terminal()  # flushes first
        with pytest.raises(PendingRollbackError):
            uow.meta.get("other")
        with pytest.raises(PendingRollbackError):
            uow.commit()
        uow.rollback()
        assert uow.meta.get("other") is None and uow.meta.get("dup") == "1"
        uow.meta.set("after", "ok")
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert (uow.meta.get("other"), uow.meta.get("after")) == (None, "ok")
        assert uow.orders.get("s1-1-BTCTRY-B-a") is None


def test_a_unit_of_work_that_runs_nothing_begins_no_transaction(engine: Engine) -> None:
    begins: list[object] = []

    def on_begin(conn: object) -> None:
        begins.append(conn)

    event.listen(engine, "begin", on_begin)
    try:
        with SqlUnitOfWork(engine):
            pass
        assert begins == []
        with SqlUnitOfWork(engine) as uow:
            uow.meta.get("x")
            uow.orders.list_non_terminal()
            uow.meta.set("x", "1")
            uow.orders.add(order("s1-1-BTCTRY-B-a"))
            uow.commit()
        assert len(begins) == 1  # Core and ORM statements in one transaction
    finally:
        event.remove(engine, "begin", on_begin)
