"""Builders shared by the risk tests: one reference universe, settings and portfolio views.

Reference numbers (default settings unless a test overrides them), written out once:

    equity 100 000 TRY, high-water 100 000, rolling 30d notional 0
    C_base    = 100 000
    C_res     = max(1 000, 0.10 * 100 000)           = 10 000
    FeeBuffer = max(100, 10 bps * 0)                 = 100
    Tradable  = (100 000 - 10 000 - 100) * 0.8       = 71 920
    m_dd      = 1.0 (DD = 0)
    AssetCap  = min(50 000, 0.30 * 71 920 * 1.0)     = 21 576
    GrossCap  = min(200 000, 1.0 * 71 920 * 1.0)     = 71 920
    cash floor = C_res + FeeBuffer                   = 10 100
    taker fee incl. tax = 20 bps * 1.2 = 24 bps = 0.0024 of the notional
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import capital_params, risk_params
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView, mark_to_market_equity
from btcbot.services.risk.engine import RiskEngine
from btcbot.services.risk.params import CapitalParams, RiskParams

D = Decimal
UNIVERSE = ("AVAXTRY", "BTCTRY", "ETHTRY", "SOLTRY", "XRPTRY")
PRICES: dict[str, Decimal] = {
    "BTCTRY": D("1000000"),
    "ETHTRY": D("100000"),
    "XRPTRY": D("20"),
    "AVAXTRY": D("1000"),
    "SOLTRY": D("5000"),
}
SCALES = {"BTCTRY": 8, "ETHTRY": 8, "XRPTRY": 2, "AVAXTRY": 4, "SOLTRY": 4}
MIN_NOTIONAL = {s: D("100") for s in UNIVERSE}
#: 2026-11-25 15:00 in Istanbul (UTC+3): risk day 2026-11-25, month 2026-11.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def risk_settings(**kw: Any) -> RiskParams:
    """``RiskSettings(**kw)`` (validated as configured) as the engine's parameters."""
    return risk_params(RiskSettings(**kw))


def capital_settings(**kw: Any) -> CapitalParams:
    """``CapitalSettings(**kw)`` (validated as configured) as the engine's parameters."""
    return capital_params(CapitalSettings(**kw))


def engine(
    risk: RiskParams | None = None,
    capital: CapitalParams | None = None,
    min_notional: Mapping[str, Decimal] | None = None,
) -> RiskEngine:
    return RiskEngine(
        risk or risk_settings(),
        capital or capital_settings(),
        UNIVERSE,
        dict(min_notional or MIN_NOTIONAL),
        SCALES,
    )


def view(
    cash: Decimal,
    positions: Mapping[str, Decimal] | None = None,
    *,
    prices: Mapping[str, Decimal] | None = None,
    high_water: Decimal | None = None,
    day_start_equity: Decimal | None = None,
    ages: Mapping[str, float] | None = None,
    **kw: Any,
) -> PortfolioView:
    """A consistent view: equity = cash + sum(qty * price); high-water and day start default to it."""
    positions = dict(positions or {})
    prices = dict(prices or PRICES)
    equity = mark_to_market_equity(cash, positions, prices, kw.get("accrued_fees", D(0)))
    return PortfolioView(
        quote_asset="TRY",
        cash_free=cash,
        cash_total=cash,
        positions=positions,
        prices=prices,
        equity=equity,
        high_water=equity if high_water is None else high_water,
        day_start_equity=equity if day_start_equity is None else day_start_equity,
        market_data_age_s=dict(ages if ages is not None else {s: 1.0 for s in UNIVERSE}),
        **kw,
    )


def buy(
    symbol: str, qty: str, *, edge: str = "100", order_type: OrderType = OrderType.MARKET, **kw: Any
) -> OrderIntent:
    return OrderIntent(
        strategy_id="s1",
        symbol=symbol,
        side=Side.BUY,
        order_type=order_type,
        quantity=D(qty),
        reference_price=kw.pop("price", PRICES.get(symbol, D("1"))),
        expected_edge_bps=D(edge),
        **kw,
    )


def sell(symbol: str, qty: str, *, edge: str = "0", **kw: Any) -> OrderIntent:
    return OrderIntent(
        strategy_id="s1",
        symbol=symbol,
        side=Side.SELL,
        order_type=kw.pop("order_type", OrderType.MARKET),
        quantity=D(qty),
        reference_price=kw.pop("price", PRICES.get(symbol, D("1"))),
        expected_edge_bps=D(edge),
        **kw,
    )


__all__ = ["D", "NOW", "TODAY", "TradingState", "buy", "engine", "sell", "view"]
