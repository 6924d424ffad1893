"""Regression: an order the bot declared NOT_PLACED (or REJECTED) that later shows up on the
exchange must not be ignored.

The service once fed reconciliation only non-terminal local orders, and ``gather`` put the order's
client id into ``known_client_order_ids`` (so it was never adopted either): the live exchange
order - cash locked, fills coming - was invisible to the bot and to its risk limits. Since issue
11 the exchange's word corrects the record: the order is reopened with its exchange id (no
conflict, no REDUCING)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from services.execution.factories import CID, T0, at, order, xorder

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, VenueOrderStatus
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.execution.corrections import CorrectFromExchange, OrderConflict
from btcbot.services.reconcile_service import ExchangeView, ReconcileService
from review.fakes import FakeAccount

UNIVERSE = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


def _service(tmp_path: Path, account: object, clock: ManualClock) -> tuple[ReconcileService, Callable[[], UnitOfWork]]:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    service = ReconcileService(account, uow, clock, UNIVERSE, "TRY", Decimal("1"), 1.0, "UTC",  # type: ignore[arg-type]
                               Failpoints.none())
    return service, uow


@pytest.mark.parametrize("final", [OrderState.NOT_PLACED, OrderState.REJECTED])
def test_a_final_never_placed_order_found_open_on_the_exchange_is_corrected(
    tmp_path: Path, final: OrderState
) -> None:
    clock = ManualClock(at(600))
    row = xorder(VenueOrderStatus.UNTOUCHED, exchange_order_id=7001)
    account = FakeAccount(open_rows=[row])
    service, uow = _service(tmp_path, account, clock)
    with uow() as session:
        session.orders.add(replace(order(final), created_at=T0, updated_at=at(200)))
        session.commit()

    result = service.sync(1, ExchangeView(open_orders=account.open_orders(), balances=None, prices={}))

    assert result.report.of_kind(OrderConflict) == ()
    assert [c.client_order_id for c in result.report.of_kind(CorrectFromExchange)] == [CID]
    assert not result.requires_reducing
    with uow() as session:
        corrected = session.orders.get(CID)
    assert corrected is not None
    assert (corrected.state, corrected.exchange_order_id) == (OrderState.OPEN, 7001)
