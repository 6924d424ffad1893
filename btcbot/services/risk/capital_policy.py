"""The self-financing capital policy as pure functions (design document section 10).

Every function carries the design document's name for the quantity it computes::

    C_base      = Equity                       (conservative: min(Equity, DayStartEquity))
                  - ReserveBucket              (strict harvest mode only)
    C_res       = max(C_res_abs, r_res * C_base)
    FeeBuffer   = max(FeeMinAbs, alpha_fee * Rolling30dNotional)
    Tradable    = max(0, (C_base - C_res - FeeBuffer) * r_reinv)
    DD          = 1 - Equity / HighWater
    m_dd        = piecewise on DD (tiers, see :func:`m_dd`)
    AssetCap_i  = min(E_asset_abs_i, w_i * Tradable * m_dd)
    PortfolioCap= min(E_gross_abs, beta * Tradable * m_dd)
    Harvestable = max(0, RealizedPnL_MTD - theta_h);  Harvest = h * Harvestable
    RequiredEdge_bps = edge_min + fee + slippage + noise_margin

:func:`compute_capital_policy` evaluates all of them for one portfolio view and returns a
:class:`CapitalPolicySnapshot` for the risk engine, logs and deterministic replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal

from btcbot.contracts.risk import CapitalPolicySnapshot as CapitalPolicySnapshot  # re-export (moved)
from btcbot.domain.enums import OrderType
from btcbot.domain.portfolio import FrozenMap, PortfolioView
from btcbot.services.risk.calendar import month_key, risk_day
from btcbot.services.risk.params import CapitalParams, RiskParams

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)

#: Harvest transfers are floored (ROUND_DOWN) to this quote quantum: never sweep more than due.
HARVEST_QUANTUM = Decimal("0.01")

# Divisions use an explicit context so a caller changing the thread's decimal context cannot
# change a risk decision.
_DIV = Context(prec=28, rounding=ROUND_HALF_EVEN)


# ---- capital ------------------------------------------------------------------------------


def c_base(
    equity: Decimal,
    settled_equity: Decimal,
    reserve_bucket: Decimal = ZERO,
    *,
    conservative: bool = False,
    strict_harvest: bool = False,
) -> Decimal:
    """``C_base``: equity; ``min(equity, settled_equity)`` when conservative; minus the reserve
    bucket in strict harvest mode (harvested profit is then never put back at risk).

    The design document writes the conservative base as ``min(Equity, Equity_highwater)``. With a
    high-water mark that is the running maximum of equity that is always just ``Equity`` (a
    setting that does nothing), so the reference is the *settled* equity: the equity at the start
    of the risk day (:func:`settled_equity`). Losses shrink the base at once; gains enlarge it
    only from the next risk day on, so a run-up never sizes positions before it has held for a
    day boundary.
    """
    base = min(equity, settled_equity) if conservative else equity
    if strict_harvest:
        base -= reserve_bucket
    return base


def c_res(base: Decimal, reserve_abs: Decimal, reserve_ratio: Decimal) -> Decimal:
    """``C_res = max(C_res_abs, r_res * C_base)``: cash that must stay free after every trade."""
    return max(reserve_abs, reserve_ratio * base)


def fee_buffer(rolling_30d_notional: Decimal, fee_min_abs: Decimal, fee_alpha_bps: Decimal) -> Decimal:
    """``FeeBuffer = max(FeeMinAbs, alpha_fee * Rolling30dNotional)``, alpha given in bps."""
    return max(fee_min_abs, fee_alpha_bps * rolling_30d_notional / BPS)


def tradable_capital(base: Decimal, reserve: Decimal, buffer: Decimal, reinvest_ratio: Decimal) -> Decimal:
    """``Tradable = max(0, (C_base - C_res - FeeBuffer) * r_reinv)``."""
    return max(ZERO, (base - reserve - buffer) * reinvest_ratio)


# ---- drawdown -----------------------------------------------------------------------------


def settled_equity(view: PortfolioView, now: datetime, tz: str) -> Decimal:
    """The day-start equity that applies at ``now``: the view's ``day_start_equity``, or the
    current equity when the view's day is an earlier risk day than ``now``'s (a new day starts at
    the current equity, even before the portfolio service rolls it over)."""
    if view.day_start_date is not None and view.day_start_date != risk_day(now, tz):
        return view.equity
    return view.day_start_equity


def drawdown(equity: Decimal, high_water: Decimal) -> Decimal:
    """``DD = 1 - Equity / HighWater``, floored at 0.

    No high-water mark yet (``high_water <= 0``) means no drawdown; equity above a not yet
    updated high-water mark is also no drawdown. Equity at or below zero gives DD >= 1.
    """
    if high_water <= 0:
        return ZERO
    return max(ZERO, ONE - _DIV.divide(equity, high_water))


def m_dd(dd: Decimal, tiers: Sequence[Decimal], multipliers: Sequence[Decimal]) -> Decimal:
    """The drawdown de-risking multiplier.

    ``multipliers[k]`` applies when ``tiers[k-1] <= DD < tiers[k]`` (with ``tiers[-1]`` read
    as -infinity and ``tiers[len]`` as +infinity): a drawdown exactly at a tier already gets the
    lower multiplier. Defaults: DD < 5% -> 1.0; 5% <= DD < 10% -> 0.7; 10% <= DD < 15% -> 0.4;
    DD >= 15% -> 0.0.
    """
    if len(multipliers) != len(tiers) + 1:
        raise ValueError("need exactly one more multiplier than tiers")
    for tier, multiplier in zip(tiers, multipliers, strict=False):
        if dd < tier:
            return multiplier
    return multipliers[-1]


# ---- exposure caps ------------------------------------------------------------------------


def asset_cap(e_asset_abs: Decimal, weight: Decimal, tradable: Decimal, multiplier: Decimal) -> Decimal:
    """``AssetCap_i = min(E_asset_abs_i, w_i * Tradable * m_dd)``."""
    return min(e_asset_abs, weight * tradable * multiplier)


def portfolio_cap(e_gross_abs: Decimal, beta: Decimal, tradable: Decimal, multiplier: Decimal) -> Decimal:
    """``PortfolioCap = min(E_gross_abs, beta * Tradable * m_dd)``."""
    return min(e_gross_abs, beta * tradable * multiplier)


# ---- fees and edge ------------------------------------------------------------------------


def fee_rate(fee_bps: Decimal, fee_tax_ratio: Decimal) -> Decimal:
    """Fraction of the notional paid as fee including the tax on the fee:
    ``fee_bps * (1 + tax) / 10_000``."""
    return fee_bps * (ONE + fee_tax_ratio) / BPS


def estimated_fee(notional: Decimal, fee_bps: Decimal, fee_tax_ratio: Decimal) -> Decimal:
    """``FeeEst = fee_bps * notional / 10_000`` plus the tax on it (quote)."""
    return notional * fee_rate(fee_bps, fee_tax_ratio)


def required_edge_bps(
    edge_min_bps: Decimal, fee_bps: Decimal, slippage_bps: Decimal, noise_margin_bps: Decimal
) -> Decimal:
    """``RequiredEdge_bps = edge_min_bps + fee_bps_est + slippage_bps_est + noise_margin_bps``."""
    return edge_min_bps + fee_bps + slippage_bps + noise_margin_bps


def edge_costs_bps(
    capital: CapitalParams,
    order_type: OrderType,
    est_fee_bps: Decimal = ZERO,
    est_slippage_bps: Decimal = ZERO,
) -> tuple[Decimal, Decimal]:
    """(fee_bps, slippage_bps) the edge gate charges an order.

    The intent's own estimates win when positive (0 is the intent's "not given"). Otherwise the
    fee is the taker fee for a MARKET order and the maker fee for a LIMIT order, each grossed up
    by the tax on the fee; slippage is ``capital.slippage_bps``.
    """
    if est_fee_bps > 0:
        fee = est_fee_bps
    else:
        base = capital.taker_fee_bps if order_type is OrderType.MARKET else capital.maker_fee_bps
        fee = base * (ONE + capital.fee_tax_ratio)
    slippage = est_slippage_bps if est_slippage_bps > 0 else capital.slippage_bps
    return fee, slippage


# ---- profit harvesting --------------------------------------------------------------------


def harvestable(realized_pnl_mtd: Decimal, threshold: Decimal) -> Decimal:
    """``Harvestable = max(0, RealizedPnL_MTD - theta_h)``."""
    return max(ZERO, realized_pnl_mtd - threshold)


def harvest_target(realized_pnl_mtd: Decimal, threshold: Decimal, ratio: Decimal) -> Decimal:
    """``Harvest = h * Harvestable``: what this month's sweeps should add up to so far."""
    return ratio * harvestable(realized_pnl_mtd, threshold)


def harvest_due(
    realized_pnl_mtd: Decimal, harvested_mtd: Decimal, threshold: Decimal, ratio: Decimal
) -> Decimal:
    """The part of ``Harvest`` not yet swept this month, floored (ROUND_DOWN) to HARVEST_QUANTUM.

    Never negative: a loss after a sweep does not pull money back out of the reserve bucket.
    """
    due = harvest_target(realized_pnl_mtd, threshold, ratio) - harvested_mtd
    if due <= 0:
        return ZERO
    return due.quantize(HARVEST_QUANTUM, rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class MonthToDate:
    """Realized PnL and harvested amount of one month (``month`` is ``YYYY-MM`` in the risk zone)."""

    month: str
    realized_pnl: Decimal = ZERO
    harvested: Decimal = ZERO


def roll_month(mtd: MonthToDate, now: datetime, tz: str) -> MonthToDate:
    """Reset realized PnL and harvested amount when ``now`` lies in a new month of ``tz``."""
    current = month_key(now, tz)
    return mtd if current == mtd.month else MonthToDate(month=current)


@dataclass(frozen=True, slots=True)
class HarvestResult:
    """One sweep: ``amount`` moved into the reserve bucket and the resulting state."""

    amount: Decimal
    reserve_bucket: Decimal
    mtd: MonthToDate


def apply_harvest(
    mtd: MonthToDate, reserve_bucket: Decimal, now: datetime, tz: str, threshold: Decimal, ratio: Decimal
) -> HarvestResult:
    """Roll the month if needed, then sweep the not-yet-harvested part into the reserve bucket:
    ``ReserveBucket_{t+1} = ReserveBucket_t + Harvest_t``. Calling it twice sweeps nothing more."""
    current = roll_month(mtd, now, tz)
    amount = harvest_due(current.realized_pnl, current.harvested, threshold, ratio)
    return HarvestResult(
        amount=amount,
        reserve_bucket=reserve_bucket + amount,
        mtd=MonthToDate(current.month, current.realized_pnl, current.harvested + amount),
    )


# ---- the snapshot -------------------------------------------------------------------------


def compute_capital_policy(
    view: PortfolioView,
    capital: CapitalParams,
    risk: RiskParams,
    universe: Sequence[str],
    now: datetime,
) -> CapitalPolicySnapshot:
    """Evaluate the whole policy for ``view`` at ``now`` (month boundary in ``risk.day_boundary_tz``)."""
    month = month_key(now, risk.day_boundary_tz)
    fresh_month = view.pnl_month is not None and view.pnl_month != month
    realized = ZERO if fresh_month else view.realized_pnl_mtd
    harvested = ZERO if fresh_month else view.harvested_mtd

    base = c_base(
        view.equity,
        settled_equity(view, now, risk.day_boundary_tz),
        view.reserve_bucket,
        conservative=capital.conservative_base,
        strict_harvest=capital.harvest_strict,
    )
    reserve = c_res(base, capital.reserve_abs, capital.reserve_ratio)
    buffer = fee_buffer(view.rolling_30d_notional, capital.fee_min_abs, capital.fee_alpha_bps)
    tradable = tradable_capital(base, reserve, buffer, capital.reinvest_ratio)
    dd = drawdown(view.equity, view.high_water)
    multiplier = m_dd(dd, capital.drawdown_tiers, capital.drawdown_multipliers)
    caps = FrozenMap(
        (s, asset_cap(risk.notional_cap_for(s), capital.weight_for(s), tradable, multiplier))
        for s in universe
    )
    market_fee, market_slip = edge_costs_bps(capital, OrderType.MARKET)
    limit_fee, limit_slip = edge_costs_bps(capital, OrderType.LIMIT)
    return CapitalPolicySnapshot(
        month=month,
        equity=view.equity,
        high_water=view.high_water,
        reserve_bucket=view.reserve_bucket,
        c_base=base,
        c_res=reserve,
        fee_buffer=buffer,
        tradable=tradable,
        drawdown=dd,
        m_dd=multiplier,
        asset_caps=caps,
        portfolio_cap=portfolio_cap(risk.max_gross_exposure, capital.gross_beta, tradable, multiplier),
        realized_pnl_mtd=realized,
        harvested_mtd=harvested,
        harvestable=harvestable(realized, capital.harvest_threshold),
        harvest_target=harvest_target(realized, capital.harvest_threshold, capital.harvest_ratio),
        harvest_due=harvest_due(realized, harvested, capital.harvest_threshold, capital.harvest_ratio),
        required_edge_market_bps=required_edge_bps(
            capital.edge_min_bps, market_fee, market_slip, capital.noise_margin_bps
        ),
        required_edge_limit_bps=required_edge_bps(
            capital.edge_min_bps, limit_fee, limit_slip, capital.noise_margin_bps
        ),
    )
