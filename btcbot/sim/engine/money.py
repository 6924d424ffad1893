"""Decimal helpers for the simulator: every rounding the engine does is named here.

Why one module: the engine must never mix float into money, and each rounding rule (tick grid,
quantity scale, fee precision, wire formatting) must live in exactly one place so tests can pin it.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

#: Fees and taxes are kept to 10 decimals (the reference's samples show 10-12 digits).
FEE_QUANTUM = Decimal("1E-10")

ZERO = Decimal(0)


def scale_quantum(scale: int) -> Decimal:
    """The smallest step for ``scale`` decimals: 2 -> 0.01, 0 -> 1."""
    return Decimal(1).scaleb(-scale)


def decimals_of(value: Decimal) -> int:
    """Number of decimals actually used by ``value`` (trailing zeros ignored: 1.50 -> 1)."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN / Infinity never reach here; keep mypy honest
        raise ValueError(f"not a finite decimal: {value!r}")
    return max(0, -exponent)


def round_down_scale(value: Decimal, scale: int) -> Decimal:
    """Truncate to ``scale`` decimals (quantities are always truncated, never rounded up)."""
    return value.quantize(scale_quantum(scale), rounding=ROUND_DOWN)


def floor_to_tick(value: Decimal, tick: Decimal) -> Decimal:
    """Largest multiple of ``tick`` that is <= value (bid side of the synthetic book)."""
    return (value / tick).to_integral_value(rounding=ROUND_FLOOR) * tick


def ceil_to_tick(value: Decimal, tick: Decimal) -> Decimal:
    """Smallest multiple of ``tick`` that is >= value (ask side of the synthetic book)."""
    return (value / tick).to_integral_value(rounding=ROUND_CEILING) * tick


def nearest_tick(value: Decimal, tick: Decimal) -> Decimal:
    """Closest multiple of ``tick`` (the price path lives on the tick grid)."""
    return (value / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def fee_amount(notional: Decimal, rate: Decimal) -> Decimal:
    """Commission on ``notional`` at ``rate``, to FEE_QUANTUM (half-even, as a bank would)."""
    return (notional * rate).quantize(FEE_QUANTUM, rounding=ROUND_HALF_EVEN)


def reserve_amount(notional: Decimal, rate: Decimal) -> Decimal:
    """Upper bound of a commission, rounded UP, used when locking funds ahead of fills."""
    return (notional * rate).quantize(FEE_QUANTUM, rounding=ROUND_CEILING)


def plain(value: Decimal) -> str:
    """Wire string of a Decimal: fixed point, never an exponent, no trailing zeros except '0'."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def fixed(value: Decimal, scale: int) -> str:
    """Wire string with exactly ``scale`` decimals (prices as the reference prints them)."""
    return format(value.quantize(scale_quantum(scale), rounding=ROUND_HALF_EVEN), "f")
