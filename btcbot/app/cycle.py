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
process. Every step boundary is a transaction boundary; a crash anywhere leaves a state that the
next cycle's reconcile repairs from exchange truth.

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
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from loguru import logger

from btcbot.app.cycle_report import META_CYCLE_REPORT, build_report
from btcbot.app.telemetry import Telemetry
from btcbot.contracts.clock import Clock
from btcbot.contracts.exchange import ExchangeClient
from btcbot.contracts.persistence import UnitOfWork
from btcbot.contracts.strategy import MarketSnapshot, Strategy
from btcbot.domain.breaker import BreakerStatus
from btcbot.domain.enums import Side, TradingState
from btcbot.domain.errors import AuthError, ExchangeError
from btcbot.domain.exchange_models import ExchangeOrder
from btcbot.domain.intents import Approved, Denied, RiskDecision
from btcbot.domain.ledger import Account
from btcbot.domain.market import Balance
from btcbot.domain.portfolio import PortfolioView
from btcbot.domain.symbols import parse_pair
from btcbot.failpoints import AFTER_CHECKPOINT, BEFORE_CHECKPOINT, Failpoints
from btcbot.services.accounting import realized_pnl_mtd, rolling_notional, take_unknown_basis
from btcbot.services.execution.corrections import BalanceDrift, ExternalSurplus
from btcbot.services.market_feed import MarketFeed, MarketState
from btcbot.services.order_service import OrderService
from btcbot.services.portfolio_service import PortfolioInputs, PortfolioService
from btcbot.services.reconcile_service import ExchangeView, ReconcileService, SyncResult
from btcbot.services.risk.engine import RiskEngine
from btcbot.services.state_service import STICKY_PREFIXES, StateService


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


@dataclass
class CycleDeps:
    clock: Clock
    exchange: ExchangeClient
    uow: Callable[[], UnitOfWork]
    strategy: Strategy
    risk: RiskEngine
    portfolio: PortfolioService
    feed: MarketFeed
    orders: OrderService
    reconciler: ReconcileService
    state: StateService
    failpoints: Failpoints
    telemetry: Telemetry
    universe: tuple[str, ...]
    quote: str
    interval_s: int
    settings_hash: str
    renew_lease: Callable[[], None] = lambda: None
    store_inputs: bool = True


@dataclass
class _Fetched:
    market: MarketState | None = None
    balances: list[Balance] | None = None
    open_orders: list[ExchangeOrder] | None = None
    reasons: list[str] = field(default_factory=list)


def settings_fingerprint(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class TradingCycle:
    def __init__(self, deps: CycleDeps) -> None:
        self.d = deps
        self._drifts: list[BalanceDrift] = []
        self._balance_issues: list[BalanceDrift | ExternalSurplus] | None = None

    # ---- steps -------------------------------------------------------------------------

    def _begin(self) -> int:
        self.d.renew_lease()
        now = self.d.clock.now()
        with self.d.uow() as uow:
            cycle_id = uow.cycles.next_cycle_id()
            uow.cycles.start(cycle_id, now, self.d.settings_hash)
            uow.commit()
        return cycle_id

    def fetch(self) -> _Fetched:
        d = self.d
        out = _Fetched()
        now = d.clock.now()
        with d.telemetry.span("data_feed.update"):
            try:
                tickers, ages, stale = d.feed.tickers(now)
                candles, candle_errors = d.feed.candles(now) if not stale else ({}, ())
                out.market = MarketState(tickers, ages, stale, candles, candle_errors)
                for symbol in stale:
                    out.reasons.append(f"stale market data for {symbol}")
                for symbol, age in ages.items():
                    d.telemetry.metrics.set_market_data_age(symbol, age)
            except AuthError:
                raise  # never a degraded read: credentials are wrong -> HALT (error policy)
            except ExchangeError as exc:
                out.reasons.append(f"market data unavailable: {type(exc).__name__}")
                logger.bind(event="data_feed.failed", outcome=type(exc).__name__).warning(str(exc))
            try:
                out.balances = d.exchange.balances()
            except AuthError:
                raise  # never a degraded read: credentials are wrong -> HALT (error policy)
            except ExchangeError as exc:
                out.reasons.append(f"balances unavailable: {type(exc).__name__}")
                logger.bind(event="account.balances_failed", outcome=type(exc).__name__).warning(str(exc))
            try:
                out.open_orders = d.exchange.open_orders()
            except AuthError:
                raise  # never a degraded read: credentials are wrong -> HALT (error policy)
            except ExchangeError as exc:
                out.reasons.append(f"open orders unavailable: {type(exc).__name__}")
                logger.bind(event="orders.open_failed", outcome=type(exc).__name__).warning(str(exc))
        return out

    def reconcile(self, cycle_id: int, fetched: _Fetched) -> SyncResult | None:
        if fetched.open_orders is None:
            return None
        prices = {s: t.last for s, t in (fetched.market.tickers.items() if fetched.market else ())}
        view = ExchangeView(open_orders=fetched.open_orders, balances=fetched.balances, prices=prices)
        with self.d.telemetry.span("reconcile.sync"):
            return self.d.reconciler.sync(cycle_id, view)

    def build_view(self, market: MarketState | None, state: TradingState) -> PortfolioView:
        d = self.d
        now = d.clock.now()
        tz = d.state.tz
        with d.uow() as uow:
            wallet = uow.ledger.wallet_balances()
            reserve = uow.ledger.balance(Account.RESERVE, d.quote)
            open_orders = uow.orders.list_non_terminal()
            snapshot = uow.snapshots.latest()
            realized = realized_pnl_mtd(uow.meta, now, tz)
            notional = rolling_notional(uow.meta, now, tz)
        prices: dict[str, Decimal] = {}
        ages: dict[str, float] = {}
        if market is not None:
            prices = {s: t.last for s, t in market.tickers.items()}
            ages = dict(market.ages_s)
        return d.portfolio.view(PortfolioInputs(
            wallet=wallet, reserve=reserve, prices=prices, open_orders=open_orders, snapshot=snapshot,
            trading_state=state, market_age_s=ages, realized_pnl_mtd=realized, rolling_notional=notional,
            now=now,
        ))

    def decide(self, market: MarketState, view: PortfolioView, tradable: Sequence[str]) -> list[Any]:
        d = self.d
        snapshot = MarketSnapshot.build(d.clock.now(), d.interval_s, market.tickers, market.candles)
        with d.telemetry.span("strategy.decide"):
            return list(d.strategy.decide(snapshot, view, tuple(tradable)))

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

    def cancel_entries(self, cycle_id: int) -> int:
        """Safe mode: cancel every open risk-increasing (BUY) order of ours."""
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
        cycle_id = self._begin()
        with logger.contextualize(cycle_id=cycle_id), d.telemetry.span("live_cycle", cycle_id=cycle_id):
            return self._run(cycle_id)

    def _run(self, cycle_id: int) -> CycleResult:
        d = self.d
        start_mono = d.clock.monotonic()
        fetched = self.fetch()
        reasons = list(fetched.reasons)
        sync = None
        try:
            sync = self.reconcile(cycle_id, fetched)
        except AuthError:
            raise
        except ExchangeError as exc:
            reasons.append(f"reconcile incomplete: {type(exc).__name__}")
        self._drifts = list(sync.report.of_kind(BalanceDrift)) if sync is not None else []
        self._balance_issues = None if sync is None else [  # for `btcbot status` (cycle_report)
            c for c in sync.report.corrections if isinstance(c, BalanceDrift | ExternalSurplus)]
        if sync is not None:
            reasons.extend(sync.reasons)
        state = d.state.current()
        # A finding that needs an operator also replaces a self-lifting REDUCING reason (daily
        # loss, caps): otherwise the post-trade check lifts REDUCING and the finding is forgotten.
        if sync is not None and sync.requires_reducing and (
            state.state is TradingState.ACTIVE
            or (state.state is TradingState.REDUCING and not state.reason.startswith(STICKY_PREFIXES))
        ):
            state = d.state.set(TradingState.REDUCING, "; ".join(sync.drift_reasons) or "reconciliation", cycle_id)
        reasons.extend(d.state.breaker_reasons())

        market = fetched.market
        safe_mode = bool(reasons)
        decision_state = state.state
        if sync is not None and sync.blocks_new_risk and decision_state is TradingState.ACTIVE:
            # An unexplained shortfall is visible NOW: the money may be in an order we lost track
            # of. No risk-increasing order from this cycle on (the risk engine sees REDUCING and
            # denies them; exits stay allowed) until a lookup or `reconcile --apply` explains it.
            # The persisted state becomes REDUCING only if the shortfall persists.
            decision_state = TradingState.REDUCING
            found = ", ".join(f"{x.asset} {x.diff}" for x in self._drifts) or "; ".join(sync.drift_reasons)
            logger.bind(event="reconcile.shortfall_gate", outcome="no_new_risk").warning(
                f"unexplained balance shortfall or conflict ({found}): no risk-increasing order this cycle"
            )
        view = self.build_view(market, decision_state)
        intents: list[Any] = []
        decisions: list[RiskDecision] = []
        if market is not None and market.fresh_symbols and state.state is not TradingState.HALTED:
            tradable = [s for s in d.universe if s in market.fresh_symbols]
            intents = self.decide(market, view, tradable)
            decisions = self.check(intents, view)
        approved = [x for x in decisions if isinstance(x, Approved)]
        if safe_mode:
            approved = [x for x in approved if not x.risk_increasing]
        submitted = self.submit(cycle_id, approved)
        cancelled = self.cancel_entries(cycle_id) if safe_mode else 0
        if submitted or cancelled:
            try:
                refreshed = _Fetched(market=market, balances=d.exchange.balances(), open_orders=d.exchange.open_orders())
                self.reconcile(cycle_id, refreshed)
            except AuthError:
                raise
            except ExchangeError as exc:
                reasons.append(f"post-submit reconcile incomplete: {type(exc).__name__}")
        # Nothing sent or cancelled: the books are as the decision saw them, so persist reuses the view.
        result = self.persist(cycle_id, market, state.state, reasons, intents, decisions, submitted, start_mono,
                              decision_view=view, current_view=None if submitted or cancelled else view)
        return result

    def persist(
        self,
        cycle_id: int,
        market: MarketState | None,
        state: TradingState,
        reasons: list[str],
        intents: Sequence[Any],
        decisions: Sequence[RiskDecision],
        submitted: int,
        start_mono: float,
        decision_view: PortfolioView | None = None,
        current_view: PortfolioView | None = None,
    ) -> CycleResult:
        d = self.d
        d.failpoints.hit(BEFORE_CHECKPOINT)
        view = current_view if current_view is not None else self.build_view(market, state)
        # A held coin without a mark (ticker call failed, symbol missing) would be valued at 0:
        # equity is unknown then, so no risk verdict and no snapshot are taken from it (otherwise
        # a maintenance window reads as a huge loss: REDUCING flaps, day-start equity is wrong).
        priced = all(view.prices.get(s, Decimal(0)) > 0 for s, q in view.positions.items() if q != 0)
        new_state = d.state.apply_post_trade(d.risk.post_trade(view, d.clock.now()), cycle_id) if priced else state
        now = d.clock.now()
        safe_mode = bool(reasons)
        denied = tuple(sorted(x.code.value for x in decisions if isinstance(x, Denied)))
        with d.uow() as uow:
            self._alerts(uow, cycle_id, market, decisions, now)
            if priced:
                harvested = d.state.harvest(uow, view, cycle_id, now)
                uow.snapshots.save(d.portfolio.snapshot(view, cycle_id, now, harvested))
            d.state.save_breakers(uow)
            uow.meta.set(META_CYCLE_REPORT, build_report(  # what `btcbot status` explains
                cycle_id=cycle_id, at=now, reasons=reasons, state=state,
                fresh_symbols=None if market is None else market.fresh_symbols, intents=len(intents),
                decisions=decisions, submitted=submitted, balance_issues=self._balance_issues, view=view,
                policy=d.risk.policy(view, now) if priced else None))
            if d.store_inputs and market is not None:
                # Replay re-runs decide + risk: it needs the view they saw, not the post-trade one.
                recorded_view = decision_view if decision_view is not None else view
                uow.cycles.store_inputs(cycle_id, _decision_inputs(market, recorded_view, intents, decisions))
            uow.cycles.finish(
                cycle_id, now, "safe_mode" if safe_mode else "ok", safe_mode=safe_mode,
                exit_code=3 if safe_mode else 0, requests=sum(d.exchange.request_counts().values()),
            )
            uow.commit()
        d.failpoints.hit(AFTER_CHECKPOINT)
        d.telemetry.flush_alerts()
        duration_ms = (d.clock.monotonic() - start_mono) * 1000
        d.telemetry.cycle_finished(view, new_state, duration_ms, now, equity_known=priced)
        summary = [
            f"{x.intent.side} {x.intent.symbol} " + (f"denied {x.code.value}" if isinstance(x, Denied) else
                                                     f"approved {x.intent.quantity}")
            for x in decisions
        ]
        logger.bind(event="cycle.finished", outcome="safe_mode" if safe_mode else "ok", latency_ms=round(duration_ms, 1)).info(
            f"cycle {cycle_id}: {len(intents)} intents, {submitted} sent, state {new_state}"
            + (f", safe mode: {'; '.join(reasons)}" if safe_mode else "")
        )
        return CycleResult(
            cycle_id=cycle_id, safe_mode=safe_mode, reasons=tuple(reasons), intents=len(intents),
            approved=sum(1 for x in decisions if isinstance(x, Approved)), denied=denied,
            submitted=submitted, trading_state=new_state, decisions=tuple(summary),
            equity=view.equity if priced else None,  # unknown, never as if the unpriced coin were worth 0
        )


    RETRY_ALERT_THRESHOLD = 3
    REJECT_SPIKE_THRESHOLD = 5

    def _alerts(
        self, uow: UnitOfWork, cycle_id: int, market: MarketState | None, decisions: Sequence[RiskDecision],
        now: datetime,
    ) -> None:
        """Raise this cycle's alerts inside the checkpoint transaction (sent after commit)."""
        from btcbot.observability.alerts import catalog

        t = self.d.telemetry
        for state in self.d.state.breakers.export():
            t.metrics.set_breaker(state.group.value, state.state.value)
            if state.state is BreakerStatus.OPEN and state.opened_at is not None:
                key = f"breaker.{state.group.value}.opened_at"
                if uow.meta.get(key) != state.opened_at.isoformat():
                    uow.meta.set(key, state.opened_at.isoformat())
                    t.metrics.circuit_opened(state.group.value)
                    t.raise_alert(uow, catalog.breaker_open(state.group.value, state.consecutive_failures,
                                                            state.opened_at, now))
        if market is not None:
            for symbol in market.stale:
                ticker = market.tickers.get(symbol)
                last = ticker.timestamp if ticker is not None else now
                t.raise_alert(uow, catalog.stale_feed(symbol, market.ages_s.get(symbol, -1.0), last, now))
        # Every traded asset gets a drift value each cycle, so a resolved drift reads 0 again.
        drifted = {drift.asset: drift.diff for drift in self._drifts}
        for asset in sorted({self.d.quote, *(parse_pair(s).base for s in self.d.universe), *drifted}):
            t.metrics.set_drift(asset, drifted.get(asset, Decimal(0)))
        for drift in self._drifts:
            t.raise_alert(uow, catalog.balance_drift(drift.asset, drift.ledger, drift.exchange, now))
        for notice in take_unknown_basis(uow.meta):  # sells beyond the recorded cost basis
            t.raise_alert(uow, catalog.cost_basis_unknown(notice.symbol, notice.trade_id, notice.qty, notice.price,
                                                          now))
        t.metrics.decisions(len(decisions))
        if market is not None and t.metrics.enabled:
            self._observe_slippage(uow, cycle_id, market, sum(1 for x in decisions if isinstance(x, Approved)))
        denied = [x for x in decisions if isinstance(x, Denied)]
        if len(denied) >= self.REJECT_SPIKE_THRESHOLD:
            codes: dict[str, int] = {}
            for x in denied:
                codes[x.code.value] = codes.get(x.code.value, 0) + 1
            t.raise_alert(uow, catalog.risk_reject_spike(len(denied), len(decisions), codes, str(cycle_id), now))
        if t.retries_seen >= self.RETRY_ALERT_THRESHOLD:
            t.raise_alert(uow, catalog.repeated_retries("exchange", "*", t.retries_seen, str(cycle_id), now))
        t.retries_seen = 0

    def _observe_slippage(self, uow: UnitOfWork, cycle_id: int, market: MarketState, approved: int) -> None:
        """``slippage_bps`` of this cycle's orders that filled within it (market orders): average
        fill price versus the ticker last price the strategy decided on; positive = worse for us.
        Orders that fill in a later cycle (resting limits) are not observed. This cycle's orders are
        the newest rows and at most one per approved decision, so a quiet cycle costs no query."""
        if approved == 0:
            return
        for order in uow.orders.list_recent(approved):
            if order.cycle_id != cycle_id or order.filled_quantity <= 0:
                continue
            ticker = market.tickers.get(order.symbol)
            if ticker is None or ticker.last <= 0:
                continue
            average = order.filled_quote / order.filled_quantity
            worse = average - ticker.last if order.side is Side.BUY else ticker.last - average
            self.d.telemetry.metrics.fill_slippage(worse / ticker.last * 10000)


def _decision_inputs(
    market: MarketState, view: PortfolioView, intents: Sequence[Any], decisions: Sequence[RiskDecision]
) -> str:
    """Compact replay record: tickers, the newest candle time per symbol (bars themselves live in
    the candle store), the portfolio view, and what was decided."""
    doc = {
        "tickers": {s: [str(t.bid), str(t.ask), str(t.last), t.timestamp.isoformat()] for s, t in sorted(market.tickers.items())},
        "candles_until": {s: bars[-1].open_time.isoformat() for s, bars in sorted(market.candles.items()) if bars},
        "candle_count": {s: len(bars) for s, bars in sorted(market.candles.items())},
        "view": _view_doc(view),
        "decisions": [_decision_doc(x) for x in decisions],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _view_doc(view: PortfolioView) -> dict[str, Any]:
    return {
        "cash_free": str(view.cash_free), "cash_total": str(view.cash_total), "equity": str(view.equity),
        "high_water": str(view.high_water), "day_start_equity": str(view.day_start_equity),
        "reserve_bucket": str(view.reserve_bucket), "rolling_30d_notional": str(view.rolling_30d_notional),
        "realized_pnl_mtd": str(view.realized_pnl_mtd), "harvested_mtd": str(view.harvested_mtd),
        "trading_state": view.trading_state.value,
        "positions": {k: str(v) for k, v in view.positions.items()},
        "prices": {k: str(v) for k, v in view.prices.items()},
        "ages": {k: v for k, v in view.market_data_age_s.items()},
        "open_buy_qty": {k: str(v) for k, v in view.open_buy_qty.items()},
        "open_sell_qty": {k: str(v) for k, v in view.open_sell_qty.items()},
        "day_start_date": view.day_start_date.isoformat() if view.day_start_date else None,
        "pnl_month": view.pnl_month,
    }


def _decision_doc(decision: RiskDecision) -> dict[str, Any]:
    intent = decision.intent
    doc: dict[str, Any] = {
        "kind": type(decision).__name__, "symbol": intent.symbol, "side": intent.side.value,
        "type": intent.order_type.value, "quantity": str(intent.quantity),
    }
    if isinstance(decision, Denied):
        doc["code"] = decision.code.value
    return doc


