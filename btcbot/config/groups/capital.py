"""capital: the self-financing capital policy (design document section 10).

Not changeable while running (restart required), like ``risk``. Every field is documented with
its env var, default and bound in docs/risk.md.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from btcbot.config.groups._base import Group
from btcbot.domain.symbols import parse_pair

MAX_DRAWDOWN_TIERS = 10


class CapitalSettings(Group):
    reserve_abs: Decimal = Field(Decimal("1000"), ge=0, description="C_res_abs: absolute reserved cash floor.")
    reserve_ratio: Decimal = Field(Decimal("0.10"), ge=0, le=1, description="r_res: reserved cash as a fraction of C_base.")
    reinvest_ratio: Decimal = Field(Decimal("0.80"), gt=0, le=1, description="r_reinv: share of the remainder that is tradable.")
    conservative_base: bool = Field(False, description="C_base = min(equity, equity at the start of the risk day) instead of equity: gains size positions only from the next risk day.")
    fee_min_abs: Decimal = Field(Decimal("100"), ge=0, description="FeeMinAbs: minimum fee buffer.")
    fee_alpha_bps: Decimal = Field(Decimal("10"), ge=0, le=1000, description="alpha_fee in bps of the rolling 30-day notional.")
    asset_weight: Decimal = Field(Decimal("0.30"), gt=0, le=1, description="w_i for every asset unless overridden.")
    asset_weights: dict[str, Decimal] = Field(default_factory=dict, description="Per-symbol w_i overrides, e.g. {\"BTCTRY\": \"0.35\"}; each in (0, 1].")
    gross_beta: Decimal = Field(Decimal("1.0"), gt=0, le=3, description="beta: gross cap as a multiple of tradable capital.")
    drawdown_tiers: tuple[Decimal, ...] = Field((Decimal("0.05"), Decimal("0.10"), Decimal("0.15")), description="Drawdown thresholds (fractions of the high-water mark) where m_dd steps down; 1 to 10, strictly increasing, in (0, 1).")
    drawdown_multipliers: tuple[Decimal, ...] = Field((Decimal("1.0"), Decimal("0.7"), Decimal("0.4"), Decimal("0.0")), description="m_dd below the first tier, from each tier to the next, and from the last tier on; one more than the tiers, in [0, 1], non-increasing.")
    harvest_threshold: Decimal = Field(Decimal("5000"), ge=0, description="theta_h: realized PnL month-to-date above which profit is harvested.")
    harvest_ratio: Decimal = Field(Decimal("0.25"), ge=0, le=1, description="h: share of the excess moved to the reserve bucket.")
    harvest_strict: bool = Field(False, description="Use Equity - ReserveBucket as the capital base.")
    edge_min_bps: Decimal = Field(Decimal("10"), ge=0, le=10000, description="edge_min: minimum expected edge in bps before costs.")
    noise_margin_bps: Decimal = Field(Decimal("5"), ge=0, le=10000, description="Noise margin in bps added to the required edge.")
    taker_fee_bps: Decimal = Field(Decimal("20"), ge=0, le=1000, description="Fee estimate for market orders (bps of notional).")
    maker_fee_bps: Decimal = Field(Decimal("10"), ge=0, le=1000, description="Fee estimate for resting limit orders.")
    fee_tax_ratio: Decimal = Field(Decimal("0.20"), ge=0, le=1, description="Tax charged on the fee (BTC Turk: VAT on commission).")
    slippage_bps: Decimal = Field(Decimal("5"), ge=0, le=1000, description="Slippage estimate (bps) for the edge gate and the backtester.")
    allocation: Decimal | None = Field(None, gt=0, description="Cap on the quote balance the bot adopts at genesis; unset = all free quote.")
    adopt_existing_holdings: bool = Field(False, description="At genesis also adopt coin balances already on the account.")
    paper_starting_balance: Decimal = Field(Decimal("100000"), gt=0, description="Quote balance a dry run starts with.")

    @field_validator("drawdown_tiers")
    @classmethod
    def _tiers_increasing(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not 1 <= len(value) <= MAX_DRAWDOWN_TIERS:
            raise ValueError(f"need 1 to {MAX_DRAWDOWN_TIERS} drawdown tiers, got {len(value)}")
        if not all(Decimal(0) < t < Decimal(1) for t in value):
            raise ValueError("drawdown tiers must lie strictly between 0 and 1")
        if any(a >= b for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("drawdown tiers must be strictly increasing")
        return value

    @field_validator("drawdown_multipliers")
    @classmethod
    def _multipliers_decreasing(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not all(Decimal(0) <= m <= Decimal(1) for m in value):
            raise ValueError("drawdown multipliers must lie in [0, 1]")
        if any(a < b for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("drawdown multipliers must not increase with drawdown")
        return value

    @field_validator("asset_weights")
    @classmethod
    def _weights(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        result: dict[str, Decimal] = {}
        for key, weight in value.items():
            try:
                symbol = parse_pair(key).symbol
            except ValueError as exc:
                raise ValueError(f"asset_weights: {exc}") from None
            if not Decimal(0) < weight <= Decimal(1):
                raise ValueError(f"asset_weights[{symbol}] must lie in (0, 1]")
            result[symbol] = weight
        return result

    @model_validator(mode="after")
    def _tiers_match_multipliers(self) -> CapitalSettings:
        if len(self.drawdown_multipliers) != len(self.drawdown_tiers) + 1:
            raise ValueError(
                f"drawdown_multipliers needs exactly one more entry than drawdown_tiers "
                f"({len(self.drawdown_tiers) + 1}), got {len(self.drawdown_multipliers)}"
            )
        return self

    def weight_for(self, symbol: str) -> Decimal:
        """``w_i``: the override for ``symbol`` if any, else ``asset_weight``."""
        return self.asset_weights.get(symbol, self.asset_weight)
