"""Startup load time must not grow with history.

Startup = open the database (engine + first connection + alembic revision check) and load what a
cycle needs: the latest portfolio snapshot, the non-terminal orders, the trading state, the
breakers and the wallet balances. Measured on an empty (migrated) database and on one holding
1,000,000 ledger postings, 500,000 cycle rows, 500,000 snapshots, 100,000 terminal orders and
200,000 journal events (bulk-inserted with core executemany). Runs are interleaved
(empty, big, empty, big ...) and the medians compared; the target is big <= 1.2 x empty.
The SQL of one startup and SQLite's query plans are saved as evidence that no query scans history.

Usage: python benchmarks/persistence_startup.py [--reps N] [--postings N] [--cycles N]
Writes benchmarks/results/persistence_startup.json. PostgreSQL is measured too when
BTCBOT_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from persistence_commit import temp_schema_url
from sqlalchemy import Engine, event, insert, text

from btcbot.domain.enums import OrderState
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import current_for_engine, head, upgrade
from btcbot.persistence.tables import (
    CycleRow,
    LedgerBalanceRow,
    LedgerEntryRow,
    OrderEventRow,
    OrderRow,
    SnapshotRow,
)
from btcbot.persistence.unit_of_work import SqlUnitOfWork

RESULTS = Path(__file__).parent / "results" / "persistence_startup.json"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 50_000


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    for batch in _chunks(rows):
        with engine.begin() as conn:
            conn.execute(insert(table), batch)


def populate(engine: Engine, postings: int, cycles: int) -> None:
    """History rows, shaped like the real ones (ledger balanced in pairs)."""
    amount = Decimal("0.00012345")

    def entries() -> Iterator[dict[str, Any]]:
        for i in range(postings):
            sign = 1 if i % 2 == 0 else -1
            yield {"batch_id": i // 2 + 1, "asset": "BTC", "account": "wallet" if sign > 0 else "market",
                   "amount": sign * amount, "ref": f"trade:{i // 2}", "reason": "fill", "cycle_id": i // 4,
                   "at": T0 + timedelta(seconds=i)}  # fmt: skip

    def cycle_rows() -> Iterator[dict[str, Any]]:
        for c in range(1, cycles + 1):
            at = T0 + timedelta(minutes=c)
            yield {"cycle_id": c, "started_at": at, "finished_at": at, "outcome": "ok", "safe_mode": False,
                   "exit_code": 0, "requests": 7, "decision_inputs": '{"t":[1,2,3]}', "settings_hash": "h"}  # fmt: skip

    def snapshot_rows() -> Iterator[dict[str, Any]]:
        for c in range(1, cycles + 1):
            yield {"cycle_id": c, "at": T0 + timedelta(minutes=c), "equity": Decimal("100000.5"),
                   "high_water_mark": Decimal("100500"), "day_start_equity": Decimal("99000"), "day_key": "2025-01-01",
                   "reserve_bucket": Decimal(0), "rolling_notional_30d": Decimal("1234.5"),
                   "realized_pnl_mtd": Decimal(1), "month_key": "2025-01", "harvested_mtd": Decimal(0)}  # fmt: skip

    def order_rows(n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {"client_order_id": f"hist-{i}", "exchange_order_id": i + 1, "state": OrderState.FILLED.value,
                   "cycle_id": i, "strategy_id": "s", "symbol": "BTCTRY", "side": "BUY", "type": "LIMIT",
                   "quantity": amount, "price": Decimal(2500000), "quote_amount": None, "filled_quantity": amount,
                   "filled_quote": Decimal("308.625"), "fees_paid": Decimal(0), "reject_reason": None,
                   "reject_code": None, "risk_increasing": True, "created_at": T0, "updated_at": T0}  # fmt: skip

    def event_rows(n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {"client_order_id": f"hist-{i // 2}", "cycle_id": i, "from_state": "OPEN", "to_state": "FILLED",
                   "event": "fill", "payload": '{"x":1}', "at": T0 + timedelta(seconds=i)}  # fmt: skip

    _bulk(engine, LedgerEntryRow, entries())
    _bulk(engine, CycleRow, cycle_rows())
    _bulk(engine, SnapshotRow, snapshot_rows())
    _bulk(engine, OrderRow, order_rows(100_000))
    _bulk(engine, OrderEventRow, event_rows(200_000))
    with engine.begin() as conn:
        conn.execute(insert(LedgerBalanceRow), [{"account": "wallet", "asset": "BTC", "amount": amount}])
        live = [dict(r, client_order_id=f"live-{i}", state=OrderState.OPEN.value) for i, r in enumerate(order_rows(3))]
        conn.execute(insert(OrderRow), live)  # a few live orders, as at a real restart
    with SqlUnitOfWork(engine) as uow:
        uow.meta.set("cycle_id_seq", str(cycles))
        uow.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def startup(url: str, statements: list[tuple[str, Any]] | None = None) -> float:
    start = time.perf_counter()
    engine = create_engine_for(url)
    if statements is not None:

        @event.listens_for(engine, "before_cursor_execute")
        def _record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            statements.append((statement, parameters))

    try:
        assert current_for_engine(engine) == head()
        with SqlUnitOfWork(engine) as uow:
            uow.snapshots.latest()
            uow.orders.list_non_terminal()
            uow.trading_state.get()
            uow.breakers.load()
            uow.ledger.wallet_balances()
    finally:
        engine.dispose()
    return (time.perf_counter() - start) * 1000


def sqlite_plans(url: str, statements: list[tuple[str, Any]]) -> dict[str, list[str]]:
    engine = create_engine_for(url)
    plans: dict[str, list[str]] = {}
    try:
        with engine.connect() as conn:
            for sql, params in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params or ())).all()
                plans[" ".join(sql.split())[:160]] = [str(r[-1]) for r in rows]
    finally:
        engine.dispose()
    return plans


def compare(empty_url: str, big_url: str, reps: int) -> dict[str, Any]:
    for url in (empty_url, big_url):  # warm-up (imports, page cache)
        startup(url)
    empty, big = [], []
    for _ in range(reps):
        empty.append(startup(empty_url))
        big.append(startup(big_url))
    e, b = statistics.median(empty), statistics.median(big)
    return {
        "reps": reps,
        "empty_median_ms": round(e, 3),
        "big_median_ms": round(b, 3),
        "ratio": round(b / e, 3),
        "within_1_2x": b <= 1.2 * e,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=41)
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--cycles", type=int, default=500_000)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "persistence_startup",
        "history": {"ledger_postings": args.postings, "cycles": args.cycles, "snapshots": args.cycles,
                    "terminal_orders": 100_000, "journal_events": 200_000},  # fmt: skip
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        empty_url = f"sqlite:///{Path(tmp) / 'empty.db'}"
        big_url = f"sqlite:///{Path(tmp) / 'big.db'}"
        upgrade(empty_url)
        upgrade(big_url)
        t = time.perf_counter()
        eng = create_engine_for(big_url)
        try:
            populate(eng, args.postings, args.cycles)
        finally:
            eng.dispose()
        results["sqlite_populate_s"] = round(time.perf_counter() - t, 1)
        results["sqlite"] = compare(empty_url, big_url, args.reps)
        statements: list[tuple[str, Any]] = []
        startup(big_url, statements)
        results["sqlite_startup_sql_plans"] = sqlite_plans(big_url, statements)
    pg = os.environ.get("BTCBOT_TEST_POSTGRES_URL")
    if pg:
        with temp_schema_url(pg) as empty_url, temp_schema_url(pg) as big_url:
            upgrade(empty_url)
            upgrade(big_url)
            t = time.perf_counter()
            eng = create_engine_for(big_url)
            try:
                populate(eng, args.postings, args.cycles)
            finally:
                eng.dispose()
            results["postgresql_populate_s"] = round(time.perf_counter() - t, 1)
            results["postgresql"] = compare(empty_url, big_url, args.reps)
    else:
        results["postgresql"] = "skipped: BTCBOT_TEST_POSTGRES_URL unset"
    print(json.dumps(results, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
