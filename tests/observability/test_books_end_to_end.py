"""The new profit and capital-policy figures from a real ``btcbot once`` (subprocess, live against the
simulator, metrics textfile + JSON logs): every new gauge is in the textfile, the fee and tax gauges
equal the ledger's fee and tax accounts (the bot started this month, so everything is this month's),
and the ``capital.policy`` record carries the same figures as the gauges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from btcbot.domain.ledger import Account
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle, running_simulator

REPO_ROOT = Path(__file__).resolve().parents[2]
NEW_GAUGES = ("realized_pnl_mtd", "unrealized_pnl", "fees_paid_mtd", "taxes_paid_mtd", "capital_base",
              "reserved_cash", "fee_buffer", "tradable_capital", "drawdown_multiplier", "portfolio_exposure_cap",
              "reserve_bucket", "cycle_interval_seconds", "alert_outbox_pending")


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    start = datetime.now(UTC).replace(microsecond=0)
    with running_simulator(SimConfig(clock_mode="wall", start_time=start, rate_limits=False)) as handle:
        yield handle


def test_once_exports_and_logs_profit_and_capital_figures(sim: SimHandle, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    prom = tmp_path / "btcbot.prom"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({
        "PYTHONPATH": str(REPO_ROOT),
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url, "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_AUTH__API_KEY": sim.api_key, "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false", "BTCBOT_TRADING__STRATEGY": "rebalance",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60", "BTCBOT_TRADING__CYCLE_INTERVAL_S": "45",
        "BTCBOT_DATABASE__URL": db, "BTCBOT_OBSERVABILITY__LOG_FORMAT": "json",
        "BTCBOT_OBSERVABILITY__METRICS_TEXTFILE": str(prom),
    })  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "btcbot.cli.main", "once"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]

    gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(prom.read_text()):
        for s in family.samples:
            gauges[(s.name, tuple(sorted(s.labels.items())))] = s.value
    for name in NEW_GAUGES:
        assert (name, ()) in gauges, name
    assert gauges[("cycle_interval_seconds", ())] == 45.0
    assert {dict(labels)["symbol"] for name, labels in gauges if name == "asset_exposure_cap"} == {
        "BTCTRY", "ETHTRY", "SOLTRY", "AVAXTRY", "XRPTRY"}  # fmt: skip

    engine = create_engine(db)
    try:
        with SqlUnitOfWork(engine) as uow:
            fees = uow.ledger.balance(Account.FEES, "TRY")
            taxes = uow.ledger.balance(Account.TAXES, "TRY")
    finally:
        engine.dispose()
    assert fees > 0 and taxes > 0  # the rebalance strategy bought: there were fills
    assert gauges[("fees_paid_mtd", ())] == float(fees)
    assert gauges[("taxes_paid_mtd", ())] == float(taxes)
    # Everything was bought this cycle, at fees: held value minus cost is below zero by about them.
    assert gauges[("unrealized_pnl", ())] < 0

    records = [json.loads(line) for line in done.stderr.splitlines()]
    (policy,) = [r for r in records if r["event"] == "capital.policy"]
    assert policy["cycle_id"] == 1
    assert Decimal(policy["fees_paid_mtd"]) == fees.quantize(Decimal("0.00000001")).normalize()
    for field in ("tradable_capital", "reserved_cash", "fee_buffer", "drawdown_multiplier", "portfolio_exposure_cap"):
        assert float(policy[field]) == pytest.approx(gauges[(field, ())], rel=1e-9), field
