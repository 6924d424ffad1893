"""The reconcile service corrects the local record from what the exchange shows (issue 11):

- a REJECTED / NOT_PLACED order the exchange has after all is reopened with its exchange id,
  its fills are booked exactly once and the journal says so (``corrected_by_exchange``);
- an order with our client id and no local record is adopted in an ordinary cycle (journal
  ``adopted``), not left for an operator while trading sits in REDUCING;
- a rejected order is looked for during its watch window, and later only when a balance
  shortfall on its assets asks for it (idle cycles stay cheap);
- an unexplained shortfall blocks new risk from the pass that sees it.

A FakeAccount answers the reads; the database is a real SQLite file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from review.fakes import FakeAccount

from btcbot.adapters.clock import ManualClock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import OrderState, Side, VenueOrderStatus
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.domain.ids import ClientOrderId, Symbol
from btcbot.domain.ledger import external_adjustment
from btcbot.domain.market import Balance
from btcbot.failpoints import Failpoints
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.persistence.unit_of_work import SqlUnitOfWork
from btcbot.services.execution.client_order_id import make_client_order_id
from btcbot.services.execution.corrections import BalanceDrift, OrderConflict
from btcbot.services.reconcile_service import NEVER_PLACED_WATCH_S, ExchangeView, ReconcileService
from services.execution.factories import CID, T0, at, fill, order, xorder

UNIVERSE = ("BTCTRY", "ETHTRY")
V = VenueOrderStatus
S = OrderState
GRACE = 60.0


@dataclass
class CountingAccount(FakeAccount):
    calls: Counter[str] = field(default_factory=Counter)

    def all_orders(
        self, symbol: str, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[ExchangeOrder]:
        self.calls[f"all_orders {symbol}"] += 1
        return super().all_orders(symbol, start, end, limit)


@dataclass
class Rig:
    service: ReconcileService
    uow: Callable[[], UnitOfWork]
    account: CountingAccount
    clock: ManualClock

    def add(self, *orders: object) -> None:
        with self.uow() as session:
            for o in orders:
                session.orders.add(o)  # type: ignore[arg-type]
            session.commit()

    def fund(self, asset: str, amount: str) -> None:
        with self.uow() as session:
            session.ledger.post(external_adjustment(asset, Decimal(amount), "test funding"), at=T0, cycle_id=None)
            session.commit()

    def view(self, balances: dict[str, str] | None = None) -> ExchangeView:
        rows = None if balances is None else [
            Balance(asset=a, free=Decimal(v), locked=Decimal(0), total=Decimal(v)) for a, v in balances.items()
        ]
        return ExchangeView(open_orders=self.account.open_orders(), balances=rows, prices={"BTCTRY": Decimal(100)})

    def order(self, cid: str = CID) -> object:
        with self.uow() as session:
            return session.orders.get(ClientOrderId(cid))

    def journal(self, cid: str = CID) -> list[str]:
        with self.uow() as session:
            return [e["event"] for e in session.journal.for_order(ClientOrderId(cid))]

    def fills(self) -> int:
        with self.uow() as session:
            return sum(1 for t in (1, 2, 3) if session.fills.exists(t))


def rig(tmp_path: Path, account: CountingAccount, now: datetime) -> Rig:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine_for(url, 5000)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    clock = ManualClock(now)
    service = ReconcileService(account, uow, clock, UNIVERSE, "TRY", Decimal("1"), GRACE, "UTC",
                               Failpoints.none())
    return Rig(service, uow, account, clock)


def rejected(state: OrderState = S.REJECTED, updated: float = 200) -> object:
    return replace(order(state), created_at=T0, updated_at=at(updated),
                   reject_reason="UNKNOWN" if state is S.REJECTED else None, reject_code=0)


def test_rejected_order_the_exchange_filled_is_corrected_and_its_fills_booked_once(tmp_path: Path) -> None:
    row = xorder(V.CLOSED, left=Decimal(0))
    fills = [fill("0.6", trade_id=1, ts=10), fill("0.4", trade_id=2, ts=11)]
    r = rig(tmp_path, CountingAccount(history=[row], fills=fills), at(600))
    r.add(rejected())
    r.fund("TRY", "1000")

    first = r.service.sync(1, r.view())

    o = r.order()
    assert (o.state, o.exchange_order_id, o.filled_quantity) == (S.FILLED, 5001, Decimal("1.0"))  # type: ignore[attr-defined]
    assert r.journal() == ["corrected_by_exchange", "fill", "fill"]
    assert first.applied_fills == 2 and not first.requires_reducing
    assert first.report.of_kind(OrderConflict) == ()
    second = r.service.sync(2, r.view())
    assert second.applied_fills == 0 and r.fills() == 2
    assert r.journal() == ["corrected_by_exchange", "fill", "fill"]


def test_not_placed_order_resting_on_the_exchange_becomes_open(tmp_path: Path) -> None:
    r = rig(tmp_path, CountingAccount(open_rows=[xorder(V.UNTOUCHED, exchange_order_id=7001)]), at(600))
    r.add(rejected(S.NOT_PLACED))

    result = r.service.sync(1, r.view())

    o = r.order()
    assert (o.state, o.exchange_order_id) == (S.OPEN, 7001)  # type: ignore[attr-defined]
    assert not result.requires_reducing and r.journal() == ["corrected_by_exchange", "exchange_state"]


def test_order_of_ours_without_a_local_record_is_adopted_in_a_cycle(tmp_path: Path) -> None:
    cid = make_client_order_id("s1", 9, "BTCTRY", Side.BUY, "lost")
    row = xorder(V.CLOSED, exchange_order_id=8001, client_order_id=cid, left=Decimal(0))
    account = CountingAccount(open_rows=[xorder(V.UNTOUCHED, exchange_order_id=8002, client_order_id=cid)],
                              history=[row], fills=[fill("1.0", trade_id=3, order_id=8001, client_order_id=cid)])
    r = rig(tmp_path, account, at(600))
    # Only the open row is visible to a cycle without history: adopt it, nothing for an operator.
    account.history = []
    result = r.service.sync(1, r.view())
    assert not result.requires_reducing
    adopted = r.order(cid)
    assert (adopted.state, adopted.exchange_order_id) == (S.OPEN, 8002)  # type: ignore[attr-defined]
    assert r.journal(cid) == ["adopted"]


def test_order_adopted_from_history_books_its_fills(tmp_path: Path) -> None:
    cid = make_client_order_id("s1", 9, "BTCTRY", Side.BUY, "lost")
    row = xorder(V.CLOSED, exchange_order_id=8001, client_order_id=cid, left=Decimal(0))
    account = CountingAccount(history=[row], fills=[fill("1.0", trade_id=3, order_id=8001, client_order_id=cid)])
    r = rig(tmp_path, account, at(600))
    r.fund("TRY", "1000")
    r.add(replace(order(S.UNKNOWN), created_at=at(500), updated_at=at(590)))  # makes the cycle read BTCTRY history
    result = r.service.sync(1, r.view())
    assert not result.requires_reducing
    adopted = r.order(cid)
    assert (adopted.state, adopted.filled_quantity) == (S.FILLED, Decimal("1.0"))  # type: ignore[attr-defined]
    assert r.journal(cid) == ["adopted", "late_fill"]


def test_a_rejected_order_is_looked_for_during_its_watch_window_only(tmp_path: Path) -> None:
    r = rig(tmp_path, CountingAccount(), at(200 + NEVER_PLACED_WATCH_S - 1))
    r.add(rejected())
    r.service.sync(1, r.view())
    assert r.account.calls["all_orders BTCTRY"] == 1
    r.clock.set(at(200 + NEVER_PLACED_WATCH_S + 10))
    r.service.sync(2, r.view())
    assert r.account.calls["all_orders BTCTRY"] == 1  # an idle cycle after the window costs nothing


def test_an_old_rejected_order_is_looked_up_when_a_shortfall_touches_its_assets(tmp_path: Path) -> None:
    row = xorder(V.CLOSED, left=Decimal(0))
    r = rig(tmp_path, CountingAccount(history=[row], fills=[fill("1.0", trade_id=1)]), at(200 + 10 * NEVER_PLACED_WATCH_S))
    r.add(rejected())
    r.fund("TRY", "1000")
    # The exchange spent 100.12 TRY on the order and holds the BTC: a shortfall in TRY.
    result = r.service.sync(1, r.view({"TRY": "899.88", "BTC": "1.0"}))
    assert r.account.calls["all_orders BTCTRY"] == 1
    assert r.order().state is S.FILLED  # type: ignore[attr-defined]
    assert result.report.of_kind(BalanceDrift) == () and not result.blocks_new_risk


def test_an_unexplained_shortfall_blocks_new_risk_in_the_pass_that_sees_it(tmp_path: Path) -> None:
    r = rig(tmp_path, CountingAccount(), at(600))
    r.fund("TRY", "1000")
    first = r.service.sync(1, r.view({"TRY": "500"}))
    assert first.blocks_new_risk and not first.requires_reducing  # REDUCING only if it persists
    second = r.service.sync(2, r.view({"TRY": "500"}))
    assert second.blocks_new_risk and second.requires_reducing
    clean = r.service.sync(3, r.view({"TRY": "1000"}))
    assert not clean.blocks_new_risk


def test_an_order_in_flight_explains_a_shortfall_only_up_to_what_it_could_spend(tmp_path: Path) -> None:
    r = rig(tmp_path, CountingAccount(), at(100))
    r.fund("TRY", "1000")
    eth_buy = replace(order(S.UNKNOWN), client_order_id=make_client_order_id("s1", 1, "ETHTRY", Side.BUY, "x"),
                      symbol=Symbol("ETHTRY"), quantity=Decimal("1"), price=Decimal("100"), created_at=at(90),
                      updated_at=at(90))
    r.add(eth_buy)
    explained = r.service.sync(1, r.view({"TRY": "900"}))  # the ETH buy may have spent 100 TRY
    assert explained.report.of_kind(BalanceDrift) == () and not explained.blocks_new_risk
    beyond = r.service.sync(2, r.view({"TRY": "500"}))  # it cannot have spent 500
    assert [d.asset for d in beyond.report.of_kind(BalanceDrift)] == ["TRY"] and beyond.blocks_new_risk
