"""The RiskManager port (design document: ``RiskManager``): capital policy + hard limits.

Implemented by :class:`btcbot.services.risk.engine.RiskEngine`; the trading cycle and the
backtester depend on this Protocol. Mapping to the design document's sketch:
``pre_trade_check(intent, portfolio)`` is :meth:`RiskManager.pre_trade` over all of a cycle's
intents at once (each decision sees the exposure the earlier approvals add);
``post_trade_check(portfolio)`` is :meth:`RiskManager.post_trade`. Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from btcbot.domain.enums import TradingState
from btcbot.domain.intents import OrderIntent, RiskDecision
from btcbot.domain.portfolio import FrozenMap, PortfolioView


@dataclass(frozen=True, slots=True)
class PostTradeResult:
    """The trading state the risk conditions call for, and why.

    ``daily_halt``: the daily loss limit is hit (new risk stops until the next risk day).
    """

    state: TradingState
    reasons: tuple[str, ...]
    daily_halt: bool


@dataclass(frozen=True, slots=True)
class CapitalPolicySnapshot:
    """Every policy quantity for one view at one instant (observability and replay)."""

    month: str
    equity: Decimal
    high_water: Decimal
    reserve_bucket: Decimal
    c_base: Decimal
    c_res: Decimal
    fee_buffer: Decimal
    tradable: Decimal
    drawdown: Decimal
    m_dd: Decimal
    asset_caps: FrozenMap[Decimal]
    portfolio_cap: Decimal
    realized_pnl_mtd: Decimal
    harvested_mtd: Decimal
    harvestable: Decimal
    harvest_target: Decimal
    harvest_due: Decimal
    required_edge_market_bps: Decimal
    required_edge_limit_bps: Decimal

    @property
    def cash_floor(self) -> Decimal:
        """``C_res + FeeBuffer``: free cash every risk-increasing trade must leave behind."""
        return self.c_res + self.fee_buffer

    def to_record(self) -> dict[str, str]:
        """Flat ``str -> str`` form (Decimals as exact strings) for logs and the snapshots table."""
        record: dict[str, str] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, FrozenMap):
                for symbol, cap in value.items():
                    record[f"asset_cap.{symbol}"] = str(cap)
            else:
                record[name] = str(value)
        return record


class RiskManager(Protocol):
    @property
    def universe(self) -> tuple[str, ...]:
        """The symbols the engine may approve (sorted)."""
        ...

    def pre_trade(self, intents: Sequence[OrderIntent], view: PortfolioView, now: datetime) -> list[RiskDecision]:
        """One decision per intent (Approved, maybe resized, or Denied with a code), in evaluation order."""
        ...

    def post_trade(self, view: PortfolioView, now: datetime) -> PostTradeResult:
        """The trading state the risk conditions call for now (HALTED stays HALTED)."""
        ...

    def policy(self, view: PortfolioView, now: datetime) -> CapitalPolicySnapshot:
        """The capital policy's figures for ``view`` at ``now``."""
        ...


__all__ = ["CapitalPolicySnapshot", "PostTradeResult", "RiskManager"]
