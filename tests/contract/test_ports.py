"""The services implement the ports in contracts/ (checked by mypy through the assignments below
and at run time by member names and parameter lists), so the cycle can depend on the ports."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from btcbot.contracts.data_feed import DataFeed
from btcbot.contracts.orders import OrderManager
from btcbot.contracts.portfolio import Portfolio
from btcbot.contracts.reconcile import Reconciler
from btcbot.contracts.risk import RiskManager
from btcbot.contracts.state import TradingStateKeeper
from btcbot.services.market_feed import MarketFeed
from btcbot.services.order_service import OrderService
from btcbot.services.portfolio_service import PortfolioService
from btcbot.services.reconcile_service import ReconcileService
from btcbot.services.risk.engine import RiskEngine
from btcbot.services.state_service import StateService

PAIRS: list[tuple[type[Any], type[Any]]] = [
    (RiskManager, RiskEngine),
    (OrderManager, OrderService),
    (Portfolio, PortfolioService),
    (DataFeed, MarketFeed),
    (Reconciler, ReconcileService),
    (TradingStateKeeper, StateService),
]


def _members(protocol: type[Any]) -> list[str]:
    return [name for name in vars(protocol) if not name.startswith("_")]


@pytest.mark.parametrize(("port", "impl"), PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_the_service_has_every_member_of_its_port_with_the_same_parameters(port: type[Any], impl: type[Any]) -> None:
    members = _members(port)
    assert members, port
    for name in members:
        wanted = getattr(port, name)
        assert hasattr(impl, name), f"{impl.__name__} lacks {name}"
        if isinstance(wanted, property):
            assert isinstance(getattr(impl, name), property), name
            continue
        got = inspect.signature(getattr(impl, name)).parameters
        assert list(got) == list(inspect.signature(wanted).parameters), f"{impl.__name__}.{name}"


def _static_check(risk: RiskEngine, orders: OrderService, portfolio: PortfolioService, feed: MarketFeed,
                  reconciler: ReconcileService, state: StateService) -> None:
    """Never called: mypy (./run.sh lint covers tests/) rejects it if a service stops fitting its port."""
    ports: tuple[RiskManager, OrderManager, Portfolio, DataFeed, Reconciler, TradingStateKeeper] = (
        risk, orders, portfolio, feed, reconciler, state)
    assert ports
