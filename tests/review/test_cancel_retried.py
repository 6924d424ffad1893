"""Regression: a cancel that BTC Turk accepted (200) but never carried out left a risk-increasing
BUY live for good: the order stayed CANCEL_REQUESTED and safe mode skipped it. Now the cancel is
requested again once CANCEL_RETRY_AFTER_S has passed, and not before."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from services.execution.factories import CID, T0, order

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.orders import ManagedOrder
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.order_service import CANCEL_RETRY_AFTER_S, OrderService
from review.fakes import FakeAccount


def test_cancel_is_requested_again_only_after_the_retry_delay(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    with uow() as session:
        session.orders.add(replace(order(OrderState.OPEN), exchange_order_id=ExchangeOrderId(5001)))
        session.commit()
    clock = ManualClock(T0 + timedelta(seconds=1))
    account = FakeAccount()
    service = OrderService(account, uow, clock, {}, Failpoints.none(), Decimal("0.05"),
                           Decimal("0.002"), Decimal("0.2"))

    def current() -> ManagedOrder:
        with uow() as session:
            found = session.orders.get(CID)
        assert found is not None
        return found

    assert service.cancel(current(), 1)
    assert account.cancelled == [5001]
    clock.advance(CANCEL_RETRY_AFTER_S / 2)
    assert not service.cancel(current(), 2)
    assert account.cancelled == [5001]  # too early: not asked again
    clock.advance(CANCEL_RETRY_AFTER_S)
    assert service.cancel(current(), 3)
    assert account.cancelled == [5001, 5001]
    assert current().state is OrderState.CANCEL_REQUESTED
    engine.dispose()
