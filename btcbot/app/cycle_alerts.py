"""The alerts and alert-side gauges of one trading cycle, raised inside its checkpoint transaction.

``CycleAlerts.raise_all`` runs in the cycle's single write transaction (so an alert commits with
the state that caused it; ``AlertHub`` delivers after the commit):

- breaker gauges, and ``breaker_open`` once per opening (the opening time is kept in ``meta``);
- ``stale_feed`` per stale symbol;
- a drift gauge for every traded asset (0 when clean, so a resolved drift reads 0 again) and
  ``balance_drift`` per drifting asset;
- ``cost_basis_unknown`` for sells beyond the recorded cost basis;
- ``risk_reject_spike`` when ``REJECT_SPIKE_THRESHOLD`` or more intents were denied;
- ``repeated_retries`` when the exchange client retried ``RETRY_ALERT_THRESHOLD`` times or more;
- ``slippage_bps`` of this cycle's orders that filled within it (metrics enabled only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btcbot.app.telemetry import Telemetry
from btcbot.contracts.persistence import UnitOfWork
from btcbot.contracts.state import TradingStateKeeper
from btcbot.domain.breaker import BreakerStatus
from btcbot.domain.enums import Side
from btcbot.domain.intents import Approved, Denied, RiskDecision
from btcbot.domain.symbols import parse_pair
from btcbot.services.accounting import take_unknown_basis
from btcbot.services.execution.corrections import BalanceDrift
from btcbot.services.market_feed import MarketState

RETRY_ALERT_THRESHOLD = 3
REJECT_SPIKE_THRESHOLD = 5


@dataclass(frozen=True)
class CycleOutcome:
    """What the cycle saw and decided, as far as alerting cares."""

    cycle_id: int
    market: MarketState | None
    decisions: Sequence[RiskDecision]
    drifts: Sequence[BalanceDrift]
    now: datetime


class CycleAlerts:
    def __init__(self, telemetry: Telemetry, state: TradingStateKeeper, quote: str, universe: Sequence[str]) -> None:
        self._t = telemetry
        self._state = state
        self._assets = sorted({quote, *(parse_pair(s).base for s in universe)})

    def raise_all(self, uow: UnitOfWork, outcome: CycleOutcome) -> None:
        """Raise this cycle's alerts inside the checkpoint transaction (sent after commit)."""
        from btcbot.observability.alerts import catalog  # only when a cycle runs

        t, now = self._t, outcome.now
        self._breakers(uow, now)
        if outcome.market is not None:
            for symbol in outcome.market.stale:
                ticker = outcome.market.tickers.get(symbol)
                last = ticker.timestamp if ticker is not None else now
                t.raise_alert(uow, catalog.stale_feed(symbol, outcome.market.ages_s.get(symbol, -1.0), last, now))
        self._drifts(uow, outcome.drifts, now)
        for notice in take_unknown_basis(uow.meta):  # sells beyond the recorded cost basis
            t.raise_alert(uow, catalog.cost_basis_unknown(notice.symbol, notice.trade_id, notice.qty, notice.price,
                                                          now))
        t.metrics.decisions(len(outcome.decisions))
        if outcome.market is not None and t.metrics.enabled:
            approved = sum(1 for x in outcome.decisions if isinstance(x, Approved))
            observe_slippage(t, uow, outcome.cycle_id, outcome.market, approved)
        self._reject_spike(uow, outcome)
        if t.retries_seen >= RETRY_ALERT_THRESHOLD:
            t.raise_alert(uow, catalog.repeated_retries("exchange", "*", t.retries_seen, str(outcome.cycle_id), now))
        t.retries_seen = 0

    def _breakers(self, uow: UnitOfWork, now: datetime) -> None:
        from btcbot.observability.alerts import catalog

        t = self._t
        for state in self._state.breakers.export():
            t.metrics.set_breaker(state.group.value, state.state.value)
            if state.state is not BreakerStatus.OPEN or state.opened_at is None:
                continue
            key = f"breaker.{state.group.value}.opened_at"
            if uow.meta.get(key) != state.opened_at.isoformat():
                uow.meta.set(key, state.opened_at.isoformat())
                t.metrics.circuit_opened(state.group.value)
                t.raise_alert(uow, catalog.breaker_open(state.group.value, state.consecutive_failures,
                                                        state.opened_at, now))

    def _drifts(self, uow: UnitOfWork, drifts: Sequence[BalanceDrift], now: datetime) -> None:
        from btcbot.observability.alerts import catalog

        # Every traded asset gets a drift value each cycle, so a resolved drift reads 0 again.
        drifted = {drift.asset: drift.diff for drift in drifts}
        for asset in sorted({*self._assets, *drifted}):
            self._t.metrics.set_drift(asset, drifted.get(asset, Decimal(0)))
        for drift in drifts:
            self._t.raise_alert(uow, catalog.balance_drift(drift.asset, drift.ledger, drift.exchange, now))

    def _reject_spike(self, uow: UnitOfWork, outcome: CycleOutcome) -> None:
        from btcbot.observability.alerts import catalog

        denied = [x for x in outcome.decisions if isinstance(x, Denied)]
        if len(denied) < REJECT_SPIKE_THRESHOLD:
            return
        codes = dict(Counter(x.code.value for x in denied))
        self._t.raise_alert(uow, catalog.risk_reject_spike(len(denied), len(outcome.decisions), codes,
                                                           str(outcome.cycle_id), outcome.now))


def observe_slippage(t: Telemetry, uow: UnitOfWork, cycle_id: int, market: MarketState, approved: int) -> None:
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
        t.metrics.fill_slippage(worse / ticker.last * 10000)
