"""Dry run end to end: the real application with ``trading.dry_run=true`` against the simulator's
public routes. The paper exchange fills the cycle's market orders over the live book; the
reconcile step books them; fees and taxes land in the ledger; the ledger equals the paper
balances; and no private endpoint is ever requested."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.app.operations import start
from btcbot.config.settings import Settings, load_settings
from btcbot.domain.enums import OrderState
from btcbot.domain.ledger import Account
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator

SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(SimConfig(seed=5, rate_limits=False, history_minutes=60)) as handle:
        yield handle


def dry_run_settings(sim: SimHandle, tmp_path: Path) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    environ = {
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_TRADING__STRATEGY": "paper.strategies:BuyEachOnce",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'paper.db'}",
    }
    settings = load_settings(env_file=empty, environ=environ).settings
    assert settings.trading.dry_run and not settings.auth.api_key
    return settings


def test_dry_run_cycle_fills_on_paper_and_books_fees_and_taxes(sim: SimHandle, tmp_path: Path) -> None:
    settings = dry_run_settings(sim, tmp_path)
    upgrade(settings.database.url)
    app = start(settings, clock=SimLinkedClock(sim))
    try:
        first = app.cycle().run()
        sim.admin.advance(60)
        second = app.cycle().run()
        paper_balances = {b.asset: b.total for b in app.exchange.balances()}
        paper_fills = [f for s in SYMBOLS for f in app.exchange.trades(s, sim.clock.now().replace(year=2000), sim.clock.now())]
    finally:
        app.close()
    assert first.submitted == 5 and not first.safe_mode, first.reasons
    assert second.submitted == 0 and not second.safe_mode, second.reasons
    assert len(paper_fills) >= 5

    engine = create_engine_for(settings.database.url)
    try:
        with SqlUnitOfWork(engine) as uow:
            fees = uow.ledger.balance(Account.FEES, "TRY")
            taxes = uow.ledger.balance(Account.TAXES, "TRY")
            wallet = dict(uow.ledger.wallet_balances())
            orders = uow.orders.list_non_terminal()
    finally:
        engine.dispose()
    assert fees == sum((f.fee for f in paper_fills), Decimal(0)) > 0
    assert taxes == sum((f.tax for f in paper_fills), Decimal(0))
    assert taxes == sum(((f.fee * Decimal("0.2")).quantize(Decimal("1E-10")) for f in paper_fills), Decimal(0))
    assert {a: v for a, v in wallet.items() if v != 0} == {a: v for a, v in paper_balances.items() if v != 0}
    assert paper_balances["TRY"] < Decimal("100000")
    assert all(o.state is not OrderState.UNKNOWN for o in orders)

    routes = {e["route"] for e in sim.state()["request_log"]}
    assert routes, "the bot must have talked to the simulator"
    assert not [r for r in routes if r.startswith("/api/v1/")], routes
