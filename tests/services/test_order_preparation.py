"""Live and backtest prepare orders with one function (services.order_preparation.prepare_order).

The backtester used to re-implement ``OrderService.prepare`` without its missing-rules guard: an
approval for a symbol without venue rules was refused live but crashed (KeyError) in a backtest.
Both now call the same function, so both refuse it the same way, and round the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from review.fakes import FakeAccount

from btcbot.adapters.clock import ManualClock
from btcbot.backtest.bars import default_rules
from btcbot.backtest.engine import BacktestEngine
from btcbot.config.settings import Settings, load_settings
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import OrderRequest
from btcbot.domain.intents import Approved, OrderIntent
from btcbot.domain.venue import RejectionCode, VenueRejection
from btcbot.failpoints import Failpoints
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.services.order_preparation import prepare_order
from btcbot.services.order_service import OrderService
from btcbot.strategies.registry import load_strategy

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MARGIN = Decimal("0.05")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return load_settings(env_file=empty, environ={}).settings


def approved(symbol: str, quantity: str = "0.0123456789", price: str = "2500000") -> Approved:
    intent = OrderIntent(
        strategy_id="s1", symbol=symbol, side=Side.BUY, order_type=OrderType.LIMIT,
        quantity=Decimal(quantity), reference_price=Decimal(price), expected_edge_bps=Decimal(50),
        limit_price=Decimal(price),
    )
    return Approved(intent, original=intent, risk_increasing=True)


def paths(settings: Settings) -> tuple[OrderService, BacktestEngine, FakeStore, FakeAccount]:
    rules = default_rules(settings.trading.symbols)
    store, account = FakeStore(), FakeAccount()

    def uow() -> UnitOfWork:
        return FakeUnitOfWork(store)

    live = OrderService(account, uow, ManualClock(NOW), rules, Failpoints.none(), MARGIN,
                        Decimal("0.002"), Decimal("0.2"))
    backtest = BacktestEngine(settings, load_strategy("trend", "s1"), 60, rules=rules)
    return live, backtest, store, account


def test_a_symbol_without_venue_rules_is_refused_the_same_way_live_and_in_backtest(settings: Settings) -> None:
    live, backtest, store, _account = paths(settings)
    order = approved("DOGETRY")  # no venue rules in either path
    expected = VenueRejection(RejectionCode.NOT_TRADABLE, "DOGETRY has no venue rules")

    assert prepare_order(order, 7, default_rules(settings.trading.symbols), MARGIN) == expected
    assert live.prepare(order, 7) == expected
    assert backtest._prepare(order, 7) == expected  # was a KeyError
    outcome = live.submit(order, 7)  # FakeAccount.submit_order would fail the test if reached
    assert (outcome.client_order_id, outcome.state) == (None, None)
    assert outcome.detail == f"{RejectionCode.NOT_TRADABLE}: DOGETRY has no venue rules"
    with FakeUnitOfWork(store) as uow:
        assert uow.orders.list_recent(10) == []  # nothing persisted


def test_a_tradable_symbol_is_rounded_identically_live_and_in_backtest(settings: Settings) -> None:
    live, backtest, _store, _account = paths(settings)
    order = approved("BTCTRY")
    live_request = live.prepare(order, 7)
    assert isinstance(live_request, OrderRequest)
    assert backtest._prepare(order, 7) == live_request
    assert live_request.base_quantity is not None and live_request.base_quantity < Decimal("0.0123456789")
