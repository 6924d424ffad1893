"""Fill booking (``services.fill_booking``): one trade -> fill row, ledger postings, order progress,
journal and accounting in one transaction, at most once per trade id. A real SQLite file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.ledger import external_adjustment
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.fill_booking import FillBooking
from services.execution.factories import CID, T0, at, fill, order


def _booking(tmp_path: Path) -> tuple[FillBooking, SqlUnitOfWork, object]:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    with uow() as session:
        session.ledger.post(external_adjustment("TRY", Decimal(1000), "funding"), at=T0, cycle_id=None)
        session.orders.add(order(OrderState.OPEN, exchange_order_id=5001))
        session.commit()
    return FillBooking(uow, ManualClock(at(20)), "UTC"), SqlUnitOfWork(engine), engine


def test_a_trade_is_booked_once_with_postings_progress_and_journal(tmp_path: Path) -> None:
    booking, session, _ = _booking(tmp_path)
    trade = fill("0.4", trade_id=1)
    assert booking.book(CID, trade, cycle_id=7) is True
    assert booking.book(CID, trade, cycle_id=8) is False  # the same trade id again: nothing written
    with session as uow:
        booked = uow.orders.get(CID)
        wallet = uow.ledger.wallet_balances()
        events = [e["event"] for e in uow.journal.for_order(CID)]
        assert uow.fills.exists(1)
    assert booked is not None and booked.state is OrderState.PARTIALLY_FILLED
    assert booked.filled_quantity == Decimal("0.4")
    assert wallet["BTC"] == Decimal("0.4")
    # 0.4 x 100 plus fee 0.1 and tax 0.02 left the quote wallet
    assert wallet["TRY"] == Decimal(1000) - Decimal(40) - Decimal("0.1") - Decimal("0.02")
    assert events.count("fill") == 1


def test_a_trade_of_an_order_without_a_row_is_not_booked(tmp_path: Path) -> None:
    booking, session, _ = _booking(tmp_path)
    assert booking.book(ClientOrderId("bb-s1-c000009-BTCTRY-B-zzzzzzzzzz"), fill("0.4", trade_id=2), cycle_id=7) is False
    with session as uow:
        assert not uow.fills.exists(2)
