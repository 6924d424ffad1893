"""risk: hard limits (design document 4.4). Not changeable while running: restart required."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from btcbot.config.groups._base import Group


class RiskSettings(Group):
    max_notional_per_asset: Decimal = Field(Decimal("50000"), gt=0, description="E_asset_abs: cap on one asset's notional (quote).")
    max_position_per_asset: dict[str, Decimal] = Field(default_factory=dict, description="Base-quantity cap per symbol, e.g. {\"BTCTRY\": \"0.5\"}; absent = no quantity cap.")
    max_gross_exposure: Decimal = Field(Decimal("200000"), gt=0, description="E_gross_abs: cap on the sum of all asset notionals (quote).")
    max_concentration: Decimal = Field(Decimal("0.40"), gt=0, le=1, description="Largest share of equity one asset may reach after a trade.")
    max_daily_loss_pct: Decimal = Field(Decimal("0.03"), gt=0, le=1, description="Daily loss (vs day-start equity) that halts new risk until the next day.")
    max_daily_loss_abs: Decimal | None = Field(None, gt=0, description="Same as an absolute quote amount; the tighter of the two applies.")
    market_data_max_age_s: float = Field(120.0, gt=0, le=3600, description="Freshness gate: older tickers put the cycle in safe mode.")
    day_boundary_tz: str = Field("Europe/Istanbul", description="Time zone whose midnight starts a new risk day.")
    drift_tolerance_quote: Decimal = Field(Decimal("1"), ge=0, description="Ledger vs exchange balance difference (valued in quote) tolerated as dust.")

    @field_validator("max_position_per_asset")
    @classmethod
    def _positive(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for symbol, cap in value.items():
            if cap <= 0:
                raise ValueError(f"max_position_per_asset[{symbol}] must be positive")
        return {k.upper(): v for k, v in value.items()}

    @field_validator("day_boundary_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
