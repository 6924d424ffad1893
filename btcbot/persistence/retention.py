"""Retention: prune old journal, cycle and snapshot rows in small batches.

Orders, fills and ledger entries are never pruned (they are the books). Deleting in batches of
``batch_size`` keeps each transaction (and the SQLite write lock) short, so a running bot is never
blocked for long. The latest snapshot is always kept.

``prune_if_due`` is what ``btcbot run`` and ``btcbot once`` call after a cycle: it prunes at most
once per ``PRUNE_INTERVAL`` (a day), remembering the last time in the ``meta`` row
``retention.last_pruned_at`` so that successive cron runs share the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute

from btcbot.persistence.engine import with_begin_mode
from btcbot.persistence.tables import CycleRow, MetaRow, OrderEventRow, SnapshotRow

META_LAST_PRUNED = "retention.last_pruned_at"
PRUNE_INTERVAL = timedelta(days=1)


def _delete_in_batches(engine: Engine, key: InstrumentedAttribute[int], where: ColumnElement[bool], batch_size: int) -> int:
    """Delete rows matching ``where`` in short write transactions of ``batch_size`` keys each."""
    table = key.class_.__table__
    writer = with_begin_mode(engine, "IMMEDIATE")
    total = 0
    while True:
        with writer.begin() as conn:
            ids = conn.execute(select(key).where(where).limit(batch_size)).scalars().all()
            if not ids:
                return total
            conn.execute(delete(table).where(key.in_(ids)))
        total += len(ids)


def prune(
    engine: Engine,
    older_than: datetime,
    batch_size: int = 500,
    inputs_older_than: datetime | None = None,
) -> dict[str, int]:
    """Delete journal events, cycles and snapshots older than ``older_than``.

    Replay inputs of cycles older than ``inputs_older_than`` (default ``older_than``) that are
    kept are set to NULL. Returns counts per table.
    """
    if older_than.tzinfo is None:
        raise ValueError("older_than must be timezone-aware")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    counts = {
        "order_events": _delete_in_batches(engine, OrderEventRow.id, OrderEventRow.at < older_than, batch_size),
        "cycles": _delete_in_batches(engine, CycleRow.cycle_id, CycleRow.started_at < older_than, batch_size),
    }
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(SnapshotRow.id))).scalar()
    keep = newest if newest is not None else 0
    counts["snapshots"] = _delete_in_batches(
        engine, SnapshotRow.id, (SnapshotRow.at < older_than) & (SnapshotRow.id != keep), batch_size
    )
    cutoff = inputs_older_than if inputs_older_than is not None else older_than
    nulled = 0
    writer = with_begin_mode(engine, "IMMEDIATE")
    while True:
        with writer.begin() as conn:
            ids = conn.execute(
                select(CycleRow.cycle_id)
                .where(CycleRow.started_at < cutoff, CycleRow.decision_inputs.is_not(None))
                .limit(batch_size)
            ).scalars().all()
            if not ids:
                break
            conn.execute(update(CycleRow).where(CycleRow.cycle_id.in_(ids)).values(decision_inputs=None))
        nulled += len(ids)
    counts["cycle_inputs_nulled"] = nulled
    return counts


@dataclass(frozen=True)
class PruneRun:
    """What ``prune_if_due`` did: ``counts`` is None when pruning was not due yet."""

    counts: dict[str, int] | None
    next_due: datetime


def _last_pruned(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(select(MetaRow.value).where(MetaRow.key == META_LAST_PRUNED)).scalar()
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # unreadable: prune now and write a good one
        return None


def _remember(engine: Engine, at: datetime) -> None:
    writer = with_begin_mode(engine, "IMMEDIATE")
    with writer.begin() as conn:
        updated = conn.execute(
            update(MetaRow).where(MetaRow.key == META_LAST_PRUNED).values(value=at.isoformat())
        ).rowcount
        if not updated:
            conn.execute(insert(MetaRow).values(key=META_LAST_PRUNED, value=at.isoformat()))


def prune_if_due(
    engine: Engine,
    now: datetime,
    retention_days: int,
    batch_size: int = 500,
    interval: timedelta = PRUNE_INTERVAL,
) -> PruneRun:
    """Prune rows older than ``retention_days`` when the last pruning is ``interval`` ago or more
    (or never happened); otherwise only one read of the ``meta`` row."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    last = _last_pruned(engine)
    if last is not None and last <= now < last + interval:
        return PruneRun(None, last + interval)
    counts = prune(engine, now - timedelta(days=retention_days), batch_size)
    _remember(engine, now)
    return PruneRun(counts, now + interval)
