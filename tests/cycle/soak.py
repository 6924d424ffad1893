"""The soak driver of acceptance 3 (see ``test_chaos_soak``): N cycles in-process against the
simulator with an optional seeded fault schedule, the invariant checks of ``cycle.chaos`` after
every cycle, then a clean settle and a final reconcile plan. Returns everything the tests assert on.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from btcbot.adapters.btcturk.client import build_btcturk_client
from btcbot.app import operations
from btcbot.app.admin import reconcile
from btcbot.app.wiring import breaker_settings
from btcbot.config.secrets import load_credentials
from btcbot.config.settings import load_settings
from btcbot.contracts.risk import RiskManager
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.enums import TradingState
from btcbot.domain.market import Ticker
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.migrations import upgrade
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.services.market_feed import MarketState
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimLinkedClock, running_simulator
from cycle.chaos import Approval, FaultSchedule, RecordingRisk, batch_violations, cap_violations
from cycle.harness import LocalBook, bot_settings, read_book, sqlite_url

INTERVAL_S = 30.0
SEED = 20261125


@dataclass
class SoakReport:
    violations: list[str]
    outcomes: Counter[str]
    state: dict[str, Any]
    book: LocalBook
    plan_rows: list[tuple[str, str, str]]
    final_safe_mode: bool
    fault_log: dict[str, int]
    approvals: dict[int, Approval]
    universe: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def run_soak(
    tmp_path: Path,
    cycles: int,
    faults: bool = True,
    risk: Callable[[RiskManager, Callable[[], int]], RecordingRisk] = RecordingRisk,
) -> SoakReport:
    url = sqlite_url(tmp_path / "soak.db")
    upgrade(url)
    config = SimConfig(seed=SEED % 1000, cancel_delay_s=20.0, rate_limits=True)
    with running_simulator(config) as sim:
        env = bot_settings(
            sim, url,
            BTCBOT_TRADING__STRATEGY="cycle.strategies:ChurnStrategy",
            BTCBOT_TRADING__CANDLE_INTERVAL_S="300",
            BTCBOT_TRADING__UNKNOWN_GRACE_S="120",
            BTCBOT_EXCHANGE__API_TIMEOUT="2",
            BTCBOT_RESILIENCE__BREAKER_COOLDOWN_S="60",
            BTCBOT_RISK__MAX_DAILY_LOSS_PCT="0.5",  # churn fees alone reach 3 %: keep the bot buying
        )
        settings = load_settings(environ=env).settings
        clock = SimLinkedClock(sim)
        exchange = build_btcturk_client(
            settings, load_credentials(settings, required=True), clock, rng=random.Random(SEED),
            breakers=BreakerBoard(breaker_settings(settings)),
        )
        app = operations.start(settings, clock=clock, exchange=exchange, candle_store=MemoryCandleStore())
        try:
            cycle = app.cycle()

            def current_cycle() -> int:
                with app.engine.connect() as conn:
                    return int(conn.execute(text("SELECT max(cycle_id) FROM cycles")).scalar() or 0)

            recorder = risk(cycle.d.risk, current_cycle)
            cycle.d.risk = recorder
            universe = tuple(settings.trading.symbols)
            cap = settings.capital
            schedule = FaultSchedule(random.Random(SEED))
            violations: list[str] = []
            outcomes: Counter[str] = Counter()
            seen_fill = 0
            checked_approvals: set[int] = set()
            crashed = False

            def view_at(prices: dict[str, Any]) -> Any:
                tickers = {s: Ticker(s, p, p, p, p, p, p, p, clock.now()) for s, p in prices.items()}
                market = MarketState(tickers, dict.fromkeys(tickers, 0.0), ())
                return cycle.build_view(market, TradingState.ACTIVE)

            for _ in range(cycles):
                if faults:
                    schedule.apply(sim.admin)
                try:
                    outcome = operations._guarded_cycle(app)
                except Exception as exc:  # the error policy let it through: that IS a finding
                    violations.append(f"unhandled {type(exc).__name__}: {exc}")
                    crashed = True
                else:
                    outcomes["safe_mode" if outcome.safe_mode else "ok"] += 1
                for cycle_id in sorted(set(recorder.approvals) - checked_approvals):
                    checked_approvals.add(cycle_id)
                    violations += batch_violations(recorder.approvals[cycle_id], universe, cap.taker_fee_bps,
                                                   cap.fee_tax_ratio)
                with app.engine.connect() as conn:
                    new_fills = conn.execute(text(
                        "SELECT f.id, o.cycle_id, f.symbol FROM fills f JOIN orders o "
                        "ON o.client_order_id = f.client_order_id WHERE f.id > :seen AND f.side = 'BUY'"
                    ), {"seen": seen_fill}).all()
                    seen_fill = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM fills")).scalar() or 0)
                for approving in sorted({int(r[1]) for r in new_fills}):
                    approval = recorder.approvals.get(approving)
                    if approval is None:
                        violations.append(f"BUY filled for cycle {approving}, which approved nothing")
                        continue
                    outcomes["buy_fill_checks"] += 1
                    violations += cap_violations(view_at(dict(approval.view.prices)), approval.policy, universe,
                                                 f"after fills of cycle {approving}'s buys")
                if crashed:
                    break
                clock.sleep(INTERVAL_S)

            # Faults stop; let grace periods and asynchronous cancels run out, then settle.
            sim.admin.clear_faults()
            final_safe_mode = True
            for _ in range(0 if crashed else 3):
                clock.sleep(200)
                try:
                    final_safe_mode = operations._guarded_cycle(app).safe_mode
                except Exception as exc:
                    violations.append(f"unhandled {type(exc).__name__}: {exc}")
                    break
        finally:
            app.close()
        plan = reconcile(settings, apply=False, reason=None, clock=clock, candle_store=MemoryCandleStore())
        state = sim.state()
        book = read_book(url)
    return SoakReport(violations, outcomes, state, book, plan.rows, final_safe_mode, dict(schedule.log),
                      dict(recorder.approvals), universe)


# --------------------------------------------------------------------------- reply-mutation soak
#: Per private route, the chance per cycle of arming one reply mutation (when none is waiting).
MUTATION_RATES = {
    "POST /api/v1/order": 0.35,
    "DELETE /api/v1/order": 0.5,
    "GET /api/v1/users/balances": 0.12,
    "GET /api/v1/openorders": 0.12,
    "GET /api/v1/allorders": 0.3,
    "GET /api/v1/order/{id}": 0.5,
    "GET /api/v1/users/transactions/trade": 0.12,
}
#: Exchange-side exposure may exceed the approving cycle's asset cap by this much (fill prices
#: differ from the marks the risk engine used); the failure this check is for is ~2x the cap.
CAP_TOLERANCE = Decimal("0.03")
_OPEN = ("Untouched", "Partial")
#: Exchange status -> the local states that are the truth for it once everything has settled.
_FINAL_STATES = {
    "Closed": {"FILLED"},
    "Canceled": {"CANCELED"},
    "Untouched": {"OPEN"},
    "Partial": {"PARTIALLY_FILLED"},
}


@dataclass
class MutationSoakReport:
    cycles: int
    quiet_cycles: int
    seed: int
    violations: list[str]
    outcomes: Counter[str]
    counters: dict[str, Any]
    halts: list[str]
    state: dict[str, Any]
    book: LocalBook
    plan_rows: list[tuple[str, str, str]]
    final_trading_state: str
    armed: dict[str, int]
    elapsed_s: float = 0.0
    #: cycle -> "route class" of every mutated reply in that cycle (for triage)
    cycle_mutations: dict[int, list[str]] = field(default_factory=dict)
    first_reducing_cycle: int | None = None
    stale_cycles: int = 0
    final_reason: str = ""

    def mutations_before(self, cycle: int, span: int = 6) -> dict[int, list[str]]:
        return {n: self.cycle_mutations[n] for n in range(max(1, cycle - span), cycle + 1) if n in self.cycle_mutations}

    def figures(self) -> dict[str, Any]:
        """The figures the script prints and saves (JSON-able)."""
        c = self.counters
        private = int(c["private_requests"])
        replies = {k: v for k, v in sorted(c["replies"].items())}
        called = {r for r, n in c["by_route"].items() if n > 0}
        pairs = {p for p in _route_class_pairs() if p.rsplit(" ", 1)[0] in called}
        covered = {k for k, v in c["route_replies"].items() if v > 0}
        return {
            "cycles": self.cycles,
            "quiet_settle_cycles": self.quiet_cycles,
            "seed": self.seed,
            "requests": int(c["requests"]),
            "private_requests": private,
            "faulted_requests": int(c["faulted"]),
            "faulted_share_of_private_requests": round(c["faulted"] / private, 4) if private else 0.0,
            "faulted_share_of_requests": round(c["faulted"] / c["requests"], 4) if c["requests"] else 0.0,
            "mutated_replies": sum(v for k, v in c["replies"].items() if k != "unchanged"),
            "mutated_share_of_private_requests": (
                round(sum(v for k, v in c["replies"].items() if k != "unchanged") / private, 4) if private else 0.0
            ),
            "stale_ticker_cycles": self.stale_cycles,
            "replies": replies,
            "route_class_pairs_covered": len(covered & pairs),
            "route_class_pairs_total": len(pairs),
            "route_class_pairs_missing": sorted(pairs - covered),
            "private_routes_never_called": sorted(r for r in _private_routes() if r not in called),
            "faulted_by_route": dict(sorted(c["faulted_by_route"].items())),
            "requests_by_route": dict(sorted(c["by_route"].items())),
            "safe_mode_cycles": self.outcomes["safe_mode"],
            "safe_mode_share": round(self.outcomes["safe_mode"] / self.cycles, 4) if self.cycles else 0.0,
            "reducing_cycles": self.outcomes["reducing"],
            "halts": len(self.halts),
            "halt_list": self.halts[:100],
            "exchange_orders": len(self.state["orders"]),
            "exchange_trades": len(self.state["trades"]),
            "final_trading_state": self.final_trading_state,
            "final_trading_state_reason": self.final_reason[:300],
            "first_reducing_cycle": self.first_reducing_cycle,
            "mutations_before_first_reducing": (
                self.mutations_before(self.first_reducing_cycle) if self.first_reducing_cycle else {}
            ),
            "violations": len(self.violations),
            "violation_list": self.violations[:200],
            "elapsed_s": round(self.elapsed_s, 1),
        }


def _private_routes() -> list[str]:
    from btcbot.sim.mutation import PRIVATE_ROUTES

    return [f"{r.split(' ', 1)[0]} {r.split(' ', 1)[1]}" for r in PRIVATE_ROUTES]


def _route_class_pairs() -> set[str]:
    from btcbot.sim.mutation import PRIVATE_ROUTES, REPLY_CLASSES, applicable

    pairs = set()
    for route in PRIVATE_ROUTES:
        method, template = route.split(" ", 1)
        pairs |= {f"{method} {template} {c}" for c in applicable(method, template, tuple(REPLY_CLASSES))}
    return pairs


class ExchangeWatch:
    """Per-cycle checks on the simulator's own books (never the bot's): duplicate client ids,
    exchange orders unknown to the database, and exposure grown beyond the approving asset cap."""

    def __init__(self, sim: Any, universe: tuple[str, ...]) -> None:
        self.sim = sim
        self.universe = universe
        self._seen_orders = 0
        self._client_ids: dict[str, int] = {}
        self._exposure: dict[str, Decimal] = {}

    def check(self, cycle: int, local_ids: set[str], approvals: dict[int, Approval]) -> list[str]:
        problems: list[str] = []
        app = self.sim.app
        with app.lock:
            app.sync()
            orders = list(app.engine.orders.values())[self._seen_orders:]
            self._seen_orders += len(orders)
            open_orders = [o for o in app.engine.orders.values() if o.status in _OPEN]
            totals = {a: app.engine.accounts.balance(a).total for a in app.engine.accounts.assets()}
        for order in orders:
            first = self._client_ids.setdefault(order.client_id, order.id)
            if first != order.id:
                problems.append(f"cycle {cycle}: client id {order.client_id} sent twice (orders {first}, {order.id})")
            if order.client_id not in local_ids:
                problems.append(f"cycle {cycle}: exchange order {order.id} ({order.client_id}) unknown to the database")
        resting: dict[str, Decimal] = {}
        for o in open_orders:
            if o.side == "buy":
                resting[o.symbol] = resting.get(o.symbol, Decimal(0)) + o.left
        for symbol in self.universe:
            base = symbol.removesuffix(QUOTE_ASSET)
            exposure = totals.get(base, Decimal(0)) + resting.get(symbol, Decimal(0))
            grew = exposure > self._exposure.get(symbol, Decimal(0))
            self._exposure[symbol] = exposure
            if not grew:
                continue
            approval = _last_buy_approval(approvals, symbol)
            if approval is None:
                problems.append(f"cycle {cycle}: {symbol} exposure grew to {exposure} without any approved BUY")
                continue
            price = approval.view.prices.get(symbol)
            cap = approval.policy.asset_caps.get(symbol, Decimal(0))
            if price is not None and exposure * price > cap * (1 + CAP_TOLERANCE):
                problems.append(
                    f"cycle {cycle}: exchange {symbol} exposure {exposure} x {price} = {(exposure * price):.2f} "
                    f"> asset cap {cap:.2f} of cycle {approval.cycle_id} (+{CAP_TOLERANCE:%})"
                )
        return problems


QUOTE_ASSET = "TRY"


def _last_buy_approval(approvals: dict[int, Approval], symbol: str) -> Approval | None:
    from btcbot.domain.enums import Side
    from btcbot.domain.intents import Approved

    for cycle_id in sorted(approvals, reverse=True):
        approval = approvals[cycle_id]
        if any(isinstance(d, Approved) and d.intent.symbol == symbol and d.intent.side is Side.BUY
               for d in approval.decisions):
            return approval
    return None


def _trading_state_reason(db_url: str) -> str:
    engine = create_engine_for(db_url, 5000)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT reason FROM trading_state")).scalar() or "")
    finally:
        engine.dispose()


def final_state_violations(state: dict[str, Any], db_url: str) -> list[str]:
    """Every exchange order known to the database with its real final state and filled amount."""
    engine = create_engine_for(db_url, 5000)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT client_order_id, state, exchange_order_id, filled_quantity FROM orders"
            )).all()
            fills = conn.execute(text(
                "SELECT trade_id, price, quantity, fee, tax, at, cycle_id FROM fills"
            )).all()
    finally:
        engine.dispose()
    local = {str(r[0]): (str(r[1]), r[2], Decimal(str(r[3]))) for r in rows}
    filled: Counter[int] = Counter()
    traded: dict[int, Decimal] = {}
    for t in state["trades"]:
        traded[int(t["order_id"])] = traded.get(int(t["order_id"]), Decimal(0)) + Decimal(t["amount"])
        filled[int(t["order_id"])] += 1
    problems = []
    booked = {int(r[0]): r for r in fills}
    for t in state["trades"]:
        fill = booked.get(int(t["id"]))
        if fill is None:
            continue  # reported by consistency_violations
        real = (Decimal(t["price"]), Decimal(t["amount"]), Decimal(t["fee"]), Decimal(t["tax"]))
        mine = tuple(Decimal(str(v)) for v in fill[1:5])
        if mine != real:
            problems.append(
                f"trade {t['id']} (order {t['client_id']}) booked in cycle {fill[6]} as price/qty/fee/tax "
                f"{'/'.join(map(str, mine))}, the exchange has {'/'.join(map(str, real))}"
            )
        at = datetime.fromisoformat(fill[5]) if isinstance(fill[5], str) else fill[5]
        at_ms = int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() * 1000)
        if at_ms != int(t["timestamp_ms"]):
            problems.append(f"trade {t['id']} booked at {at}, the exchange's time is {t['timestamp_ms']} ms")
    for o in state["orders"]:
        row = local.get(o["client_id"])
        if row is None:
            problems.append(f"exchange order {o['id']} ({o['client_id']}, {o['status']}) unknown to the database")
            continue
        local_state, exchange_id, local_filled = row
        expected = set(_FINAL_STATES.get(o["status"], set()))
        if o["status"] == "Closed" and traded.get(o["id"], Decimal(0)) < Decimal(o["amount"] or 0):
            expected.add("CANCELED")  # a market order the 5 % band stopped short of its amount
        if local_state not in expected:
            problems.append(f"order {o['client_id']} is {local_state} locally, {o['status']} on the exchange")
        if exchange_id is not None and int(exchange_id) != o["id"]:
            problems.append(f"order {o['client_id']} points at {exchange_id}, the exchange has {o['id']}")
        if local_filled != traded.get(o["id"], Decimal(0)):
            problems.append(
                f"order {o['client_id']} filled {local_filled} locally, {traded.get(o['id'], Decimal(0))} "
                "on the exchange"
            )
    return problems


def run_mutation_soak(
    tmp_path: Path,
    cycles: int,
    seed: int = SEED,
    quiet_cycles: int = 5,
    rates: dict[str, float] | None = None,
    hang_s: float = 2.5,
    api_timeout_s: float = 2.0,
    progress: Callable[[int, MutationSoakReport | None], None] | None = None,
    risk: Callable[[RiskManager, Callable[[], int]], RecordingRisk] = RecordingRisk,
    wrap_exchange: Callable[[Any], Any] | None = None,
    stale_rate: float = 0.03,
) -> MutationSoakReport:
    """Issue 11's reply-mutation soak: ``cycles`` cycles of the real bot (``btcbot run``'s cycle
    code, in-process) against the simulator with a seeded schedule of reply mutations over every
    private endpoint and reply class; exchange-side checks after every cycle; then faults off,
    ``quiet_cycles`` settle cycles and the end-state checks (no ``reconcile --apply``).

    ``violations`` are broken money-safety invariants and exceptions that escaped the error
    policy; a HALT (the error policy's own answer, e.g. to a 401) is listed in ``halts`` instead,
    and the soak resumes trading like an operator (``btcbot resume``) and goes on. ``risk`` and
    ``wrap_exchange`` let the self-tests break the bot on purpose (the checks must catch it)."""
    import time

    from btcbot.app.admin import set_state
    from btcbot.app.error_policy import Action, action_for
    from cycle.chaos import MutationSchedule

    started = time.perf_counter()
    url = sqlite_url(tmp_path / "mutation_soak.db")
    upgrade(url)
    config = SimConfig(seed=seed % 1000, cancel_delay_s=20.0, rate_limits=True, request_log_size=200)
    with running_simulator(config) as sim:
        env = bot_settings(
            sim, url,
            BTCBOT_TRADING__STRATEGY="cycle.strategies:ChurnStrategy",
            BTCBOT_TRADING__CANDLE_INTERVAL_S="300",
            BTCBOT_TRADING__UNKNOWN_GRACE_S="120",
            BTCBOT_EXCHANGE__API_TIMEOUT=str(api_timeout_s),
            BTCBOT_RESILIENCE__BREAKER_COOLDOWN_S="60",
            BTCBOT_RISK__MAX_DAILY_LOSS_PCT="0.5",
        )
        settings = load_settings(environ=env).settings
        clock = SimLinkedClock(sim)
        exchange = build_btcturk_client(
            settings, load_credentials(settings, required=True), clock, rng=random.Random(seed),
            breakers=BreakerBoard(breaker_settings(settings)),
        )
        if wrap_exchange is not None:
            exchange = wrap_exchange(exchange)
        app = operations.start(settings, clock=clock, exchange=exchange, candle_store=MemoryCandleStore())
        universe = tuple(settings.trading.symbols)
        schedule = MutationSchedule(random.Random(seed), dict(MUTATION_RATES if rates is None else rates), hang_s,
                                    stale_rate)
        violations: list[str] = []
        halts: list[str] = []
        outcomes: Counter[str] = Counter()
        watch = ExchangeWatch(sim, universe)
        counters: dict[str, Any] = {}
        cycle_mutations: dict[int, list[str]] = {}
        first_reducing: list[int] = []
        seen_replies: Counter[str] = Counter()
        try:
            cycle = app.cycle()

            def current_cycle() -> int:
                with app.engine.connect() as conn:
                    return int(conn.execute(text("SELECT max(cycle_id) FROM cycles")).scalar() or 0)

            recorder = risk(cycle.d.risk, current_cycle)
            cycle.d.risk = recorder
            sim.app.counters.reset()

            def one_cycle(n: int) -> None:
                try:
                    outcome = operations._guarded_cycle(app)
                except Exception as exc:
                    if action_for(exc) is Action.HALT:  # an availability finding, not a money one
                        halts.append(f"cycle {n}: {type(exc).__name__}: {exc}")
                        set_state(settings, TradingState.ACTIVE, "soak: operator resume after a halt", clock.now())
                    else:
                        violations.append(f"cycle {n}: unhandled {type(exc).__name__}: {exc}")
                    outcomes["exception"] += 1
                else:
                    outcomes["safe_mode" if outcome.safe_mode else "ok"] += 1
                with app.engine.connect() as conn:
                    local_ids = {str(r[0]) for r in conn.execute(text("SELECT client_order_id FROM orders"))}
                    trading = str(conn.execute(text("SELECT state FROM trading_state")).scalar() or "")
                if trading == "REDUCING":
                    outcomes["reducing"] += 1
                    if not first_reducing:
                        first_reducing.append(n)
                now_replies = Counter(sim.app.counters.snapshot()["route_replies"])
                fired = now_replies - seen_replies
                if fired:
                    cycle_mutations[n] = sorted(fired.elements())
                seen_replies.clear()
                seen_replies.update(now_replies)
                violations.extend(watch.check(n, local_ids, recorder.approvals))

            for n in range(1, cycles + 1):
                schedule.apply(sim)
                one_cycle(n)
                clock.sleep(INTERVAL_S)
                if progress is not None and n % 100 == 0:
                    progress(n, None)
            counters = sim.app.counters.snapshot()
            sim.app.faults.clear()
            for n in range(cycles + 1, cycles + quiet_cycles + 1):
                clock.sleep(200)
                one_cycle(n)
        finally:
            app.close()
        plan_rows: list[tuple[str, str, str]] = []
        try:
            plan_rows = reconcile(settings, apply=False, reason=None, clock=clock,
                                  candle_store=MemoryCandleStore()).rows
        except Exception as exc:  # a broken plan must not cost the other end checks
            violations.append(f"end: reconcile plan failed: {type(exc).__name__}: {exc}")
        state = sim.state()
        book = read_book(url)
    from cycle.harness import consistency_violations

    violations += [f"end: {v}" for v in consistency_violations(state, book)]
    violations += [f"end: {v}" for v in final_state_violations(state, url)]
    violations += [f"end: reconcile plan row {' | '.join(r)}" for r in plan_rows]
    reason = _trading_state_reason(url)
    if book.trading_state != "ACTIVE" and not (book.trading_state == "REDUCING" and reason.startswith("RISK_")):
        # REDUCING for a risk reason (the churn's fees reach the last drawdown tier in long runs)
        # is the risk engine at work; REDUCING for unexplained drift, or HALTED, is not.
        violations.append(f"end: trading state {book.trading_state}: {reason[:200]}")
    return MutationSoakReport(cycles, quiet_cycles, seed, violations, outcomes, counters, halts, state, book,
                              plan_rows, book.trading_state, dict(schedule.armed), time.perf_counter() - started,
                              cycle_mutations, first_reducing[0] if first_reducing else None,
                              schedule.stale_cycles, reason)
