"""Per-symbol hold reasons -> the one :class:`HoldReason` a strategy reports for a cycle.

The built-in strategies explain each tradable symbol separately ("BTCTRY: warming up 48 of 144
bars", "ETHTRY: no uptrend") and :func:`combine` folds them into one reason:

* ``code``: the code shared by the most symbols (a tie goes to the code listed first in
  :class:`HoldCode`, e.g. ``warming_up`` before ``no_signal``);
* ``detail``: every distinct explanation once, followed by the symbols it applies to, in
  :class:`HoldCode` order: ``"warming up: 48 of 144 bars (BTCTRY, ETHTRY); no uptrend: ema12 <=
  ema48 (XRPTRY)"``.

Pure functions of their inputs, like the strategies that call them.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcbot.contracts.strategy import HoldCode, HoldReason

#: Order of preference when symbols hold for different reasons (unknown codes come last).
_RANK = {code.value: rank for rank, code in enumerate(HoldCode)}

SymbolHold = tuple[str, HoldReason]


def _rank(code: str) -> int:
    return _RANK.get(code, len(_RANK))


def combine(per_symbol: Sequence[SymbolHold]) -> HoldReason:
    """One reason for the cycle out of the per-symbol reasons (see the module docstring)."""
    if not per_symbol:
        return HoldReason(HoldCode.OTHER.value, "no tradable symbols")
    counts: dict[str, int] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for symbol, reason in per_symbol:
        counts[reason.code] = counts.get(reason.code, 0) + 1
        groups.setdefault((reason.code, reason.detail), []).append(symbol)
    code = min(counts, key=lambda c: (-counts[c], _rank(c), c))
    ordered = sorted(groups.items(), key=lambda item: (_rank(item[0][0]), item[0][0], item[0][1]))
    detail = "; ".join(f"{text} ({', '.join(sorted(set(symbols)))})" for (_, text), symbols in ordered)
    return HoldReason(str(code), detail)


def warming_up(have: int, need: int) -> HoldReason:
    """``warming up: <have> of <need> bars``: fewer closed bars than ``decide`` needs."""
    return HoldReason(HoldCode.WARMING_UP.value, f"warming up: {have} of {need} bars")


def no_price() -> HoldReason:
    return HoldReason(HoldCode.NO_PRICE.value, "no price (no ticker and no closed bar)")


__all__ = ["SymbolHold", "combine", "no_price", "warming_up"]
