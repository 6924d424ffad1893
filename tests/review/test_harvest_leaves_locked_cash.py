"""Regression: the monthly profit harvest must not move quote that our open BUY orders have
locked on the exchange into the reserve bucket.

``StateService.harvest`` only checked the ledger wallet balance (free + locked), so it could
sweep cash a resting BUY already holds. When that BUY fills, its quote leg takes the wallet
below zero: ``ledger.post`` refuses it (InvariantViolation), the cycle HALTS, and the fill can
never be booked. Reachable whenever a harvest exceeds the free cash floor (e.g. a small
``capital.reserve_abs``/``reserve_ratio``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from services.execution.factories import order

from btcbot.adapters.clock import ManualClock
from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.params import capital_params
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.breaker import BreakerBoard, BreakerSettings
from btcbot.domain.enums import OrderState, Side, TradingState
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ExchangeOrderId, Symbol
from btcbot.domain.ledger import Account, genesis_postings, postings_for_fill
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.portfolio_service import PortfolioInputs, PortfolioService
from btcbot.services.state_service import StateService

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
UNIVERSE = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


def test_harvest_never_takes_cash_an_open_buy_has_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    # 1000 TRY; a resting limit BUY of 9.5 BTC at 100 locks 950 TRY (+ fee) on the exchange.
    buy = replace(order(OrderState.OPEN), quantity=Decimal("9.5"), price=Decimal("100"), exchange_order_id=ExchangeOrderId(5001),
                  created_at=NOW, updated_at=NOW)
    with uow() as session:
        session.ledger.post(genesis_postings("TRY", Decimal("1000"), "test capital"), at=NOW)
        session.orders.add(buy)
        session.commit()
    with uow() as session:
        wallet = session.ledger.wallet_balances()
        open_orders = session.orders.list_non_terminal()
    portfolio = PortfolioService(UNIVERSE, "TRY", Decimal("0.0024"), "UTC")
    view = portfolio.view(PortfolioInputs(
        wallet=wallet, reserve=Decimal(0), prices={"BTCTRY": Decimal("100")}, open_orders=open_orders,
        snapshot=None, trading_state=TradingState.ACTIVE, market_age_s={"BTCTRY": 1.0},
        realized_pnl_mtd=Decimal("400"), rolling_notional=Decimal(0), now=NOW,
    ))
    assert view.cash_free < Decimal("100")
    capital = CapitalSettings(harvest_threshold=Decimal("0"), harvest_ratio=Decimal("0.5"))
    state = StateService(uow, ManualClock(NOW), BreakerBoard(BreakerSettings(3, 30.0, 1)), "UTC", capital_params(capital), "TRY")

    with uow() as session:
        state.harvest(session, view, 1, NOW)
        session.commit()

    # The BUY fills in full: its quote leg must still fit in the wallet.
    fill = Fill(trade_id=1, order_id=ExchangeOrderId(5001), client_order_id=buy.client_order_id, symbol=Symbol("BTCTRY"), side=Side.BUY,
                price=Decimal("100"), quantity=Decimal("9.5"), fee=Decimal("1.9"), tax=Decimal("0.38"),
                fee_asset="TRY", timestamp=NOW)
    with uow() as session:
        session.ledger.post(postings_for_fill(fill, "BTC", "TRY"), at=NOW)  # raised InvariantViolation
        session.commit()
        assert session.ledger.balance(Account.WALLET, "TRY") >= 0
