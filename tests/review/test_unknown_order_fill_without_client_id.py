"""Regression: the fills of an UNKNOWN order (its POST timed out) that the lookup finds by client
id must be booked even when the trade rows carry no ``orderClientId`` (BTC Turk's documented
legacy trade rows have none; the parser supports that by taking the order id from the request).

Before the fix the fill's owner was looked up only by the exchange order ids local orders already
had, and an UNKNOWN order has none yet: the fill was counted as foreign and dropped, while the
same report moved the order to FILLED. A terminal order's trades are never fetched again, so the
fill was lost for good (ledger short of the coins, quote drift, REDUCING)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from services.execution.factories import CID, T0, at, fill, order, xorder

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, VenueOrderStatus
from btcbot.domain.ledger import Account, genesis_postings
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.execution.corrections import ApplyFill
from btcbot.services.execution.reconciliation import reconcile
from btcbot.services.reconcile_service import ExchangeView, ReconcileService
from review.fakes import FakeAccount

UNIVERSE = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


def test_pure_reconcile_applies_an_anonymous_fill_of_the_order_found_by_client_id() -> None:
    unknown = order(OrderState.UNKNOWN)
    row = xorder(VenueOrderStatus.CLOSED, exchange_order_id=5001, left=Decimal(0))
    trade = fill("1.0", order_id=5001, client_order_id=None)
    report = reconcile([unknown], [], [row], [trade], frozenset(), {}, {}, {}, Decimal(1), at(30), 5.0)
    assert [c.fill.trade_id for c in report.of_kind(ApplyFill)] == [trade.trade_id]
    assert report.foreign_fills_ignored == 0


def test_service_books_the_fill_once_and_ledger_matches(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    row = xorder(VenueOrderStatus.CLOSED, exchange_order_id=5001, left=Decimal(0))
    trade = fill("1.0", order_id=5001, client_order_id=None)
    account = FakeAccount(history=[row], fills=[trade])
    with uow() as session:
        session.ledger.post(genesis_postings("TRY", Decimal("1000"), "test capital"), at=T0)
        session.orders.add(replace(order(OrderState.UNKNOWN), created_at=T0, updated_at=at(1)))
        session.commit()
    service = ReconcileService(account, uow, ManualClock(at(30)), UNIVERSE, "TRY", Decimal(1), 5.0, "UTC",
                               Failpoints.none())

    for cycle in (1, 2):
        service.sync(cycle, ExchangeView(open_orders=[], balances=None, prices={}))

    with uow() as session:
        booked = session.orders.get(CID)
        assert booked is not None
        assert booked.state is OrderState.FILLED
        assert booked.filled_quantity == Decimal("1.0")
        assert session.fills.exists(trade.trade_id)
        assert session.ledger.balance(Account.WALLET, "BTC") == Decimal("1.0")
        assert session.ledger.balance(Account.WALLET, "TRY") == Decimal("1000") - Decimal("100") - Decimal("0.12")
