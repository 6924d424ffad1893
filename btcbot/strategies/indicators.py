"""Indicators over closed-candle closes, in Decimal under one fixed context (no float anywhere).

The fixed context (28 digits, ROUND_HALF_EVEN) makes the results independent of whatever decimal
context the caller runs in, so a backtest and a live cycle compute identical numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

CALC = Context(prec=28, rounding=ROUND_HALF_EVEN)
SECONDS_PER_YEAR = 365 * 86400  # crypto trades every day
ZERO = Decimal(0)


def ema(values: Sequence[Decimal], period: int) -> Decimal:
    """Exponential moving average of ``values`` (oldest first), returning the last value.

    ``alpha = 2 / (period + 1)``; seeded with the first value: ``e_0 = x_0`` and
    ``e_t = e_{t-1} + alpha * (x_t - e_{t-1})``. The seed's influence decays as
    ``(1 - alpha) ** t``, which is why strategies ask for a few multiples of ``period`` of history.
    """
    if period < 1:
        raise ValueError("EMA period must be >= 1")
    if not values:
        raise ValueError("EMA of an empty series")
    with localcontext(CALC):
        alpha = Decimal(2) / Decimal(period + 1)
        value = values[0]
        for x in values[1:]:
            value += alpha * (x - value)
        return +value


def simple_returns(values: Sequence[Decimal]) -> list[Decimal]:
    """``r_t = x_t / x_{t-1} - 1`` for consecutive positive prices."""
    with localcontext(CALC):
        return [b / a - 1 for a, b in zip(values, values[1:], strict=False) if a > 0]


def realized_volatility(values: Sequence[Decimal], window: int) -> Decimal | None:
    """Per-bar volatility: sample standard deviation (n - 1) of the last ``window`` simple returns.

    Needs ``window + 1`` prices; returns None with fewer (or ``window < 2``).
    """
    if window < 2 or len(values) < window + 1:
        return None
    returns = simple_returns(values[-(window + 1) :])
    if len(returns) < 2:
        return None
    with localcontext(CALC):
        n = Decimal(len(returns))
        mean = sum(returns, ZERO) / n
        variance = sum(((r - mean) ** 2 for r in returns), ZERO) / (n - 1)
        return variance.sqrt()


def annualize_volatility(per_bar: Decimal, interval_s: int) -> Decimal:
    """``per_bar * sqrt(bars per year)`` with ``bars per year = 365 days / interval_s``."""
    with localcontext(CALC):
        return per_bar * (Decimal(SECONDS_PER_YEAR) / Decimal(interval_s)).sqrt()
