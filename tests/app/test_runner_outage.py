"""Issue 11 item 7, unit level: the run loop rides out a database outage (no cycle meanwhile,
backoff probes, one alert, resume, exit after the limit) on a manual clock; which errors count
as an outage."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, ProgrammingError

from btcbot.adapters.clock import ManualClock
from btcbot.app.runner import Cadence, DatabaseUnavailable, OutagePolicy, StopFlag, run_loop
from btcbot.persistence.engine import create_engine_for, is_connection_error, probe

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class Outage(Exception):
    """Stands for a connection error in the loop tests."""


class FakeDatabase:
    """Down between ``down_from`` and ``up_at`` (monotonic seconds)."""

    def __init__(self, clock: ManualClock, down_from: float, up_at: float) -> None:
        self.clock, self.down_from, self.up_at = clock, down_from, up_at
        self.probes: list[float] = []

    def down(self) -> bool:
        return self.down_from <= self.clock.monotonic() < self.up_at

    def probe(self) -> None:
        self.probes.append(self.clock.monotonic())
        if self.down():
            raise Outage("connection refused")


def _policy(db: FakeDatabase, alerts: list[float], recovered: list[float], alert_after: float = 30.0,
            limit: float = 600.0) -> OutagePolicy:
    return OutagePolicy(
        is_outage=lambda e: isinstance(e, Outage), probe=db.probe, alert_after_s=alert_after, limit_s=limit,
        on_alert=lambda s, _e: alerts.append(s), on_recovered=recovered.append,
    )


def test_outage_pauses_cycles_probes_with_backoff_alerts_once_and_resumes() -> None:
    clock = ManualClock(T0)
    start = clock.monotonic()
    db = FakeDatabase(clock, down_from=start + 15, up_at=start + 100)
    stop = StopFlag()
    cycles: list[float] = []

    def cycle() -> None:
        if db.down():
            raise Outage("server closed the connection unexpectedly")
        cycles.append(clock.monotonic() - start)
        if len(cycles) == 4:
            stop.request("SIGTERM")

    alerts: list[float] = []
    recovered: list[float] = []
    count = run_loop(cycle, clock, Cadence(10.0, 0.0), stop, outage=_policy(db, alerts, recovered))
    # cycles at 0 and 10; the one due at 20 fails; none runs while down; the first after the
    # database answers runs at once, then the cadence continues
    assert cycles[:2] == [0.0, 10.0]
    assert all(not (15 <= t < 100) for t in cycles)
    first_after = cycles[2]
    assert 100 <= first_after <= 100 + 15  # within one (capped) backoff step
    assert count == 5  # four completed cycles plus the one the outage cut short
    gaps = [b - a for a, b in zip(db.probes, db.probes[1:], strict=False)]
    assert gaps[0] < gaps[2] and max(gaps) <= 15.0 + 1e-9  # exponential, capped
    assert len(alerts) == 1 and alerts[0] >= 30.0
    assert len(recovered) == 1 and 80.0 <= recovered[0] <= 95.0


def test_outage_longer_than_the_limit_raises_database_unavailable() -> None:
    clock = ManualClock(T0)
    db = FakeDatabase(clock, down_from=clock.monotonic(), up_at=float("inf"))
    ran: list[int] = []

    def cycle() -> None:
        ran.append(1)
        db.probe()

    alerts: list[float] = []
    with pytest.raises(DatabaseUnavailable, match="outage_limit_s=120"):
        run_loop(cycle, clock, Cadence(10.0, 0.0), StopFlag(), outage=_policy(db, alerts, [], 30.0, 120.0))
    assert ran == [1]  # no cycle during the outage
    assert len(alerts) == 1
    assert clock.monotonic() - db.down_from == pytest.approx(120.0, abs=0.6)


def test_stop_during_an_outage_returns_without_another_cycle() -> None:
    clock = ManualClock(T0)
    db = FakeDatabase(clock, down_from=clock.monotonic(), up_at=float("inf"))
    stop = StopFlag()

    def probe() -> None:
        if len(db.probes) == 3:
            stop.request("SIGTERM")
        db.probe()

    policy = OutagePolicy(is_outage=lambda e: isinstance(e, Outage), probe=probe, alert_after_s=60, limit_s=600)

    def cycle() -> None:
        raise Outage("down")

    assert run_loop(cycle, clock, Cadence(10.0, 0.0), stop, outage=policy) == 1


def test_other_errors_still_end_the_loop() -> None:
    clock = ManualClock(T0)
    db = FakeDatabase(clock, 0, 0)

    def cycle() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        run_loop(cycle, clock, Cadence(10.0, 0.0), StopFlag(), outage=_policy(db, [], []))


def test_max_cycles_counts_the_cut_cycle_after_the_outage() -> None:
    clock = ManualClock(T0)
    db = FakeDatabase(clock, down_from=clock.monotonic(), up_at=clock.monotonic() + 5)

    def cycle() -> None:
        if db.down():
            raise Outage("down")

    assert run_loop(cycle, clock, Cadence(10.0, 0.0), StopFlag(), max_cycles=2, outage=_policy(db, [], [])) == 2


# ---- classification ------------------------------------------------------------------------


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


def test_sqlite_lock_is_an_outage_a_schema_error_is_not(tmp_path: Path) -> None:
    assert is_connection_error(_wrapped(sqlite3.OperationalError("database is locked")))
    assert is_connection_error(_wrapped(sqlite3.OperationalError("unable to open database file")))
    assert not is_connection_error(_wrapped(sqlite3.OperationalError("no such table: orders")))
    assert not is_connection_error(ValueError("x"))
    chained = RuntimeError("while handling")
    chained.__cause__ = _wrapped(sqlite3.OperationalError("database is locked"))
    assert is_connection_error(chained)


def test_a_real_sqlite_lock_fails_the_probe_and_counts_as_outage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = create_engine_for(url, busy_timeout_ms=50)
    holder = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        probe(engine)  # free: fine
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as info:
            probe(engine)
        assert is_connection_error(info.value)
        holder.execute("ROLLBACK")
        probe(engine)
    finally:
        holder.close()
        engine.dispose()


def test_postgres_terminated_and_refused_connections_are_outages(postgres_url: str) -> None:
    engine = create_engine_for(postgres_url)
    admin = create_engine_for(postgres_url)
    try:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with admin.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
            with pytest.raises(sa.exc.DBAPIError) as info:
                conn.exec_driver_sql("SELECT 1")
            assert is_connection_error(info.value)
        probe(engine)  # pre-ping replaced the dead connection
        with engine.connect() as conn, pytest.raises(ProgrammingError) as bad:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
        assert not is_connection_error(bad.value)
    finally:
        engine.dispose()
        admin.dispose()
    refused = create_engine_for("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(OperationalError) as info:
            probe(refused)
        assert is_connection_error(info.value)
    finally:
        refused.dispose()
