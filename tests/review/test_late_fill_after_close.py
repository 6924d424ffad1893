"""Regression: a trade row that becomes visible only after its order finished must still be
booked. Before, trades were fetched only while an order was open locally: an order closed
(``left_amount == 0``) with one visible trade, the second trade showed up a moment later, and it
was never fetched again (ledger short of the coins until a human recorded it as outside money).
Now trades are asked for during one grace period after an order became FILLED/CANCELED."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from services.execution.factories import CID, T0, at, fill, order, xorder

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, OrderType, VenueOrderStatus
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.ledger import Account, genesis_postings
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.reconcile_service import ExchangeView, ReconcileService
from review.fakes import FakeAccount

UNIVERSE = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
GRACE_S = 60.0


def test_a_trade_seen_after_the_order_closed_is_booked_within_the_grace_period(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    # A limit BUY of 2 BTC that closed; only the first 1 BTC trade was visible at first.
    closed = xorder(VenueOrderStatus.CLOSED, exchange_order_id=5001, left=Decimal(0))
    first = fill("1.0", trade_id=9001, order_id=5001, ts=10)
    late = fill("1.0", trade_id=9002, order_id=5001, ts=11)
    account = FakeAccount(history=[closed], fills=[first])
    with uow() as session:
        session.ledger.post(genesis_postings("TRY", Decimal("1000"), "test capital"), at=T0)
        session.orders.add(replace(order(OrderState.OPEN), order_type=OrderType.LIMIT, quantity=Decimal("2"),
                                   price=Decimal("100"), exchange_order_id=ExchangeOrderId(5001), created_at=T0, updated_at=at(1)))
        session.commit()
    clock = ManualClock(at(20))
    service = ReconcileService(account, uow, clock, UNIVERSE, "TRY", Decimal(1), GRACE_S, "UTC",
                               Failpoints.none())
    service.sync(1, ExchangeView(open_orders=[], balances=None, prices={}))
    with uow() as session:
        done = session.orders.get(CID)
        assert done is not None and done.state is OrderState.FILLED
        assert session.ledger.balance(Account.WALLET, "BTC") == Decimal("1.0")

    account.fills.append(late)  # the venue shows the second trade only now
    clock.advance(30)  # still inside the grace period after the order finished
    service.sync(2, ExchangeView(open_orders=[], balances=None, prices={}))
    with uow() as session:
        assert session.fills.exists(late.trade_id)
        assert session.ledger.balance(Account.WALLET, "BTC") == Decimal("2.0")
        done = session.orders.get(CID)
        assert done is not None and done.filled_quantity == Decimal("2.0")
    engine.dispose()
