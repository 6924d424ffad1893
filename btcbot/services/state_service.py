"""Trading state (ACTIVE / REDUCING / HALTED), persisted breakers and profit harvesting.

Who may change the state:
- the risk engine's post-trade check: ACTIVE <-> REDUCING for risk conditions (daily loss,
  drawdown tier 0, cap breaches); those lift by themselves when the condition clears;
- reconciliation: REDUCING on balance drift; only ``btcbot reconcile --apply`` clears it;
- the operator: ``btcbot halt`` (HALTED) and ``btcbot resume``; HALTED never lifts by itself;
- the runner: HALTED on an AuthError or an InvariantViolation.
Every change is persisted, journalled, logged as ``trading_state.change`` and alerted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum

from loguru import logger

from btcbot.contracts.clock import Clock
from btcbot.contracts.persistence import UnitOfWork
from btcbot.contracts.records import BreakerRecord, TradingStateRecord
from btcbot.contracts.state import STICKY_PREFIXES as STICKY_PREFIXES  # kept importable here
from btcbot.contracts.state import StateChange as StateChange
from btcbot.domain.breaker import BreakerBoard, BreakerSettings, BreakerState, BreakerStatus
from btcbot.domain.enums import EndpointGroup, TradingState
from btcbot.domain.ledger import Account, PortfolioSnapshot, harvest_transfer
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.accounting import realized_pnl_mtd, rolling_notional
from btcbot.services.risk.capital_policy import MonthToDate, apply_harvest
from btcbot.services.risk.engine import PostTradeResult
from btcbot.services.risk.params import CapitalParams

#: Prefixes of REDUCING reasons that only an operator (reconcile --apply / resume) clears.
ZERO = Decimal(0)


class _Unread(Enum):
    UNREAD = "unread"


def breaker_to_record(state: BreakerState) -> BreakerRecord:
    return BreakerRecord(state.group.value, state.state.value, state.consecutive_failures, state.opened_at,
                         state.probes_ok)


def breaker_from_record(record: BreakerRecord) -> BreakerState:
    return BreakerState(EndpointGroup(record.group), BreakerStatus(record.state), record.consecutive_failures,
                        record.opened_at, record.probes_ok)


def load_breaker_board(uow: Callable[[], UnitOfWork], settings: BreakerSettings) -> BreakerBoard:
    """The breakers as the last process (cron run) left them."""
    with uow() as session:
        records = session.breakers.load()
    return BreakerBoard.load(settings, [breaker_from_record(r) for r in records])


class StateService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        breakers: BreakerBoard,
        tz: str,
        capital: CapitalParams,
        quote: str,
        on_change: Callable[[UnitOfWork, TradingState, TradingState, str], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.breakers = breakers
        self.tz = tz
        self._capital = capital
        self._quote = quote
        self._on_change = on_change or (lambda _uow, _old, _new, _reason: None)
        self._saved_breakers: dict[str, BreakerRecord] | None = None  # as stored, once read

    def current(self) -> TradingStateRecord:
        with self._uow() as uow:
            return uow.trading_state.get()

    def set(self, state: TradingState, reason: str, cycle_id: int | None = None) -> TradingStateRecord:
        now = self._clock.now()
        with self._uow() as uow:
            record, change = self.set_in(uow, state, reason, cycle_id, now)
            if change is None:
                return record
            uow.commit()
        self.announce(change)
        return record

    def set_in(
        self, uow: UnitOfWork, state: TradingState, reason: str, cycle_id: int | None, now: datetime
    ) -> tuple[TradingStateRecord, StateChange | None]:
        """``set`` inside the caller's transaction (it commits, then calls ``announce``)."""
        old = uow.trading_state.get()
        if old.state is state and old.reason == reason:
            return old, None
        uow.trading_state.set(state, reason, now, cycle_id)
        if old.state is not state:
            self._on_change(uow, old.state, state, reason)  # the alert commits with the change
        return TradingStateRecord(state, reason, now), StateChange(old.state, state, reason)

    def announce(self, change: StateChange | None) -> None:
        """Log a committed change of state (``trading_state.change``)."""
        if change is not None and change.old is not change.new:
            logger.bind(event="trading_state.change", outcome=change.new.value).warning(
                f"trading state {change.old} -> {change.new}: {change.reason}"
            )

    def apply_post_trade(self, post: PostTradeResult, cycle_id: int) -> TradingState:
        """Combine the risk engine's verdict with the persisted state (most severe wins)."""
        with self._uow() as uow:
            state, change = self.post_trade_in(uow, post, cycle_id, self._clock.now())
            if change is not None:
                uow.commit()
        self.announce(change)
        return state

    def post_trade_in(
        self, uow: UnitOfWork, post: PostTradeResult, cycle_id: int, now: datetime
    ) -> tuple[TradingState, StateChange | None]:
        """``apply_post_trade`` inside the caller's transaction (the cycle's checkpoint): the
        persisted state is read there, so an operator's halt committed meanwhile is never
        overwritten. The caller commits, then calls ``announce``."""
        current = uow.trading_state.get()
        if current.state is TradingState.HALTED:
            return current.state, None
        sticky = current.state is TradingState.REDUCING and current.reason.startswith(STICKY_PREFIXES)
        if post.state is TradingState.REDUCING:
            if sticky:
                return current.state, None
            record, change = self.set_in(uow, TradingState.REDUCING, "; ".join(post.reasons), cycle_id, now)
            return record.state, change
        if current.state is TradingState.REDUCING and not sticky:
            record, change = self.set_in(uow, TradingState.ACTIVE, "risk conditions cleared", cycle_id, now)
            return record.state, change
        return current.state, None

    # ---- breakers ------------------------------------------------------------------------

    def save_breakers(self, uow: UnitOfWork) -> None:
        """Write the breakers whose state changed. What is stored is read once per process and
        then remembered (this process is their only writer while it holds the lease); a caller
        whose commit failed calls ``forget_saved_breakers`` so the next save reads again."""
        stored = self._saved_breakers
        if stored is None:
            stored = {r.group: r for r in uow.breakers.load()}
        written = dict(stored)
        for state in self.breakers.export():
            record = breaker_to_record(state)
            if stored.get(record.group) != record:
                uow.breakers.save(record)
                written[record.group] = record
        self._saved_breakers = written

    def forget_saved_breakers(self) -> None:
        self._saved_breakers = None

    def breaker_reasons(self) -> list[str]:
        reasons = []
        for state in self.breakers.export():
            if state.state is not BreakerStatus.CLOSED:
                reasons.append(f"{state.group.value} breaker {state.state.value}")
        return reasons

    # ---- harvesting ----------------------------------------------------------------------

    def month_figures(self, uow: UnitOfWork, now: datetime) -> tuple[Decimal, Decimal]:
        """(realized PnL month-to-date, rolling 30-day notional) as the capital policy reads them."""
        return realized_pnl_mtd(uow.meta, now, self.tz), rolling_notional(uow.meta, now, self.tz)

    def harvest(
        self, uow: UnitOfWork, view: PortfolioView, cycle_id: int, now: datetime,
        latest: PortfolioSnapshot | None | _Unread = _Unread.UNREAD,
    ) -> Decimal:
        """Sweep the due part of month-to-date realized profit into the reserve; returns the
        month's harvested total (for the snapshot). ``latest``: the newest snapshot when the
        caller read it in this cycle (else it is read here)."""
        snapshot = uow.snapshots.latest() if latest is _Unread.UNREAD else latest
        month = view.pnl_month or ""
        harvested = snapshot.harvested_mtd if snapshot and snapshot.month_key == month else ZERO
        mtd = MonthToDate(month, view.realized_pnl_mtd, harvested)
        result = apply_harvest(mtd, view.reserve_bucket, now, self.tz, self._capital.harvest_threshold,
                               self._capital.harvest_ratio)
        amount = result.amount
        # Only free cash moves: quote our open BUYs have locked must stay in the wallet, or their
        # fills would take it below zero (unbookable). Deferred otherwise; the next cycle retries.
        if amount > 0 and view.cash_free >= amount and uow.ledger.balance(Account.WALLET, self._quote) >= amount:
            uow.ledger.post(harvest_transfer(self._quote, amount, f"harvest:{result.mtd.month}:{cycle_id}"),
                            at=now, cycle_id=cycle_id)
            logger.bind(event="capital.harvest", outcome="ok").info(f"harvested {amount} {self._quote} to reserve")
            return result.mtd.harvested
        return harvested
