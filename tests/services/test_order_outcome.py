"""Issue 11, "Why" bullet 1: an order POST that BTC Turk carries out but answers with HTTP 200
``{"success": false, "code": 0}`` was booked REJECTED and never looked up; so was a reply with
only rate-limit words or only a bad-key code or message.

Here the simulator really carries the request out and the client's session then replaces the
answer (what a proxy or a confused venue does). The order must be UNKNOWN, never resent, and the
next reconcile must find it by its client id and track it. A cancel with such an answer is
"cancel outcome unknown": the order keeps its state until the exchange shows it canceled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from pydantic import SecretStr

from btcbot.adapters.btcturk.client import BtcTurkClient
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.secrets import Credentials
from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.intents import Approved, OrderIntent
from btcbot.domain.orders import ManagedOrder
from btcbot.failpoints import Failpoints
from btcbot.persistence.fake import FakeStore, FakeUnitOfWork
from btcbot.services.order_service import OrderService
from btcbot.services.reconcile_service import ExchangeView, ReconcileService
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator

SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


class MutatingSession(requests.Session):
    """Every request really reaches the simulator; the answers of the next ``count`` requests to
    ``method path`` are then replaced by ``status`` + ``body``."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.rule: tuple[str, str, int, bytes] | None = None
        self.remaining = 0

    def mutate(self, method: str, path: str, status: int, body: Any, count: int = 1) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.rule, self.remaining = (method, path, status, raw), count

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if self.rule is not None and self.remaining > 0:
            m, path, status, raw = self.rule
            if str(method).upper() == m and urlparse(str(url)).path == path:
                self.remaining -= 1
                response.status_code = status
                response._content = raw
        return response


@dataclass
class Rig:
    sim: SimHandle
    client: BtcTurkClient
    session: MutatingSession
    store: FakeStore
    service: OrderService
    reconciler: ReconcileService

    def order(self, cid: str) -> ManagedOrder:
        return self.store.orders[cid]

    def reconcile(self, cycle_id: int) -> None:
        prices = {t.symbol: t.last for t in self.client.tickers() if t.symbol in SYMBOLS}
        view = ExchangeView(open_orders=self.client.open_orders(), balances=self.client.balances(), prices=prices)
        self.reconciler.sync(cycle_id, view)

    def posts(self) -> int:
        return sum(1 for r in self.sim.state()["request_log"] if r["method"] == "POST" and r["path"] == "/api/v1/order")


@pytest.fixture
def rig() -> Iterator[Rig]:
    config = SimConfig(seed=11, balances={"TRY": Decimal("1000000")}, symbols=SYMBOLS)
    with running_simulator(config) as sim:
        clock = SimLinkedClock(sim)
        session = MutatingSession()
        client = BtcTurkClient(
            base_url=sim.base_url, graph_url=sim.graph_url,
            credentials=Credentials(api_key=sim.api_key, api_secret=SecretStr(sim.api_secret)),
            clock=clock, resilience=ResilienceSettings(), timeout_s=10.0, session=session,
        )  # fmt: skip
        store = FakeStore()

        def uow() -> FakeUnitOfWork:
            return FakeUnitOfWork(store)

        rules = {r.symbol: r for r in client.exchange_info() if r.symbol in SYMBOLS}
        service = OrderService(client, uow, clock, rules, Failpoints.none(), Decimal("0.05"),
                               Decimal("0.002"), Decimal("0.2"))  # fmt: skip
        reconciler = ReconcileService(client, uow, clock, SYMBOLS, "TRY", Decimal("1"), 60.0, "UTC",
                                      Failpoints.none())  # fmt: skip
        yield Rig(sim, client, session, store, service, reconciler)


def resting_buy(rig: Rig) -> Approved:
    """A limit BUY 5 % under the best bid: it rests on the book."""
    bid = rig.client.order_book("BTCTRY", limit=1).bids[0].price
    price = (bid * Decimal("0.95")).quantize(Decimal(1))
    qty = (Decimal("2000") / price).quantize(Decimal("0.00000001"))
    intent = OrderIntent("s1", "BTCTRY", Side.BUY, OrderType.LIMIT, qty, price, Decimal(50), limit_price=price)
    return Approved(intent, intent, risk_increasing=True)


NOT_FINAL_SUBMIT_ANSWERS = {
    "200 success:false code 0": (200, {"success": False, "message": "FAILED", "code": 0}),
    "200 success:false no message": (200, {"success": False, "message": None, "code": 0}),
    "400 only rate-limit words": (400, {"success": False, "message": "Quota exceeded. Maximum allowed: 10 per 1s.", "code": 0}),
    "400 only a bad-key message": (400, {"success": False, "message": "Invalid Public key", "code": 0}),
    "400 only a bad-key code": (400, {"success": False, "code": 1037}),
}


@pytest.mark.parametrize("answer", list(NOT_FINAL_SUBMIT_ANSWERS), ids=list(NOT_FINAL_SUBMIT_ANSWERS))
def test_a_carried_out_post_with_a_non_final_answer_is_unknown_then_found(rig: Rig, answer: str) -> None:
    status, body = NOT_FINAL_SUBMIT_ANSWERS[answer]
    rig.session.mutate("POST", "/api/v1/order", status, body)
    outcome = rig.service.submit(resting_buy(rig), 1)
    assert outcome.state is OrderState.UNKNOWN, f"{answer} was booked {outcome.state}"
    cid = outcome.client_order_id
    assert cid is not None and rig.order(cid).state is OrderState.UNKNOWN
    on_exchange = [o for o in rig.client.open_orders("BTCTRY") if o.client_order_id == cid]
    assert len(on_exchange) == 1, "the simulator did place the order"

    rig.reconcile(2)
    found = rig.order(cid)
    assert found.state is OrderState.OPEN
    assert found.exchange_order_id == on_exchange[0].exchange_order_id
    assert rig.posts() == 1, "an unknown order is looked up, never resent"


def test_a_documented_rejection_is_still_final(rig: Rig) -> None:
    rig.sim.admin.set_balance("TRY", Decimal("100"))
    outcome = rig.service.submit(resting_buy(rig), 1)
    assert outcome.state is OrderState.REJECTED
    assert outcome.detail in ("BALANCE_NOT_ENOUGH", "FAILED_ORDER_WITH_OPEN_ORDERS")


def test_a_cancel_with_a_non_final_answer_leaves_the_state_to_the_lookup(rig: Rig) -> None:
    outcome = rig.service.submit(resting_buy(rig), 1)
    assert outcome.state is OrderState.OPEN and outcome.client_order_id is not None
    cid = outcome.client_order_id
    rig.session.mutate("DELETE", "/api/v1/order", 200, {"success": False, "message": None, "code": 0})
    assert rig.service.cancel(rig.order(cid), 2) is False
    assert rig.order(cid).state is OrderState.OPEN  # neither "cancel requested" nor "refused"
    with FakeUnitOfWork(rig.store) as uow:
        events = [e["event"] for e in uow.journal.for_order(cid)]
    assert events[-1] == "cancel_outcome_unknown"
    rig.sim.admin.advance(5)  # the cancel did happen on the exchange (asynchronously)
    rig.reconcile(3)
    assert rig.order(cid).state is OrderState.CANCELED
