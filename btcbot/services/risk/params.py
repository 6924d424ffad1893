"""Plain, frozen parameters of the risk engine and the capital policy.

Services never see the pydantic settings groups: ``btcbot.config.params`` maps ``settings.risk``
and ``settings.capital`` onto these values (validated there, field for field, same names), and the
wiring (``app/wiring.py``) or the backtester hands them in. Per-symbol dictionaries become
read-only :class:`~btcbot.domain.portfolio.FrozenMap` s, so a service cannot change a limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from btcbot.domain.portfolio import FrozenMap


@dataclass(frozen=True, slots=True)
class RiskParams:
    """Hard limits (design document 4.4); see docs/risk.md for every field's meaning and bounds."""

    max_notional_per_asset: Decimal
    max_notional_overrides: Mapping[str, Decimal]
    max_position_per_asset: Mapping[str, Decimal]
    max_gross_exposure: Decimal
    max_concentration: Decimal
    max_daily_loss_pct: Decimal
    max_daily_loss_abs: Decimal | None
    market_data_max_age_s: float
    day_boundary_tz: str
    drift_tolerance_quote: Decimal
    post_trade_tolerance: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_notional_overrides", FrozenMap(self.max_notional_overrides))
        object.__setattr__(self, "max_position_per_asset", FrozenMap(self.max_position_per_asset))

    def notional_cap_for(self, symbol: str) -> Decimal:
        """``E_asset_abs_i``: the override for ``symbol`` if any, else ``max_notional_per_asset``."""
        return self.max_notional_overrides.get(symbol, self.max_notional_per_asset)

    def quantity_cap_for(self, symbol: str) -> Decimal | None:
        """Base-quantity cap for ``symbol``, or None when it has none."""
        return self.max_position_per_asset.get(symbol)


@dataclass(frozen=True, slots=True)
class CapitalParams:
    """The self-financing capital policy (design document section 10); see docs/risk.md."""

    reserve_abs: Decimal
    reserve_ratio: Decimal
    reinvest_ratio: Decimal
    conservative_base: bool
    fee_min_abs: Decimal
    fee_alpha_bps: Decimal
    asset_weight: Decimal
    asset_weights: Mapping[str, Decimal]
    gross_beta: Decimal
    drawdown_tiers: tuple[Decimal, ...]
    drawdown_multipliers: tuple[Decimal, ...]
    harvest_threshold: Decimal
    harvest_ratio: Decimal
    harvest_strict: bool
    edge_min_bps: Decimal
    noise_margin_bps: Decimal
    taker_fee_bps: Decimal
    maker_fee_bps: Decimal
    fee_tax_ratio: Decimal
    slippage_bps: Decimal
    allocation: Decimal | None
    adopt_existing_holdings: bool
    paper_starting_balance: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "asset_weights", FrozenMap(self.asset_weights))
        object.__setattr__(self, "drawdown_tiers", tuple(self.drawdown_tiers))
        object.__setattr__(self, "drawdown_multipliers", tuple(self.drawdown_multipliers))

    def weight_for(self, symbol: str) -> Decimal:
        """``w_i``: the override for ``symbol`` if any, else ``asset_weight``."""
        return self.asset_weights.get(symbol, self.asset_weight)


__all__ = ["CapitalParams", "RiskParams"]
