"""The Portfolio port (design document: ``Portfolio``): the read-only view risk and strategy see.

Implemented by :class:`btcbot.services.portfolio_service.PortfolioService`. Fills change the books
through the ledger (``services/fill_booking.py``, double-entry), not through this port; the
portfolio turns the books (wallet, reserve, marks, open orders, last snapshot) into a
:class:`~btcbot.domain.portfolio.PortfolioView` and a snapshot to persist. The design document's
``snapshot()``/``valuation()`` are :meth:`Portfolio.view`; ``apply_fill`` is fill booking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from btcbot.domain.enums import TradingState
from btcbot.domain.ledger import PortfolioSnapshot
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.portfolio import PortfolioView


@dataclass(frozen=True)
class PortfolioInputs:
    """Everything one view is computed from (read in one unit of work by the cycle)."""

    wallet: Mapping[str, Decimal]
    reserve: Decimal
    prices: Mapping[str, Decimal]
    open_orders: Sequence[ManagedOrder]
    snapshot: PortfolioSnapshot | None
    trading_state: TradingState
    market_age_s: Mapping[str, float]
    realized_pnl_mtd: Decimal
    rolling_notional: Decimal
    now: datetime


class Portfolio(Protocol):
    def view(self, inp: PortfolioInputs) -> PortfolioView:
        """Marked-to-market view: cash (free and total), positions, equity, high-water, day start."""
        ...

    def snapshot(self, view: PortfolioView, cycle_id: int, now: datetime, harvested_mtd: Decimal) -> PortfolioSnapshot:
        """The checkpoint row for ``view`` (high-water mark, day-start equity, month figures)."""
        ...


__all__ = ["Portfolio", "PortfolioInputs"]
