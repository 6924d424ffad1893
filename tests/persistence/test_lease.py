"""Instance lease: exclusion, expiry take-over, increasing fencing tokens, refused stale commits.

The race tests use real processes against the same database (SQLite file / PostgreSQL schema).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from btcbot.domain.errors import LeaseHeld, LeaseLost
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import acquire, current_holder, release, renew
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork

from . import _lease_worker
from .factories import T0, later, order


def test_acquire_excludes_others_until_expiry_and_tokens_increase(engine: Engine) -> None:
    a = acquire(engine, "host-a", 100, 30, T0)
    assert a.token == 1 and a.expires_at == later(30)
    with pytest.raises(LeaseHeld) as info:
        acquire(engine, "host-b", 200, 30, later(29))
    assert "host-a" in str(info.value) and "100" in str(info.value) and later(30).isoformat() in str(info.value)
    b = acquire(engine, "host-b", 200, 30, later(30))
    assert b.token == 2
    again = acquire(engine, "host-b", 200, 30, later(31))  # re-acquisition by the holder
    assert again.token == 3
    holder = current_holder(engine)
    assert holder is not None and (holder.owner_host, holder.owner_pid, holder.token) == ("host-b", 200, 3)


def test_renew_and_release(engine: Engine) -> None:
    a = acquire(engine, "h", 1, 30, T0)
    a2 = renew(engine, a, 30, later(20))
    assert a2.expires_at == later(50) and a2.token == a.token
    with pytest.raises(LeaseHeld):
        acquire(engine, "other", 2, 30, later(40))
    assert release(engine, a2, later(41)) is True
    b = acquire(engine, "other", 2, 30, later(41))
    assert b.token == a.token + 1
    with pytest.raises(LeaseLost):
        renew(engine, a2, 30, later(42))
    assert release(engine, a2, later(42)) is False
    with pytest.raises(LeaseHeld):  # b still holds it
        acquire(engine, "third", 3, 30, later(43))


def test_fencing_token_refuses_a_stale_holders_commit(engine: Engine) -> None:
    stale = acquire(engine, "old", 1, 10, T0)
    with SqlUnitOfWork(engine, fencing_token=stale.token) as uow:
        uow.orders.add(order("c-ok"))
        uow.commit()  # still ours: accepted
    new = acquire(engine, "new", 2, 10, later(11))  # old holder stalled past expiry
    with pytest.raises(LeaseLost), SqlUnitOfWork(engine, fencing_token=stale.token) as uow:
        uow.orders.add(order("c-stale"))
        uow.commit()
    with SqlUnitOfWork(engine, fencing_token=new.token) as uow:
        assert uow.orders.get("c-stale") is None
        assert uow.orders.get("c-ok") is not None
        uow.orders.add(order("c-new"))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.orders.get("c-new") is not None


def test_fenced_commit_without_any_lease_is_refused(engine: Engine) -> None:
    with pytest.raises(LeaseLost), SqlUnitOfWork(engine, fencing_token=1) as uow:
        uow.meta.set("k", "v")
        uow.commit()


def test_naive_now_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError):
        acquire(engine, "h", 1, 30, T0.replace(tzinfo=None))


ROUNDS = 50


def test_two_processes_race_for_the_lease(db_url: str) -> None:
    """Even rounds race for a fresh lease, odd rounds to take over an expired holder's lease."""
    upgrade(db_url)
    engine = create_engine_for(db_url)
    try:
        for rnd in range(1, ROUNDS, 2):
            acquire(engine, "dead", 1, 60, T0 - timedelta(seconds=120), name=f"race-{rnd}")
    finally:
        engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_lease_worker.race, args=(db_url, ROUNDS, T0.isoformat(), barrier, results))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    results.close()
    results.join_thread()
    by_round: dict[int, list[object]] = {}
    for rnd, _pid, outcome in outcomes:
        by_round.setdefault(rnd, []).append(outcome)
    assert sorted(by_round) == list(range(ROUNDS))
    for rnd, pair in by_round.items():
        winners = [o for o in pair if isinstance(o, int)]
        losers = [o for o in pair if isinstance(o, str)]
        assert winners == [1 if rnd % 2 == 0 else 2], f"round {rnd}: {pair}"
        assert len(losers) == 1 and "racer" in losers[0]


def test_killed_holder_keeps_the_lease_until_expiry(db_url: str) -> None:
    upgrade(db_url)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_lease_worker.hold, args=(db_url, T0.isoformat(), 30.0, ready))
    proc.start()
    try:
        assert ready.wait(timeout=60)
    finally:
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
    engine = create_engine_for(db_url)
    try:
        with pytest.raises(LeaseHeld, match=f"holder-host pid {proc.pid}"):
            acquire(engine, "survivor", 1, 30, T0 + timedelta(seconds=29))
        taken = acquire(engine, "survivor", 1, 30, T0 + timedelta(seconds=30))
        assert taken.token == 2
    finally:
        engine.dispose()
