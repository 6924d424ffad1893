"""The trading-state port: the persisted trading state, the breakers' reasons and the capital
policy's month figures, as the trading cycle (``btcbot.app.cycle``) uses them.

Implemented by ``btcbot.services.state_service.StateService``. Writes made inside a caller's
transaction return a :class:`StateChange` that the caller announces after its commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from btcbot.contracts.persistence import UnitOfWork
from btcbot.contracts.records import TradingStateRecord
from btcbot.contracts.risk import PostTradeResult
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.enums import TradingState
from btcbot.domain.portfolio import PortfolioView

#: REDUCING for one of these reasons is lifted by an operator (``btcbot resume``) or a reconcile
#: that explains it, never by the risk conditions clearing.
STICKY_PREFIXES = ("balance drift", "reconcile", "manual", "order conflict")


@dataclass(frozen=True)
class StateChange:
    """A trading-state write made inside a caller's transaction, announced after its commit."""

    old: TradingState
    new: TradingState
    reason: str


class TradingStateKeeper(Protocol):
    #: The circuit breakers of this process (their states are saved with ``save_breakers``).
    breakers: BreakerBoard

    def set(self, state: TradingState, reason: str, cycle_id: int | None = None) -> TradingStateRecord:
        """Persist ``state`` for ``reason`` in a transaction of its own and announce a change."""
        ...

    def post_trade_in(
        self, uow: UnitOfWork, post: PostTradeResult, cycle_id: int, now: datetime
    ) -> tuple[TradingState, StateChange | None]:
        """The risk engine's verdict combined with the persisted state, inside the caller's
        transaction (most severe wins; HALTED and sticky REDUCING stay)."""
        ...

    def announce(self, change: StateChange | None) -> None:
        """Log a committed change of state."""
        ...

    def harvest(
        self, uow: UnitOfWork, view: PortfolioView, cycle_id: int, now: datetime, latest: Any = ...
    ) -> Decimal:
        """Sweep the due month-to-date profit into the reserve; returns the month's harvested
        total. ``latest``: the newest portfolio snapshot when the caller read it already."""
        ...

    def month_figures(self, uow: UnitOfWork, now: datetime) -> tuple[Decimal, Decimal]:
        """(realized PnL month-to-date, rolling 30-day notional) as the capital policy reads them."""
        ...

    def save_breakers(self, uow: UnitOfWork) -> None:
        """Write the breakers whose state changed, inside the caller's transaction."""
        ...

    def forget_saved_breakers(self) -> None:
        """The caller's commit failed: read what is stored at the next save."""
        ...

    def breaker_reasons(self) -> list[str]:
        """One reason per breaker that is not CLOSED."""
        ...


__all__ = ["STICKY_PREFIXES", "StateChange", "TradingStateKeeper"]
