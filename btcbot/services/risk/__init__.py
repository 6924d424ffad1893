"""Risk engine and self-financing capital policy (design document sections 4.3, 4.4 and 10).

Public API::

    RiskEngine(risk, capital, universe, min_notional, quantity_step)
        .pre_trade(intents, view, now) -> list[Approved | Denied]
        .post_trade(view, now) -> PostTradeResult
        .policy(view, now) -> CapitalPolicySnapshot
    risk_day(now, tz), month_key(now, tz)
    risk_settings_fingerprint(settings) -> str
    capital_policy: c_base, c_res, fee_buffer, tradable_capital, drawdown, m_dd, asset_cap,
        portfolio_cap, harvestable, harvest_target, harvest_due, apply_harvest, required_edge_bps
"""

from btcbot.services.risk.calendar import month_key, risk_day
from btcbot.services.risk.capital_policy import CapitalPolicySnapshot, compute_capital_policy
from btcbot.services.risk.engine import PostTradeResult, RiskEngine, evaluation_key
from btcbot.services.risk.fingerprint import risk_settings_fingerprint

__all__ = [
    "CapitalPolicySnapshot",
    "PostTradeResult",
    "RiskEngine",
    "compute_capital_policy",
    "evaluation_key",
    "month_key",
    "risk_day",
    "risk_settings_fingerprint",
]
