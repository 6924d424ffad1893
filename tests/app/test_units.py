"""Unit tests of the app layer's small pure pieces: cadence, error policy, cost basis, open-order
exposure, venue-rules cache round trip."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from btcbot.adapters.clock import ManualClock
from btcbot.app.error_policy import Action, action_for
from btcbot.app.runner import Cadence, StopFlag, run_loop
from btcbot.app.wiring import _rules_from_json, _rules_to_json
from btcbot.domain.enums import OrderState, OrderType, Side
from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    CircuitOpen,
    ConfigError,
    ExchangeRejected,
    IllegalTransition,
    LeaseHeld,
    LeaseLost,
    MaintenanceError,
    MalformedPayload,
    RateLimited,
)
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ClientOrderId, ExchangeOrderId, Symbol
from btcbot.domain.market import SymbolRules
from btcbot.domain.orders import ManagedOrder
from btcbot.services.accounting import Position, apply_to_basis
from btcbot.services.portfolio_service import open_order_exposure

D = Decimal
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (ConfigError("x"), Action.EXIT_CONFIG),
        (LeaseHeld("x"), Action.EXIT_LEASE),
        (LeaseLost("x"), Action.HALT_PROCESS),
        (AuthError("x"), Action.HALT),
        (IllegalTransition("x"), Action.HALT),
        (MaintenanceError("x"), Action.SAFE_MODE),
        (CircuitOpen("orders"), Action.SAFE_MODE),
        (RateLimited("x"), Action.SAFE_MODE),
        (MalformedPayload("ticker", "last", "missing"), Action.SAFE_MODE),
        (ExchangeRejected("BALANCE_NOT_ENOUGH", code=1055), Action.RECORD),
        (AmbiguousOutcome("x"), Action.RECORD),
        (ZeroDivisionError(), Action.CRASH),
    ],
)
def test_error_policy_table(error: BaseException, action: Action) -> None:
    assert action_for(error) is action


def test_cadence_skips_missed_slots_and_adds_bounded_jitter() -> None:
    cadence = Cadence(60.0, 2.0, random.Random(1))
    due = cadence.next_due(start=1000.0, now=1000.0 + 150.0)  # slots at 1060, 1120 missed -> 1180
    assert 1180.0 <= due <= 1182.0
    assert Cadence(60.0, 0.0).next_due(1000.0, 1000.0) == 1060.0


def test_run_loop_stops_on_flag_between_cycles() -> None:
    clock = ManualClock(T0)
    stop = StopFlag()
    ran: list[float] = []

    def cycle() -> None:
        ran.append(clock.monotonic())
        if len(ran) == 3:
            stop.request("SIGTERM")

    count = run_loop(cycle, clock, Cadence(10.0, 0.0), stop)
    assert count == 3
    assert [round(t - ran[0]) for t in ran] == [0, 10, 20]  # fixed cadence on the monotonic clock


def _fill(side: Side, qty: str, price: str, fee: str = "0", tax: str = "0") -> Fill:
    return Fill(1, ExchangeOrderId(1), None, Symbol("BTCTRY"), side, D(price), D(qty), D(fee), D(tax), "TRY", T0)


def test_average_cost_basis_and_realized_pnl() -> None:
    pos, realized = apply_to_basis(Position(), _fill(Side.BUY, "2", "100", fee="1", tax="0.2"))
    assert (pos.qty, pos.cost, realized) == (D(2), D("201.2"), D(0))
    pos, realized = apply_to_basis(pos, _fill(Side.SELL, "1", "150", fee="0.5", tax="0.1"))
    # proceeds 150 - 0.6 charges - avg cost 100.6 = 48.8
    assert realized == D("48.8")
    assert (pos.qty, pos.cost) == (D(1), D("100.6"))
    pos, realized = apply_to_basis(pos, _fill(Side.SELL, "1", "90"))
    assert realized == D("-10.6") and pos == Position(D(0), D(0))


def _order(side: Side, otype: OrderType, qty: str, price: str | None, quote: str | None = None,
            filled: str = "0", state: OrderState = OrderState.OPEN) -> ManagedOrder:
    return ManagedOrder(ClientOrderId("c"), 1, "s1", Symbol("BTCTRY"), side, otype, D(qty), None if price is None else D(price),
                        None if quote is None else D(quote), state, T0, T0, filled_quantity=D(filled))


def test_open_order_exposure_counts_unresolved_orders_in_full() -> None:
    orders = [
        _order(Side.BUY, OrderType.LIMIT, "1", "100", filled="0.25"),            # 75 quote left
        _order(Side.BUY, OrderType.MARKET, "0.5", "100", quote="50", state=OrderState.UNKNOWN),
        _order(Side.SELL, OrderType.LIMIT, "2", "110"),
        _order(Side.BUY, OrderType.LIMIT, "9", "100", state=OrderState.FILLED),  # terminal: ignored
    ]
    exposure = open_order_exposure(orders, {"BTCTRY": D(100)}, fee_rate=D("0.01"))
    assert exposure.locked_quote == (D(75) + D(50)) * D("1.01")
    assert exposure.open_buy_qty == {"BTCTRY": D("0.75") + D("0.5")}
    assert exposure.open_sell_qty == {"BTCTRY": D(2)}


def test_venue_rules_cache_round_trips_exactly() -> None:
    rules = {"BTCTRY": SymbolRules("BTCTRY", "BTC", "TRY", "TRADING", 8, 0, False, D("99.91"),
                                   tick_size=D("10"), max_limit_price=D("37541350"))}
    assert _rules_from_json(_rules_to_json(rules)) == rules
