"""Regression: when the balances request failed, reconciliation must not report balance drift.

``plan`` compares the ledger with itself when balances are missing ("no drift verdict"), but
the fills booked in the same pass are added to the ledger side first, so every asset a new fill
touched read as drift (the coins bought) or surplus (the quote spent). Two such cycles in a row
(the balances endpoint down while orders fill) put trading into a sticky REDUCING "balance drift"
that only an operator can clear, and alerted a drift that does not exist."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from services.execution.factories import T0, at, fill, order, xorder

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, VenueOrderStatus
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.ledger import genesis_postings
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.execution.corrections import ApplyFill, BalanceDrift, ExternalSurplus
from btcbot.services.reconcile_service import ExchangeView, ReconcileService
from review.fakes import FakeAccount

UNIVERSE = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


def test_missing_balances_with_a_new_fill_is_no_drift(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    row = xorder(VenueOrderStatus.CLOSED, exchange_order_id=5001, left=Decimal(0))
    trade = fill("1.0", order_id=5001)
    account = FakeAccount(history=[row], fills=[trade])
    with uow() as session:
        session.ledger.post(genesis_postings("TRY", Decimal("1000"), "test capital"), at=T0)
        session.orders.add(replace(order(OrderState.OPEN), exchange_order_id=ExchangeOrderId(5001), created_at=T0, updated_at=at(1)))
        session.commit()
    service = ReconcileService(account, uow, ManualClock(at(30)), UNIVERSE, "TRY", Decimal(1), 5.0, "UTC",
                               Failpoints.none(), drift_cycles=1)

    result = service.sync(1, ExchangeView(open_orders=[], balances=None, prices={"BTCTRY": Decimal("100")}))

    assert len(result.report.of_kind(ApplyFill)) == 1
    assert result.report.of_kind(BalanceDrift) == ()
    assert result.report.of_kind(ExternalSurplus) == ()
    assert not result.requires_reducing
