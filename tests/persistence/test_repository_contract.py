"""One contract for every UnitOfWork: SQL on SQLite, SQL on PostgreSQL, and the in-memory fake."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.contracts.records import BreakerRecord, OutboxStatus
from btcbot.domain.enums import OrderState, Side, TradingState
from btcbot.domain.errors import InvariantViolation
from btcbot.domain.ids import ClientOrderId
from btcbot.domain.ledger import Account, Posting, genesis_postings, harvest_transfer, postings_for_fill

from .conftest import UowFactory
from .factories import T0, fill, later, order, snapshot


def test_orders_round_trip_update_and_queries(uow_factory: UowFactory) -> None:
    planned = order("c-1")
    opened = order("c-2", OrderState.OPEN, exchange_order_id=2**40 + 7, side=Side.SELL, risk_increasing=False)
    filled = order("c-3", OrderState.FILLED, exchange_order_id=55)
    with uow_factory() as uow:
        for o in (planned, opened, filled):
            uow.orders.add(o)
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.get(ClientOrderId("c-1")) == planned
        assert uow.orders.get(ClientOrderId("nope")) is None
        assert uow.orders.get_by_exchange_id(2**40 + 7) == opened
        assert [o.client_order_id for o in uow.orders.list_non_terminal()] == ["c-1", "c-2"]
        assert [o.client_order_id for o in uow.orders.list_recent(2)] == ["c-3", "c-2"]
        moved = planned.transition(OrderState.SUBMITTING, later(1)).transition(
            OrderState.REJECTED, later(2), reject_reason="BALANCE_NOT_ENOUGH", reject_code=1055
        )
        uow.orders.update(moved)
        uow.commit()
    with uow_factory() as uow:
        got = uow.orders.get(ClientOrderId("c-1"))
        assert got == moved
        assert got is not None and got.updated_at == later(2)
        assert [o.client_order_id for o in uow.orders.list_non_terminal()] == ["c-2"]


def test_duplicate_order_and_unknown_update_are_refused(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.orders.add(order("c-1"))
        with pytest.raises(InvariantViolation):
            uow.orders.add(order("c-1"))
        with pytest.raises(InvariantViolation):
            uow.orders.update(order("c-9"))


def test_market_buy_quote_amount_and_fill_totals_are_exact(uow_factory: UowFactory) -> None:
    from btcbot.domain.enums import OrderType

    o = order(
        "c-m",
        OrderState.PARTIALLY_FILLED,
        order_type=OrderType.MARKET,
        price=None,
        quote_amount=Decimal("1000.00"),
        filled_quantity=Decimal("0.0000000000000001"),
        filled_quote=Decimal("123456789012.123456789"),
        fees_paid=Decimal("0.01"),
    )
    with uow_factory() as uow:
        uow.orders.add(o)
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.get(ClientOrderId("c-m")) == o


def test_rollback_unless_committed(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.orders.add(order("c-1"))
        uow.fills.add_if_new(fill(1), cycle_id=1)
        uow.ledger.post(genesis_postings("TRY", Decimal(100), "seed"), T0)
        uow.meta.set("k", "v")
        uow.cycles.next_cycle_id()
    with uow_factory() as uow:
        assert uow.orders.get(ClientOrderId("c-1")) is None
        assert not uow.fills.exists(1)
        assert uow.ledger.wallet_balances() == {}
        assert uow.meta.get("k") is None
        assert uow.cycles.next_cycle_id() == 1


def test_exception_inside_the_block_rolls_back(uow_factory: UowFactory) -> None:
    with pytest.raises(RuntimeError), uow_factory() as uow:
        uow.orders.add(order("c-1"))
        raise RuntimeError("boom")
    with uow_factory() as uow:
        assert uow.orders.get(ClientOrderId("c-1")) is None


def test_explicit_rollback_discards_uncommitted_work(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.orders.add(order("c-1"))
        uow.commit()
        uow.orders.add(order("c-2"))
        uow.rollback()
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.get(ClientOrderId("c-1")) is not None
        assert uow.orders.get(ClientOrderId("c-2")) is None


def test_journal_appends_with_exact_json_payload(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.journal.append("c-1", 3, "PLANNED", "SUBMITTING", "submit", None, T0)
        uow.journal.append(
            "c-1", 3, "SUBMITTING", "OPEN", "ack", {"id": 12, "price": Decimal("2500000.10"), "at": T0}, later(1)
        )
        uow.journal.append("c-2", 3, None, "PLANNED", "plan", {}, later(2))
        uow.commit()
    with uow_factory() as uow:
        events = uow.journal.for_order(ClientOrderId("c-1"))
    assert [e["event"] for e in events] == ["submit", "ack"]
    assert events[0]["payload"] is None
    assert events[1]["payload"] == {"id": 12, "price": "2500000.10", "at": T0.isoformat()}
    assert events[1]["at"] == later(1) and events[1]["from_state"] == "SUBMITTING"


def test_fills_are_stored_once_by_trade_id(uow_factory: UowFactory) -> None:
    big = 2**53 + 11
    with uow_factory() as uow:
        assert uow.fills.add_if_new(fill(big), cycle_id=1) is True
        assert uow.fills.add_if_new(fill(big), cycle_id=1) is False
        uow.commit()
    with uow_factory() as uow:
        assert uow.fills.exists(big)
        assert uow.fills.add_if_new(fill(big), cycle_id=2) is False
        assert uow.fills.add_if_new(fill(2), cycle_id=2) is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.fills.for_order(900) == [fill(2), fill(big)]


def test_ledger_posts_balances_and_checks(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        b1 = uow.ledger.post(genesis_postings("TRY", Decimal("10000"), "starting capital"), T0, cycle_id=1)
        b2 = uow.ledger.post(postings_for_fill(fill(1), "BTC", "TRY"), later(1), cycle_id=1)
        assert b2 > b1
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.wallet_balances() == {"TRY": Decimal("7495.50"), "BTC": Decimal("0.001")}
        assert uow.ledger.balance(Account.FEES, "TRY") == Decimal("3.75")
        assert uow.ledger.balance(Account.TAXES, "TRY") == Decimal("0.75")
        assert uow.ledger.balance(Account.MARKET, "BTC") == Decimal("-0.001")
        assert uow.ledger.balance(Account.EXTERNAL, "TRY") == Decimal("-10000")
        assert uow.ledger.balance(Account.WALLET, "ETH") == 0
        assert uow.ledger.check_invariants() == []
        entries = uow.ledger.entries("trade:1")
        assert len(entries) == 8 and {e.batch_id for e in entries} == {b2}
        assert sum(e.amount for e in entries if e.asset == "TRY") == 0
        uow.ledger.post(harvest_transfer("TRY", Decimal("495.5")), later(2))
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.balance(Account.RESERVE, "TRY") == Decimal("495.5")
        assert uow.ledger.wallet_balances()["TRY"] == Decimal("7000.00")


def test_ledger_refuses_bad_batches_and_negative_wallet(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.ledger.post(genesis_postings("TRY", Decimal("100"), "seed"), T0)
        with pytest.raises(InvariantViolation, match="balance"):
            uow.ledger.post([Posting("TRY", Account.WALLET, Decimal(1), "x")], T0)
        with pytest.raises(InvariantViolation, match="reason"):
            uow.ledger.post(
                [Posting("TRY", Account.WALLET, Decimal(1), "x"), Posting("TRY", Account.EXTERNAL, Decimal(-1), "x")],
                T0,
            )
        with pytest.raises(InvariantViolation, match="negative"):
            uow.ledger.post(postings_for_fill(fill(1), "BTC", "TRY"), T0)  # costs 2504.50 > 100
        with pytest.raises(InvariantViolation, match="negative"):
            uow.ledger.post(postings_for_fill(fill(2, Side.SELL), "BTC", "TRY"), T0)  # no BTC held
        uow.commit()
    with uow_factory() as uow:
        assert uow.ledger.wallet_balances() == {"TRY": Decimal(100)}
        assert uow.ledger.check_invariants() == []


def test_cycles_ids_increase_and_records_round_trip(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        first = uow.cycles.next_cycle_id()
        uow.cycles.start(first, T0, settings_hash="abc")
        uow.commit()
    with uow_factory() as uow:
        second = uow.cycles.next_cycle_id()
        assert second > first
        uow.cycles.finish(first, later(3), "ok", safe_mode=True, exit_code=3, requests=17)
        uow.cycles.store_inputs(first, '{"tickers":[]}')
        uow.commit()
    with uow_factory() as uow:
        assert uow.cycles.next_cycle_id() == second + 1
        rec = uow.cycles.get(first)
        assert rec is not None
        assert (rec.started_at, rec.finished_at, rec.outcome, rec.safe_mode, rec.exit_code, rec.requests) == (
            T0,
            later(3),
            "ok",
            True,
            3,
            17,
        )
        assert rec.decision_inputs == '{"tickers":[]}' and rec.settings_hash == "abc"
        assert uow.cycles.get(999) is None
        with pytest.raises(InvariantViolation):
            uow.cycles.finish(999, T0, "ok")


def test_cycle_finish_stores_the_decision_inputs_with_it(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        first, second = uow.cycles.next_cycle_id(), uow.cycles.next_cycle_id()
        uow.cycles.start(first, T0)
        uow.cycles.start(second, T0)
        uow.cycles.store_inputs(second, '{"kept":true}')
        uow.cycles.finish(first, later(1), "ok", requests=3, decision_inputs='{"tickers":[1]}')
        uow.cycles.finish(second, later(2), "safe_mode", safe_mode=True, exit_code=3)  # none given: kept
        uow.commit()
    with uow_factory() as uow:
        one, two = uow.cycles.get(first), uow.cycles.get(second)
        assert one is not None and two is not None
        assert (one.finished_at, one.outcome, one.requests, one.decision_inputs) == (
            later(1), "ok", 3, '{"tickers":[1]}')
        assert (two.finished_at, two.outcome, two.safe_mode, two.decision_inputs) == (
            later(2), "safe_mode", True, '{"kept":true}')


def test_snapshots_latest(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.snapshots.latest() is None
        uow.snapshots.save(snapshot(1, "10000"))
        uow.snapshots.save(snapshot(2, "10001.0000000000000001", at=later(60)))
        uow.commit()
    with uow_factory() as uow:
        assert uow.snapshots.latest() == snapshot(2, "10001.0000000000000001", at=later(60))


def test_outbox_lifecycle(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        a = uow.outbox.add("submit_order", "c-1", {"qty": Decimal("0.1")}, T0)
        b = uow.outbox.add("alert", "alert-1", {"text": "hi"}, T0)
        assert uow.outbox.add("submit_order", "c-1", {"qty": Decimal("9")}, later(1)) == a
        uow.commit()
    with uow_factory() as uow:
        assert [i.key for i in uow.outbox.pending()] == ["c-1", "alert-1"]
        assert [i.id for i in uow.outbox.pending("alert")] == [b]
        assert uow.outbox.pending()[0].payload == '{"qty":"0.1"}'
        assert uow.outbox.record_attempt(a) == 1
        assert uow.outbox.record_attempt(a) == 2
        uow.outbox.mark_done(a, later(5))
        uow.outbox.mark_failed(b, later(6))
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.pending() == []
        item = uow.outbox.get(a)
        assert item is not None
        assert (item.status, item.attempts, item.done_at) == (OutboxStatus.DONE, 2, later(5))
        failed = uow.outbox.get(b)
        assert failed is not None and failed.status is OutboxStatus.FAILED
        with pytest.raises(InvariantViolation):
            uow.outbox.mark_done(12345, T0)


def test_trading_state_persists_and_is_journaled(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        state, reason, _since = uow.trading_state.get()
        assert state is TradingState.ACTIVE and reason
        uow.trading_state.set(TradingState.REDUCING, "drift on BTC", later(1), cycle_id=4)
        uow.commit()
    with uow_factory() as uow:
        rec = uow.trading_state.get()
        assert rec == (TradingState.REDUCING, "drift on BTC", later(1))
        uow.trading_state.set(TradingState.HALTED, "manual halt", later(2))
        uow.commit()
    with uow_factory() as uow:
        assert uow.trading_state.get().state is TradingState.HALTED


def test_breakers_and_meta(uow_factory: UowFactory) -> None:
    orders = BreakerRecord("orders", "open", 5, T0, 0)
    with uow_factory() as uow:
        assert uow.breakers.load() == []
        uow.breakers.save(orders)
        uow.breakers.save(BreakerRecord("account", "closed", 0, None, 0))
        uow.meta.set("genesis_done", "yes")
        uow.commit()
    with uow_factory() as uow:
        assert [b.group for b in uow.breakers.load()] == ["account", "orders"]
        assert uow.breakers.load()[1] == orders
        uow.breakers.save(BreakerRecord("orders", "half_open", 5, T0, 1))
        uow.meta.set("genesis_done", "again")
        uow.commit()
    with uow_factory() as uow:
        assert uow.breakers.load()[1].state == "half_open"
        assert uow.meta.get("genesis_done") == "again"
        assert uow.meta.get("missing") is None
