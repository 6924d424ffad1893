"""risk: hard limits (design document 4.4). Not changeable while running: restart required.

The runner compares ``btcbot.services.risk.fingerprint.risk_settings_fingerprint`` of the
settings it started with against the current ones and refuses to continue on a change.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from btcbot.config.groups._base import Group
from btcbot.domain.symbols import parse_pair


def _symbol_keys(name: str, value: dict[str, Decimal]) -> dict[str, Decimal]:
    """Upper-case pair keys, each a valid pair symbol with a strictly positive value."""
    result: dict[str, Decimal] = {}
    for key, amount in value.items():
        try:
            symbol = parse_pair(key).symbol
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        if amount <= 0:
            raise ValueError(f"{name}[{symbol}] must be positive")
        result[symbol] = amount
    return result


class RiskSettings(Group):
    max_notional_per_asset: Decimal = Field(Decimal("50000"), gt=0, description="E_asset_abs: cap on one asset's notional (quote), resting buys included.")
    max_notional_overrides: dict[str, Decimal] = Field(default_factory=dict, description="Per-symbol E_asset_abs_i overriding max_notional_per_asset, e.g. {\"BTCTRY\": \"80000\"}.")
    max_position_per_asset: dict[str, Decimal] = Field(default_factory=dict, description="Base-quantity cap per symbol, e.g. {\"BTCTRY\": \"0.5\"}; absent = no quantity cap.")
    max_gross_exposure: Decimal = Field(Decimal("200000"), gt=0, description="E_gross_abs: cap on the sum of all asset notionals (quote).")
    max_concentration: Decimal = Field(Decimal("0.40"), gt=0, le=1, description="Largest share of equity one asset's notional may reach after a trade.")
    max_daily_loss_pct: Decimal = Field(Decimal("0.03"), gt=0, le=1, description="Daily loss (vs day-start equity) that stops new risk until the next risk day.")
    max_daily_loss_abs: Decimal | None = Field(None, gt=0, description="Same as an absolute quote amount; whichever is hit first applies.")
    market_data_max_age_s: float = Field(120.0, gt=0, le=3600, description="Freshness gate: a ticker older than this blocks new risk on its symbol.")
    day_boundary_tz: str = Field("Europe/Istanbul", description="Time zone whose midnight starts a new risk day (and whose month start resets harvesting).")
    drift_tolerance_quote: Decimal = Field(Decimal("1"), ge=0, description="Ledger vs exchange balance difference (valued in quote) tolerated as dust.")
    post_trade_tolerance: Decimal = Field(Decimal("0.02"), ge=0, le=Decimal("0.5"), description="Post-trade check only: a cap is breached (-> REDUCING) when exceeded by more than this fraction; new orders must always fit exactly.")

    @field_validator("max_position_per_asset")
    @classmethod
    def _positions(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        return _symbol_keys("max_position_per_asset", value)

    @field_validator("max_notional_overrides")
    @classmethod
    def _notionals(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        return _symbol_keys("max_notional_overrides", value)

    @field_validator("day_boundary_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def notional_cap_for(self, symbol: str) -> Decimal:
        """``E_asset_abs_i``: the override for ``symbol`` if any, else ``max_notional_per_asset``."""
        return self.max_notional_overrides.get(symbol, self.max_notional_per_asset)

    def quantity_cap_for(self, symbol: str) -> Decimal | None:
        """Base-quantity cap for ``symbol``, or None when it has none."""
        return self.max_position_per_asset.get(symbol)
