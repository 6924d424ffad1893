"""One trading cycle, always in the same order, each step a call you can test alone:

    fetch      tickers (one call, all pairs), balances, open orders, candles when a bar closed
    reconcile  fills of our orders booked once, unknown/open orders resolved, ledger vs balances
    decide     strategy(snapshot, portfolio view, tradable symbols) -> intents
    risk       capital policy + limits -> Approved (maybe resized) | Denied(code)
    submit     order row + outbox row committed, then POST with the deterministic client id
    reconcile  again, only when this cycle sent or cancelled something (books market fills now)
    persist    post-trade check, trading state, snapshot, breakers, cycle record

Why reconcile also runs before deciding: the strategy and the risk engine must see the fills of
the last interval; with cron (`btcbot once`) there is no "end of the previous cycle" in the same
process. Every write is committed before the exchange hears of it; a crash anywhere leaves a state
that the next cycle's reconcile repairs from exchange truth.

Two database transactions in an idle cycle (nothing fetched beyond the usual reads, nothing
booked, nothing sent): the opening one (``_open``: the cycle row, plus everything the cycle
reads: reconcile's books, the trading state, the portfolio inputs) and the checkpoint
(``persist``: post-trade state, alerts, snapshot, breakers, report, replay record, cycle row).
The books read at the opening stay valid while only this process writes them (it holds the
lease); whatever writes orders, fills or the ledger in between (a booked fill, a correction, a
submit or cancel) makes the cycle read them again. An operator's ``halt`` committed during the
cycle is seen at the checkpoint (the post-trade state is decided inside it) and never
overwritten; decide and risk see the trading state as of the opening.

Safe mode (stale or missing market data, an open market-data/orders/account breaker, an
unreachable exchange): risk-increasing open orders are cancelled, no new entries are sent,
risk-reducing exits still are. `once` then exits 3.

Shortfall gate: when reconcile sees the exchange hold less than the ledger and no order in flight
explains it (``SyncResult.blocks_new_risk``), decide and risk run on a REDUCING view in that same
cycle: no risk-increasing order is sent, exits are. The persisted state goes REDUCING only if the
shortfall is still there on the next reconcile pass (as before).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from loguru import logger

from btcbot.app.cycle_alerts import CycleAlerts, CycleOutcome
from btcbot.app.cycle_report import META_CYCLE_REPORT, build_report
from btcbot.app.hold_report import HoldTracker, describe
from btcbot.app.replay_capture import decision_inputs
from btcbot.app.telemetry import Telemetry
from btcbot.contracts.clock import Clock
from btcbot.contracts.data_feed import DataFeed, MarketState
from btcbot.contracts.exchange import ExchangeClient
from btcbot.contracts.orders import OrderManager
from btcbot.contracts.persistence import UnitOfWork
from btcbot.contracts.portfolio import Portfolio, PortfolioInputs
from btcbot.contracts.reconcile import (
    BalanceDrift,
    ExchangeView,
    ExternalSurplus,
    LocalBooks,
    Reconciler,
    SyncResult,
)
from btcbot.contracts.records import TradingStateRecord
from btcbot.contracts.risk import PostTradeResult, RiskManager
from btcbot.contracts.state import STICKY_PREFIXES, StateChange, TradingStateKeeper
from btcbot.contracts.strategy import HoldReason, MarketSnapshot, Strategy
from btcbot.domain.enums import Side, TradingState
from btcbot.domain.errors import AuthError, ExchangeError
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.domain.intents import Approved, Denied, RiskDecision
from btcbot.domain.ledger import Account, PortfolioSnapshot
from btcbot.domain.market import Balance
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.portfolio import PortfolioView
from btcbot.failpoints import AFTER_CHECKPOINT, BEFORE_CHECKPOINT, Failpoints

T = TypeVar("T")


@dataclass(frozen=True)
class CycleResult:
    cycle_id: int
    safe_mode: bool
    reasons: tuple[str, ...]
    intents: int
    approved: int
    denied: tuple[str, ...]
    submitted: int
    trading_state: TradingState
    decisions: tuple[str, ...] = ()
    equity: Decimal | None = None  # None: unknown (a held coin has no price this cycle)
    hold_reason: str | None = None  # "<code>: <detail>" when nothing was sent (btcbot.app.hold_report)


@dataclass
class CycleDeps:
    clock: Clock
    exchange: ExchangeClient
    uow: Callable[[], UnitOfWork]
    strategy: Strategy
    risk: RiskManager
    portfolio: Portfolio
    feed: DataFeed
    orders: OrderManager
    reconciler: Reconciler
    state: TradingStateKeeper
    failpoints: Failpoints
    telemetry: Telemetry
    universe: tuple[str, ...]
    quote: str
    interval_s: int
    settings_hash: str
    #: The opening transaction's unit of work (wiring: fenced, renewing the lease when due); ``uow`` if None.
    opening_uow: Callable[[], UnitOfWork] | None = None
    store_inputs: bool = True


@dataclass
class _Fetched:
    market: MarketState | None = None
    balances: list[Balance] | None = None
    open_orders: list[ExchangeOrder] | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _PortfolioReads:
    """The database side of the portfolio view (prices and market ages come from the fetch)."""

    wallet: dict[str, Decimal]
    reserve: Decimal
    open_orders: tuple[ManagedOrder, ...]
    snapshot: PortfolioSnapshot | None
    realized_pnl_mtd: Decimal
    rolling_notional: Decimal


@dataclass(frozen=True)
class _Opening:
    """What the opening transaction read; valid until the cycle writes orders, fills or ledger."""

    cycle_id: int
    state: TradingStateRecord
    books: LocalBooks
    portfolio: _PortfolioReads


@dataclass
class _Facts:
    """What the cycle saw and decided, for the checkpoint."""

    market: MarketState | None
    state: TradingState  # the persisted state the decision ran under
    reasons: list[str]
    intents: Sequence[Any] = ()
    decisions: Sequence[RiskDecision] = ()
    submitted: int = 0
    drifts: Sequence[BalanceDrift] = ()
    balance_issues: list[BalanceDrift | ExternalSurplus] | None = None  # None: reconcile did not run
    decision_view: PortfolioView | None = None
    hold: HoldReason | None = None  # why nothing was sent (btcbot.app.hold_report)


def settings_fingerprint(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def degraded_read(reasons: list[str], what: str, call: Callable[[], T], event: str | None = None) -> T | None:
    """Run one exchange call whose failure degrades the cycle instead of ending it: an
    ExchangeError becomes the safe-mode reason ``"<what>: <error>"`` (and a warning ``event`` when
    given) and None is returned. An AuthError is never degraded: the credentials are wrong, and
    the error policy halts."""
    try:
        return call()
    except AuthError:
        raise
    except ExchangeError as exc:
        reasons.append(f"{what}: {type(exc).__name__}")
        if event is not None:
            logger.bind(event=event, outcome=type(exc).__name__).warning(str(exc))
        return None


def _priced(view: PortfolioView) -> bool:
    """A held coin without a mark would be valued at 0: equity is unknown then."""
    return all(view.prices.get(s, Decimal(0)) > 0 for s, q in view.positions.items() if q != 0)


class TradingCycle:
    def __init__(self, deps: CycleDeps) -> None:
        self.d = deps
        self._alerts = CycleAlerts(deps.telemetry, deps.state, deps.quote, deps.universe)
        self._holds = HoldTracker()

    # ---- steps -------------------------------------------------------------------------

    def _open(self) -> _Opening:
        """The opening transaction: the cycle row (and the lease renewal when due) and everything
        an idle cycle reads."""
        d = self.d
        now = d.clock.now()
        with (d.opening_uow or d.uow)() as uow:
            cycle_id = uow.cycles.next_cycle_id()
            uow.cycles.start(cycle_id, now, d.settings_hash)
            reads = self._read_portfolio(uow)
            books = d.reconciler.read_books(uow, open_orders=reads.open_orders, wallet=reads.wallet,
                                            reserve=reads.reserve)
            state = uow.trading_state.get()
            uow.commit()
        return _Opening(cycle_id, state, books, reads)

    def _read_portfolio(self, uow: UnitOfWork) -> _PortfolioReads:
        d = self.d
        realized, notional = d.state.month_figures(uow, d.clock.now())
        return _PortfolioReads(
            wallet=dict(uow.ledger.wallet_balances()), reserve=uow.ledger.balance(Account.RESERVE, d.quote),
            open_orders=tuple(uow.orders.list_non_terminal()), snapshot=uow.snapshots.latest(),
            realized_pnl_mtd=realized, rolling_notional=notional,
        )

    def fetch(self) -> _Fetched:
        d = self.d
        out = _Fetched()
        with d.telemetry.span("data_feed.update"):
            out.market = degraded_read(out.reasons, "market data unavailable", self._market, "data_feed.failed")
            if out.market is not None:
                out.reasons.extend(f"stale market data for {symbol}" for symbol in out.market.stale)
                for symbol, age in out.market.ages_s.items():
                    d.telemetry.metrics.set_market_data_age(symbol, age)
            out.balances = degraded_read(out.reasons, "balances unavailable", d.exchange.balances,
                                         "account.balances_failed")
            out.open_orders = degraded_read(out.reasons, "open orders unavailable", d.exchange.open_orders,
                                            "orders.open_failed")
        return out

    def _market(self) -> MarketState:
        now = self.d.clock.now()
        tickers, ages, stale = self.d.feed.tickers(now)
        candles, candle_errors = self.d.feed.candles(now) if not stale else ({}, ())
        return MarketState(tickers, ages, stale, candles, candle_errors)

    def reconcile(self, cycle_id: int, fetched: _Fetched, books: LocalBooks | None = None) -> SyncResult | None:
        """``books``: reconcile's database side when still valid (else it reads them)."""
        if fetched.open_orders is None:
            return None
        prices = {s: t.last for s, t in (fetched.market.tickers.items() if fetched.market else ())}
        view = ExchangeView(open_orders=fetched.open_orders, balances=fetched.balances, prices=prices)
        with self.d.telemetry.span("reconcile.sync"):
            return self.d.reconciler.sync(cycle_id, view, books)

    def build_view(
        self, market: MarketState | None, state: TradingState, reads: _PortfolioReads | None = None
    ) -> PortfolioView:
        """``reads``: the database side when still valid (else one read transaction)."""
        d = self.d
        if reads is None:
            with d.uow() as uow:
                reads = self._read_portfolio(uow)
        prices: dict[str, Decimal] = {}
        ages: dict[str, float] = {}
        if market is not None:
            prices = {s: t.last for s, t in market.tickers.items()}
            ages = dict(market.ages_s)
        return d.portfolio.view(PortfolioInputs(
            wallet=reads.wallet, reserve=reads.reserve, prices=prices, open_orders=reads.open_orders,
            snapshot=reads.snapshot, trading_state=state, market_age_s=ages,
            realized_pnl_mtd=reads.realized_pnl_mtd, rolling_notional=reads.rolling_notional, now=d.clock.now(),
        ))

    def decide(self, market: MarketState, view: PortfolioView, tradable: Sequence[str]) -> list[Any]:
        d = self.d
        snapshot = MarketSnapshot.build(d.clock.now(), d.interval_s, market.tickers, market.candles)
        with d.telemetry.span("strategy.decide"):
            return self._holds.decide(d.strategy, snapshot, view, tuple(tradable))  # + its hold reason

    def check(self, intents: Sequence[Any], view: PortfolioView) -> list[RiskDecision]:
        with self.d.telemetry.span("risk.pre_trade"):
            decisions = self.d.risk.pre_trade(intents, view, self.d.clock.now())
        for decision in decisions:
            if isinstance(decision, Denied):
                self.d.telemetry.metrics.risk_reject(decision.code.value)
                logger.bind(event="risk.reject", symbol=decision.intent.symbol, outcome=decision.code.value).info(
                    decision.detail
                )
        return decisions

    def submit(self, cycle_id: int, approved: Sequence[Approved]) -> int:
        sent = 0
        with self.d.telemetry.span("execution.submit"):
            for decision in approved:
                outcome = self.d.orders.submit(decision, cycle_id)
                sent += 1 if outcome.sent else 0
        return sent

    def cancel_entries(self, cycle_id: int, orders: Sequence[ManagedOrder] | None = None) -> int:
        """Safe mode: cancel every open risk-increasing (BUY) order of ours. ``orders``: the
        non-terminal orders when the caller read them in this cycle (else one read)."""
        if orders is None:
            with self.d.uow() as uow:
                orders = uow.orders.list_non_terminal()
        count = 0
        for order in orders:
            if order.side is Side.BUY and order.exchange_order_id is not None:
                count += 1 if self.d.orders.cancel(order, cycle_id) else 0
        return count

    # ---- the cycle -----------------------------------------------------------------------

    def run(self) -> CycleResult:
        d = self.d
        opening = self._open()
        cycle_id = opening.cycle_id
        with logger.contextualize(cycle_id=cycle_id), d.telemetry.span("live_cycle", cycle_id=cycle_id):
            return self._run(opening)

    def _run(self, opening: _Opening) -> CycleResult:
        d = self.d
        cycle_id = opening.cycle_id
        start_mono = d.clock.monotonic()
        fetched = self.fetch()
        facts = _Facts(market=fetched.market, state=opening.state.state, reasons=list(fetched.reasons))
        sync, reads = self._reconcile_first(opening, fetched, facts)
        state = self._hold_for_operator(cycle_id, opening.state, sync)
        facts.state = state.state
        facts.reasons.extend(d.state.breaker_reasons())
        view = self.build_view(facts.market, self._decision_state(state.state, sync, facts.drifts), reads)
        facts.decision_view = view
        approved = self._decide(facts, view)
        safe_mode = bool(facts.reasons)
        if safe_mode:
            approved = [x for x in approved if not x.risk_increasing]
        facts.submitted = self.submit(cycle_id, approved)
        cancelled = self.cancel_entries(cycle_id, reads.open_orders if reads else None) if safe_mode else 0
        traded = bool(facts.submitted or cancelled)
        if traded:
            degraded_read(facts.reasons, "post-submit reconcile incomplete",
                          lambda: self.reconcile(cycle_id, self._refetch(facts.market)))
        # Nothing sent or cancelled: the books are as the decision saw them, so persist reuses the view.
        return self.persist(cycle_id, facts, start_mono, current_view=None if traded else view,
                            reads=None if traded else reads)

    def _reconcile_first(
        self, opening: _Opening, fetched: _Fetched, facts: _Facts
    ) -> tuple[SyncResult | None, _PortfolioReads | None]:
        """Reconcile on the opening's books; returns the result and the portfolio reads if they
        are still valid (None when the pass wrote orders, fills or the ledger)."""
        sync = degraded_read(facts.reasons, "reconcile incomplete",
                             lambda: self.reconcile(opening.cycle_id, fetched, opening.books))
        if sync is None:
            return None, opening.portfolio
        facts.reasons.extend(sync.reasons)
        facts.drifts = sync.report.of_kind(BalanceDrift)
        facts.balance_issues = [  # for `btcbot status` (cycle_report)
            c for c in sync.report.corrections if isinstance(c, BalanceDrift | ExternalSurplus)]
        return sync, None if sync.books_changed else opening.portfolio

    def _decide(self, facts: _Facts, view: PortfolioView) -> list[Approved]:
        """Strategy + pre-trade risk on the fresh symbols (not while HALTED); the approved ones."""
        market = facts.market
        if market is None or not market.fresh_symbols or facts.state is TradingState.HALTED:
            return []
        tradable = [s for s in self.d.universe if s in market.fresh_symbols]
        facts.intents = self.decide(market, view, tradable)
        facts.decisions = self.check(facts.intents, view)
        return [x for x in facts.decisions if isinstance(x, Approved)]

    def _refetch(self, market: MarketState | None) -> _Fetched:
        return _Fetched(market=market, balances=self.d.exchange.balances(), open_orders=self.d.exchange.open_orders())

    def _hold_for_operator(
        self, cycle_id: int, state: TradingStateRecord, sync: SyncResult | None
    ) -> TradingStateRecord:
        """A finding that needs an operator makes the state REDUCING; it also replaces a
        self-lifting REDUCING reason (daily loss, caps): otherwise the post-trade check lifts
        REDUCING and the finding is forgotten."""
        if sync is None or not sync.requires_reducing:
            return state
        self_lifting = state.state is TradingState.REDUCING and not state.reason.startswith(STICKY_PREFIXES)
        if state.state is not TradingState.ACTIVE and not self_lifting:
            return state
        return self.d.state.set(TradingState.REDUCING, "; ".join(sync.drift_reasons) or "reconciliation", cycle_id)

    @staticmethod
    def _decision_state(
        state: TradingState, sync: SyncResult | None, drifts: Sequence[BalanceDrift]
    ) -> TradingState:
        """Shortfall gate: an unexplained shortfall is visible NOW: the money may be in an order
        we lost track of. No risk-increasing order from this cycle on (the risk engine sees
        REDUCING and denies them; exits stay allowed) until a lookup or `reconcile --apply`
        explains it. The persisted state becomes REDUCING only if the shortfall persists."""
        if sync is None or not sync.blocks_new_risk or state is not TradingState.ACTIVE:
            return state
        found = ", ".join(f"{x.asset} {x.diff}" for x in drifts) or "; ".join(sync.drift_reasons)
        logger.bind(event="reconcile.shortfall_gate", outcome="no_new_risk").warning(
            f"unexplained balance shortfall or conflict ({found}): no risk-increasing order this cycle"
        )
        return TradingState.REDUCING

    def persist(
        self, cycle_id: int, facts: _Facts, start_mono: float, current_view: PortfolioView | None = None,
        reads: _PortfolioReads | None = None,
    ) -> CycleResult:
        """The checkpoint: ONE transaction with the post-trade state, alerts, snapshot, breakers,
        report, replay record and the finished cycle row; alerts are delivered after it.
        ``reads``: the opening's portfolio reads while still valid (its latest snapshot is reused)."""
        d = self.d
        d.failpoints.hit(BEFORE_CHECKPOINT)
        view = current_view if current_view is not None else self.build_view(facts.market, facts.state)
        # A held coin without a mark (ticker call failed, symbol missing) would be valued at 0:
        # equity is unknown then, so no risk verdict and no snapshot are taken from it (otherwise
        # a maintenance window reads as a huge loss: REDUCING flaps, day-start equity is wrong).
        priced = _priced(view)
        post = d.risk.post_trade(view, d.clock.now()) if priced else None
        now = d.clock.now()
        facts.hold = self._holds.finish(facts.intents, facts.decisions, d.telemetry.metrics)
        try:
            new_state, change, pending_alerts = self._checkpoint(cycle_id, facts, view, post, now, reads)
        except BaseException:
            d.state.forget_saved_breakers()  # not committed: read what is stored next time
            raise
        d.state.announce(change)
        d.failpoints.hit(AFTER_CHECKPOINT)
        d.telemetry.flush_alerts(pending_alerts)
        duration_ms = (d.clock.monotonic() - start_mono) * 1000
        d.telemetry.cycle_finished(view, new_state, duration_ms, now, equity_known=priced)
        return _finished(cycle_id, facts, new_state, view if priced else None, duration_ms)

    def _checkpoint(
        self, cycle_id: int, facts: _Facts, view: PortfolioView, post: PostTradeResult | None, now: datetime,
        reads: _PortfolioReads | None,
    ) -> tuple[TradingState, StateChange | None, Any]:
        """The checkpoint transaction (``post``: the post-trade verdict, None when unpriced)."""
        d = self.d
        safe_mode = bool(facts.reasons)
        with d.uow() as uow:
            new_state, change = (d.state.post_trade_in(uow, post, cycle_id, now) if post is not None
                                 else (facts.state, None))
            self._alerts.raise_all(uow, CycleOutcome(cycle_id, facts.market, facts.decisions, facts.drifts, now))
            if post is not None:  # priced
                harvested = (d.state.harvest(uow, view, cycle_id, now, reads.snapshot) if reads is not None
                             else d.state.harvest(uow, view, cycle_id, now))
                uow.snapshots.save(d.portfolio.snapshot(view, cycle_id, now, harvested))
            d.state.save_breakers(uow)
            uow.meta.set(META_CYCLE_REPORT, build_report(  # what `btcbot status` explains
                cycle_id=cycle_id, at=now, reasons=facts.reasons, state=facts.state,
                fresh_symbols=None if facts.market is None else facts.market.fresh_symbols,
                intents=len(facts.intents), decisions=facts.decisions, submitted=facts.submitted,
                balance_issues=facts.balance_issues, view=view,
                policy=d.risk.policy(view, now) if post is not None else None, hold_reason=facts.hold))
            inputs = None
            if d.store_inputs and facts.market is not None:
                # Replay re-runs decide + risk: it needs the view they saw, not the post-trade one.
                recorded_view = facts.decision_view if facts.decision_view is not None else view
                inputs = decision_inputs(facts.market, recorded_view, facts.intents, facts.decisions)
            uow.cycles.finish(  # one write of the cycle row, the replay record with it
                cycle_id, now, "safe_mode" if safe_mode else "ok", safe_mode=safe_mode,
                exit_code=3 if safe_mode else 0, requests=sum(d.exchange.request_counts().values()),
                decision_inputs=inputs,
            )
            pending_alerts = d.telemetry.pending_alerts_in(uow)  # delivered below without a transaction
            uow.commit()
        return new_state, change, pending_alerts


def _finished(
    cycle_id: int, facts: _Facts, new_state: TradingState, priced_view: PortfolioView | None, duration_ms: float
) -> CycleResult:
    """Log ``cycle.finished`` and build the result."""
    decisions, reasons = facts.decisions, facts.reasons
    safe_mode = bool(reasons)
    summary = [
        f"{x.intent.side} {x.intent.symbol} " + (f"denied {x.code.value}" if isinstance(x, Denied) else
                                                 f"approved {x.intent.quantity}")
        for x in decisions
    ]
    logger.bind(event="cycle.finished", outcome="safe_mode" if safe_mode else "ok",
                latency_ms=round(duration_ms, 1), hold_reason=describe(facts.hold)).info(
        f"cycle {cycle_id}: {len(facts.intents)} intents, {facts.submitted} sent, state {new_state}"
        + (f", safe mode: {'; '.join(reasons)}" if safe_mode else "")
        + (f", held: {describe(facts.hold)}" if facts.hold is not None else "")
    )
    return CycleResult(
        cycle_id=cycle_id, safe_mode=safe_mode, reasons=tuple(reasons), intents=len(facts.intents),
        approved=sum(1 for x in decisions if isinstance(x, Approved)),
        denied=tuple(sorted(x.code.value for x in decisions if isinstance(x, Denied))),
        submitted=facts.submitted, trading_state=new_state, decisions=tuple(summary),
        # unknown, never as if the unpriced coin were worth 0
        equity=priced_view.equity if priced_view is not None else None,
        hold_reason=describe(facts.hold),
    )
