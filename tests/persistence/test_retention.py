"""Retention prunes journal, cycles and old snapshots in batches; the books are never touched."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from btcbot.domain.ledger import genesis_postings, postings_for_fill
from btcbot.persistence.retention import prune
from btcbot.persistence.tables import CycleRow, FillRow, LedgerEntryRow, OrderEventRow, OrderRow
from btcbot.persistence.unit_of_work import SqlUnitOfWork

from .factories import T0, fill, order, snapshot


def _count(engine: Engine, table: type[object]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _seed(engine: Engine, days: int) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(genesis_postings("TRY", Decimal(10_000_000), "seed"), T0)
        for d in range(days):
            at = T0 + timedelta(days=d)
            cid = uow.cycles.next_cycle_id()
            uow.cycles.start(cid, at)
            uow.cycles.store_inputs(cid, '{"x":1}')
            uow.orders.add(order(f"c-{d}", created_at=at, updated_at=at))
            for k in range(3):
                uow.journal.append(f"c-{d}", cid, None, "PLANNED", f"e{k}", {"k": k}, at)
            uow.fills.add_if_new(fill(d + 1, at=at), cid)
            uow.ledger.post(postings_for_fill(fill(d + 1, at=at), "BTC", "TRY"), at, cid)
            uow.snapshots.save(snapshot(cid, at=at))
        uow.commit()


def test_prune_deletes_old_history_in_batches_and_keeps_the_books(engine: Engine) -> None:
    _seed(engine, 10)
    books_before = [_count(engine, t) for t in (OrderRow, FillRow, LedgerEntryRow)]
    counts = prune(engine, older_than=T0 + timedelta(days=6), batch_size=4, inputs_older_than=T0 + timedelta(days=8))
    assert counts == {"order_events": 18, "cycles": 6, "snapshots": 6, "cycle_inputs_nulled": 2}
    assert _count(engine, OrderEventRow) == 12
    assert _count(engine, CycleRow) == 4
    assert [_count(engine, t) for t in (OrderRow, FillRow, LedgerEntryRow)] == books_before
    with SqlUnitOfWork(engine) as uow:
        assert uow.cycles.get(7) is not None and uow.cycles.get(7).decision_inputs is None  # type: ignore[union-attr]
        assert uow.cycles.get(9) is not None and uow.cycles.get(9).decision_inputs == '{"x":1}'  # type: ignore[union-attr]
        assert uow.cycles.next_cycle_id() == 11  # ids never reused after pruning
        assert uow.ledger.check_invariants() == []


def test_prune_always_keeps_the_latest_snapshot(engine: Engine) -> None:
    _seed(engine, 2)
    counts = prune(engine, older_than=T0 + timedelta(days=365))
    assert counts["snapshots"] == 1
    with SqlUnitOfWork(engine) as uow:
        latest = uow.snapshots.latest()
        assert latest is not None and latest.cycle_id == 2
    assert prune(engine, older_than=T0 + timedelta(days=365)) == {
        "order_events": 0,
        "cycles": 0,
        "snapshots": 0,
        "cycle_inputs_nulled": 0,
    }


def test_prune_validates_arguments(engine: Engine) -> None:
    with pytest.raises(ValueError):
        prune(engine, T0.replace(tzinfo=None))
    with pytest.raises(ValueError):
        prune(engine, T0, batch_size=0)


def _meta(engine: Engine) -> str | None:
    from btcbot.persistence.retention import META_LAST_PRUNED

    with SqlUnitOfWork(engine) as uow:
        return uow.meta.get(META_LAST_PRUNED)


def test_prune_if_due_prunes_at_most_daily_and_remembers_when(engine: Engine) -> None:
    from btcbot.persistence.retention import prune_if_due

    _seed(engine, 10)  # cycles on T0 .. T0+9d
    now = T0 + timedelta(days=12)
    first = prune_if_due(engine, now, retention_days=5)
    assert first.counts is not None and first.counts["cycles"] == 7  # started before T0+7d
    assert first.next_due == now + timedelta(days=1)
    assert _meta(engine) == now.isoformat()
    # later the same day: not due, nothing deleted even though rows aged past the horizon
    again = prune_if_due(engine, now + timedelta(hours=23), retention_days=1)
    assert again.counts is None and again.next_due == now + timedelta(days=1)
    assert _count(engine, CycleRow) == 3
    # a day later: due again
    later = prune_if_due(engine, now + timedelta(days=1), retention_days=1)
    assert later.counts is not None and later.counts["cycles"] == 3
    assert _meta(engine) == (now + timedelta(days=1)).isoformat()


def test_prune_if_due_after_a_clock_jump_back_or_garbage_prunes(engine: Engine) -> None:
    from btcbot.persistence.retention import META_LAST_PRUNED, prune_if_due

    _seed(engine, 3)
    with SqlUnitOfWork(engine) as uow:
        uow.meta.set(META_LAST_PRUNED, "not a time")
        uow.commit()
    assert prune_if_due(engine, T0 + timedelta(days=40), retention_days=30).counts is not None
    # the stored time lies in the future (clock went back): prune rather than wait forever
    assert prune_if_due(engine, T0 + timedelta(days=20), retention_days=30).counts is not None
