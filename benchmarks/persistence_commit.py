"""Commit latency of one cycle's checkpoint.

One unit of work (fenced by the lease token, as in production) containing: an order update, a
fill, a 4-posting ledger batch (asset + quote legs), a portfolio snapshot, a cycle row (start and
finish) and an outbox row; then commit. SQLite is a file on disk with WAL + synchronous=FULL
(every commit is fsynced); PostgreSQL runs too when BTCBOT_TEST_POSTGRES_URL is set.

Usage: python benchmarks/persistence_commit.py [--runs N]
Writes benchmarks/results/persistence_commit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ledger import PortfolioSnapshot, genesis_postings, postings_for_fill
from btcbot.domain.orders import ManagedOrder
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import acquire
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork

RESULTS = Path(__file__).parent / "results" / "persistence_commit.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@contextmanager
def temp_schema_url(base_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL schema (search_path set through the URL), dropped afterwards."""
    schema = f"btcbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine_for(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).set(drivername="postgresql+psycopg")
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _order(i: int) -> ManagedOrder:
    return ManagedOrder(
        client_order_id=f"bench-{i}",
        cycle_id=i,
        strategy_id="bench",
        symbol="BTCTRY",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("0.001"),
        price=Decimal("2500000"),
        quote_amount=None,
        state=OrderState.OPEN,
        created_at=T0,
        updated_at=T0,
        exchange_order_id=10_000 + i,
    )


def _snapshot(cycle_id: int, at: datetime) -> PortfolioSnapshot:
    return PortfolioSnapshot(
        at=at, cycle_id=cycle_id, equity=Decimal("100000.5"), high_water_mark=Decimal("100500"),
        day_start_equity=Decimal("99000"), day_key="2026-01-01", reserve_bucket=Decimal("100"),
        rolling_notional_30d=Decimal("123456.78"), realized_pnl_mtd=Decimal("12.5"), month_key="2026-01",
        harvested_mtd=Decimal(0),
    )  # fmt: skip


def measure(url: str, runs: int) -> dict[str, float | int]:
    upgrade(url)
    engine = create_engine_for(url)
    try:
        lease = acquire(engine, "bench", os.getpid(), 3600, T0)
        with SqlUnitOfWork(engine) as uow:
            uow.ledger.post(genesis_postings("TRY", Decimal(10**12), "benchmark capital"), T0)
            for i in range(runs):
                uow.orders.add(_order(i))
            uow.commit()
        samples: list[float] = []
        for i in range(runs):
            at = T0 + timedelta(minutes=i)
            fill = Fill(i + 1, 10_000 + i, f"bench-{i}", "BTCTRY", Side.BUY, Decimal("2500000"),
                        Decimal("0.001"), Decimal(0), Decimal(0), "TRY", at)  # fmt: skip
            start = time.perf_counter()
            with SqlUnitOfWork(engine, fencing_token=lease.token) as uow:
                cycle_id = uow.cycles.next_cycle_id()
                uow.cycles.start(cycle_id, at)
                order = uow.orders.get(f"bench-{i}")
                assert order is not None
                uow.orders.update(order.with_fill(fill.quantity, fill.quote_value, fill.fee, at).transition(
                    OrderState.FILLED, at))  # fmt: skip
                uow.fills.add_if_new(fill, cycle_id)
                postings = postings_for_fill(fill, "BTC", "TRY")
                assert len(postings) == 4
                uow.ledger.post(postings, at, cycle_id)
                uow.snapshots.save(_snapshot(cycle_id, at))
                uow.outbox.add("alert", f"bench-alert-{i}", {"cycle": cycle_id}, at)
                uow.cycles.finish(cycle_id, at, "ok", requests=7)
                uow.commit()
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        engine.dispose()
    ordered = sorted(samples)
    return {
        "runs": runs,
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    results: dict[str, object] = {
        "benchmark": "persistence_commit",
        "workload": "fenced UoW: order update + fill + 4 postings + snapshot + cycle start/finish + outbox row",
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        results["sqlite_file_wal_sync_full"] = measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.runs)
    pg = os.environ.get("BTCBOT_TEST_POSTGRES_URL")
    if pg:
        with temp_schema_url(pg) as url:
            results["postgresql"] = measure(url, args.runs)
    else:
        results["postgresql"] = "skipped: BTCBOT_TEST_POSTGRES_URL unset"
    for key, value in results.items():
        print(f"{key}: {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
