"""Post-trade tolerance: execution costs right after a buy sized to the cap must not flip
trading into REDUCING, while a real breach still does; pre-trade stays exact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import capital_params, risk_params
from btcbot.domain.enums import TradingState
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.risk.engine import RiskEngine

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
UNIVERSE = ("AVAXTRY", "BTCTRY", "ETHTRY", "SOLTRY", "XRPTRY")


def engine(tolerance: str) -> RiskEngine:
    return RiskEngine(
        risk_params(RiskSettings(post_trade_tolerance=Decimal(tolerance), max_concentration=Decimal("1"))),
        capital_params(CapitalSettings()),
        UNIVERSE,
        {s: Decimal("100") for s in UNIVERSE},
        {s: 8 for s in UNIVERSE},
    )


def view_with_btc(notional: str) -> PortfolioView:
    # equity 100 000: cash 100 000 - notional, BTC worth `notional` at 1 000 000.
    n = Decimal(notional)
    return PortfolioView(
        quote_asset="TRY", cash_free=Decimal(100000) - n, cash_total=Decimal(100000) - n,
        positions={"BTCTRY": n / Decimal(1000000)}, prices={s: Decimal(1000000) for s in UNIVERSE},
        equity=Decimal(100000), high_water=Decimal(100000), day_start_equity=Decimal(100000),
        trading_state=TradingState.ACTIVE, market_data_age_s={s: 1.0 for s in UNIVERSE},
    )


def test_overshoot_within_tolerance_stays_active() -> None:
    # AssetCap = min(50 000, 0.30 * (100 000 - 10 000 - 100) * 0.8) = 21 576; 1 % over -> 21 791.76
    assert engine("0.02").post_trade(view_with_btc("21791.76"), NOW).state is TradingState.ACTIVE


def test_overshoot_beyond_tolerance_reduces() -> None:
    result = engine("0.02").post_trade(view_with_btc("22100"), NOW)  # 2.4 % over
    assert result.state is TradingState.REDUCING
    assert any("RISK_ASSET_EXPOSURE_LIMIT" in r for r in result.reasons)


def test_zero_tolerance_is_exact() -> None:
    assert engine("0").post_trade(view_with_btc("21576.01"), NOW).state is TradingState.REDUCING
