"""The hard limits as pure checks over one portfolio view (design document 4.4 and 10.3).

One function, :func:`find_breaches`, is the single definition of "the caps hold": the pre-trade
check runs it on the hypothetical post-trade view (an order passes only if it finds nothing) and
the post-trade check runs it on the real view (anything found puts trading into REDUCING). The
two can therefore never disagree about what a cap means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btcbot.domain.intents import DecisionCode
from btcbot.domain.portfolio import PortfolioView
from btcbot.services.risk.capital_policy import CapitalPolicySnapshot, settled_equity
from btcbot.services.risk.params import RiskParams

ZERO = Decimal(0)


def fmt(value: Decimal | None) -> str:
    """A Decimal for a human-readable detail: exact, without trailing zeros or exponent."""
    if value is None or not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


@dataclass(frozen=True, slots=True)
class Breach:
    """One violated limit: the decision code and a human-readable detail (no secrets)."""

    code: DecisionCode
    detail: str


def find_breaches(
    view: PortfolioView,
    policy: CapitalPolicySnapshot,
    risk: RiskParams,
    universe: Sequence[str],
    *,
    include_fee_buffer: bool,
    slack: Decimal = ZERO,
) -> list[Breach]:
    """Every violated cap or cash invariant of ``view``, in this fixed order:

    1. RISK_ASSET_EXPOSURE_LIMIT   ``notional_i > AssetCap_i`` (held + resting buys, at the mark)
    2. RISK_ASSET_QUANTITY_LIMIT   ``qty_i > risk.max_position_per_asset[i]`` (when configured)
    3. RISK_PORTFOLIO_EXPOSURE_LIMIT ``sum_i notional_i > PortfolioCap``
    4. RISK_CONCENTRATION_LIMIT    ``notional_i > max_concentration * equity`` (any notional
       counts as a breach when equity <= 0)
    5. CAPITAL_RESERVED_CASH_BREACH ``cash_free < C_res``
    6. CAPITAL_FEE_BUFFER_BREACH   ``C_res <= cash_free < C_res + FeeBuffer`` (only with
       ``include_fee_buffer``: the pre-trade gate; the post-trade check stops at the reserve)

    Symbols are visited in sorted order within each check. Comparisons are multiplications,
    never divisions, so they are exact.

    ``slack`` widens every limit by that fraction (caps * (1 + slack), the cash floor * (1 - slack)).
    Pre-trade uses 0: a new order must fit exactly. The post-trade check uses
    ``risk.post_trade_tolerance`` so that execution costs (fees, spread) shrinking equity - and
    with it the caps - right after a buy sized to the cap do not flip trading into REDUCING.
    """
    symbols = sorted(set(universe))
    widen = 1 + slack
    shrink = 1 - slack
    breaches: list[Breach] = []
    for symbol in symbols:
        notional = view.notional(symbol)
        cap = policy.asset_caps.get(symbol, ZERO)
        if notional > cap * widen:
            breaches.append(
                Breach(
                    DecisionCode.RISK_ASSET_EXPOSURE_LIMIT,
                    f"{symbol} notional {fmt(notional)} > asset cap {fmt(cap)}",
                )
            )
    for symbol in symbols:
        qty_cap = risk.quantity_cap_for(symbol)
        qty = view.exposure_qty(symbol)
        if qty_cap is not None and qty > qty_cap * widen:
            breaches.append(
                Breach(
                    DecisionCode.RISK_ASSET_QUANTITY_LIMIT,
                    f"{symbol} quantity {fmt(qty)} > quantity cap {fmt(qty_cap)}",
                )
            )
    gross = view.gross_notional()
    if gross > policy.portfolio_cap * widen:
        breaches.append(
            Breach(
                DecisionCode.RISK_PORTFOLIO_EXPOSURE_LIMIT,
                f"gross notional {fmt(gross)} > portfolio cap {fmt(policy.portfolio_cap)}",
            )
        )
    for symbol in symbols:
        notional = view.notional(symbol)
        if notional > 0 and notional > risk.max_concentration * view.equity * widen:
            breaches.append(
                Breach(
                    DecisionCode.RISK_CONCENTRATION_LIMIT,
                    f"{symbol} notional {fmt(notional)} > {fmt(risk.max_concentration)} of equity {fmt(view.equity)}",
                )
            )
    if view.cash_free < policy.c_res * shrink:
        breaches.append(
            Breach(
                DecisionCode.CAPITAL_RESERVED_CASH_BREACH,
                f"free cash {fmt(view.cash_free)} < reserve C_res {fmt(policy.c_res)}",
            )
        )
    elif include_fee_buffer and view.cash_free < policy.cash_floor:
        breaches.append(
            Breach(
                DecisionCode.CAPITAL_FEE_BUFFER_BREACH,
                f"free cash {fmt(view.cash_free)} < C_res + FeeBuffer {fmt(policy.cash_floor)}",
            )
        )
    return breaches


def effective_day_start_equity(view: PortfolioView, now: datetime, tz: str) -> Decimal:
    """The day-start equity that applies at ``now``.

    When the view's ``day_start_date`` is an earlier risk day than ``now``'s, the persisted
    value belongs to a finished day: the new day starts at the current equity (so the daily
    limit lifts by itself at midnight in ``tz`` even before the portfolio service rolls over).
    The same value is the conservative capital base's reference (``settled_equity``).
    """
    return settled_equity(view, now, tz)


def daily_loss_breach(view: PortfolioView, risk: RiskParams, now: datetime) -> Breach | None:
    """RISK_DAILY_LOSS_LIMIT when ``loss = day_start_equity - equity`` reaches a limit.

    Fires when ``loss >= max_daily_loss_pct * day_start_equity`` (only if the day-start
    equity is positive) or ``loss >= max_daily_loss_abs`` (when set). Equity is the view's
    mark-to-market equity, so unrealized PnL and fees count.
    """
    start = effective_day_start_equity(view, now, risk.day_boundary_tz)
    loss = start - view.equity
    if loss <= 0:
        return None
    if start > 0 and loss >= risk.max_daily_loss_pct * start:
        return Breach(
            DecisionCode.RISK_DAILY_LOSS_LIMIT,
            f"daily loss {fmt(loss)} >= {fmt(risk.max_daily_loss_pct)} of day-start equity {fmt(start)}",
        )
    if risk.max_daily_loss_abs is not None and loss >= risk.max_daily_loss_abs:
        return Breach(
            DecisionCode.RISK_DAILY_LOSS_LIMIT,
            f"daily loss {fmt(loss)} >= absolute limit {fmt(risk.max_daily_loss_abs)}",
        )
    return None
