"""The pieces of the random-fault soak (acceptance 3): a fault schedule, a recording wrapper
around the risk engine, and the invariant checks run after every cycle.

Invariants:
- no order outside the universe ever reaches the exchange, and every out-of-universe intent is
  denied with RISK_SYMBOL_NOT_ALLOWED;
- the buys approved in one batch, booked together on the cycle's view, break no cap of the
  policy the engine computed for that view (asset caps, portfolio cap, reserve + fee buffer);
- after every cycle that booked a BUY fill, the portfolio (held + resting buys) valued at the
  marks of the approving cycle is within that cycle's asset and portfolio caps, and free cash is
  not below that cycle's reserve C_res.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.contracts.risk import PostTradeResult, RiskManager
from btcbot.domain.enums import Side
from btcbot.domain.intents import Approved, DecisionCode, Denied, OrderIntent, RiskDecision
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.risk.capital_policy import CapitalPolicySnapshot, estimated_fee
from btcbot.sim.admin_client import SimAdmin
from btcbot.sim.testing import SimHandle

ROUTES_READ = (
    "GET /api/v2/ticker",
    "GET /api/v1/users/balances",
    "GET /api/v1/openorders",
    "GET /api/v1/allorders",
    "GET /api/v1/users/transactions/trade",
    "GET /api/v1/order/*",
    "GET /v1/klines/history",
)
ROUTES_WRITE = ("POST /api/v1/order", "DELETE /api/v1/order")


@dataclass(frozen=True)
class Approval:
    cycle_id: int
    now: datetime
    view: PortfolioView
    policy: CapitalPolicySnapshot
    intents: tuple[OrderIntent, ...]
    decisions: tuple[RiskDecision, ...]


class RecordingRisk:
    """The real risk engine, recording what it saw and decided (for the invariant checks)."""

    def __init__(self, inner: RiskManager, current_cycle: Callable[[], int]) -> None:
        self.inner = inner
        self._current_cycle = current_cycle
        self.approvals: dict[int, Approval] = {}

    def policy(self, view: PortfolioView, now: datetime) -> CapitalPolicySnapshot:
        return self.inner.policy(view, now)

    def pre_trade(self, intents: Sequence[OrderIntent], view: PortfolioView, now: datetime) -> list[RiskDecision]:
        decisions = self.inner.pre_trade(intents, view, now)
        cycle_id = self._current_cycle()
        self.approvals[cycle_id] = Approval(cycle_id, now, view, self.inner.policy(view, now), tuple(intents),
                                            tuple(decisions))
        return decisions

    def post_trade(self, view: PortfolioView, now: datetime) -> PostTradeResult:
        return self.inner.post_trade(view, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def batch_violations(approval: Approval, universe: Sequence[str], taker_fee_bps: Decimal,
                     fee_tax_ratio: Decimal) -> list[str]:
    """Caps broken by the approved batch booked on the approval's view."""
    problems: list[str] = []
    after = approval.view
    bought = False
    for decision in approval.decisions:
        intent = decision.intent
        if intent.symbol not in universe:
            if not (isinstance(decision, Denied) and decision.code is DecisionCode.RISK_SYMBOL_NOT_ALLOWED):
                problems.append(f"cycle {approval.cycle_id}: {intent.symbol} outside the universe not denied")
            continue
        if not isinstance(decision, Approved):
            continue
        price = intent.price_for_notional
        if intent.side is Side.BUY:
            bought = True
            fee = estimated_fee(intent.quantity * price, taker_fee_bps, fee_tax_ratio)
            after = after.with_trade(intent.symbol, Side.BUY, intent.quantity, price, fee)
        else:
            after = after.with_sell_reserved(intent.symbol, intent.quantity)
    if bought:
        problems += cap_violations(after, approval.policy, universe, f"cycle {approval.cycle_id} batch")
    return problems


def cap_violations(view: PortfolioView, policy: CapitalPolicySnapshot, universe: Sequence[str], label: str) -> list[str]:
    problems = []
    for symbol in universe:
        cap = policy.asset_caps.get(symbol, Decimal(0))
        if view.notional(symbol) > cap:
            problems.append(f"{label}: {symbol} notional {view.notional(symbol)} > asset cap {cap}")
    if view.gross_notional() > policy.portfolio_cap:
        problems.append(f"{label}: gross {view.gross_notional()} > portfolio cap {policy.portfolio_cap}")
    if view.cash_free < policy.c_res:
        problems.append(f"{label}: free cash {view.cash_free} < reserve C_res {policy.c_res}")
    return problems


@dataclass
class FaultSchedule:
    """Per cycle, a seeded draw of simulator faults; maintenance and stale-ticker windows span
    several cycles. ``log`` counts what was injected (for the test's own sanity checks)."""

    rng: random.Random
    maintenance_left: int = 0
    stale_left: int = 0
    log: dict[str, int] = field(default_factory=dict)

    def _count(self, kind: str) -> None:
        self.log[kind] = self.log.get(kind, 0) + 1

    def apply(self, admin: SimAdmin) -> None:
        admin.clear_faults()
        rng = self.rng
        if self.maintenance_left == 0 and rng.random() < 0.02:
            self.maintenance_left = rng.randint(1, 4)
        if self.maintenance_left > 0:
            self.maintenance_left -= 1
            self._count("maintenance")
            route = rng.choice(["*", "POST /api/v1/order", "DELETE /api/v1/order"])
            message = {"*": "SYSTEM_UNDER_MAINTENANCE", "POST /api/v1/order": "ORDER_INSERT_BLOCKED",
                       "DELETE /api/v1/order": "ORDER_CANCEL_BLOCKED"}[route]
            admin.set_fault(route, kind="maintenance", message=message)
        if self.stale_left == 0 and rng.random() < 0.04:
            self.stale_left = rng.randint(1, 3)
        if self.stale_left > 0:
            self.stale_left -= 1
            self._count("stale_ticker")
            admin.set_fault("GET /api/v2/ticker", kind="stale_ticker", seconds=rng.choice([300, 900, 3600]))
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            kind = rng.choice(["error", "error", "rate_limit", "timeout", "timeout", "ghost", "visibility_delay"])
            self._count(kind)
            if kind == "error":
                admin.set_fault(rng.choice(ROUTES_READ + ROUTES_WRITE), kind="error",
                                status=rng.choice([500, 502, 503, 504]), probability=0.5)
            elif kind == "rate_limit":
                admin.set_fault(rng.choice(ROUTES_READ + ROUTES_WRITE), kind="rate_limit",
                                seconds=rng.choice([1, 2, 5]), count=1)
            elif kind == "timeout":
                admin.set_fault(rng.choice(ROUTES_READ + ROUTES_WRITE), kind="timeout", seconds=0,
                                process=rng.random() < 0.5, count=1)
            elif kind == "ghost":
                admin.set_fault("POST /api/v1/order", kind="ghost", count=1)
            else:
                admin.set_fault("POST /api/v1/order", kind="visibility_delay", seconds=rng.choice([5, 20, 60]),
                                count=rng.randint(1, 3))


@dataclass
class MutationSchedule:
    """Issue 11's reply-mutation schedule: per cycle and private route, with probability
    ``rates[route]``, arm one ``mutate`` fault (``count=1``) unless one is still waiting for a call
    of that route. The reply class is the next of a seeded per-route shuffle of every class that
    fits the route, so every (route, class) pair comes up early and then evenly; the request takes
    effect on the simulator and the bot gets that reply. ``armed`` counts what was armed (the
    simulator's counters say what actually fired)."""

    rng: random.Random
    rates: dict[str, float]
    hang_s: float
    #: Chance per cycle of a stale-ticker window (1-2 cycles of safe mode, in which the bot
    #: cancels its resting buys, so DELETE /api/v1/order is exercised too); 0 = none.
    stale_rate: float = 0.0
    armed: dict[str, int] = field(default_factory=dict)
    stale_cycles: int = 0
    _stale_left: int = 0
    _queues: dict[str, list[str]] = field(default_factory=dict)

    def _next_class(self, route: str) -> str:
        from btcbot.sim.mutation import REPLY_CLASSES, applicable

        queue = self._queues.get(route)
        if not queue:
            method, template = route.split(" ", 1)
            queue = list(applicable(method, template, tuple(REPLY_CLASSES)))
            self.rng.shuffle(queue)
            self._queues[route] = queue
        return queue.pop()

    def apply(self, sim: SimHandle) -> None:
        from btcbot.sim.faults import FaultSpec

        waiting = {f["route"] for f in sim.app.faults.describe() if f["kind"] == "mutate"}
        sim.app.faults.remove_kind("stale_ticker")
        if self._stale_left == 0 and self.stale_rate > 0 and self.rng.random() < self.stale_rate:
            self._stale_left = self.rng.randint(1, 2)
        if self._stale_left > 0:
            self._stale_left -= 1
            self.stale_cycles += 1
            sim.app.faults.add("GET /api/v2/ticker", FaultSpec(kind="stale_ticker", seconds=900))
        for route, rate in self.rates.items():
            if route.lower() in waiting or self.rng.random() >= rate:
                continue
            reply = self._next_class(route)
            self.armed[reply] = self.armed.get(reply, 0) + 1
            sim.app.faults.add(route, FaultSpec(kind="mutate", reply=reply, count=1, seconds=self.hang_s))
