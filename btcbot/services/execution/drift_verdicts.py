"""When a balance verdict (BalanceDrift / ExternalSurplus) is withheld: pure decisions.

``reconcile`` compares the ledger with the exchange's balances. Its verdict on an asset is
withheld (dropped from the report for this pass) when it cannot be trusted yet:

============================================  ==================  ==================
situation                                     BalanceDrift        ExternalSurplus
============================================  ==================  ==================
no exchange balances this pass                withheld            withheld
asset touched by an unresolved order, bound   withheld if the     withheld
  ``allowance`` (what the order may have       shortfall <= bound
  spent or sold)
asset touched by an unresolved order whose    withheld            withheld
  spend has no bound (market order, no price)
anything else                                 kept                kept
============================================  ==================  ==================

An unresolved order (PLANNED/SUBMITTING/UNKNOWN: a ghost, or not yet visible in the lists) may
already have moved its balances on the venue, by at most what it could spend (BUY: its quote
amount, or quantity x price, plus ``IN_FLIGHT_MARGIN`` for fee, tax and slippage) or sell
(SELL: its quantity). A shortfall within that is no verdict until the lookup settles the order
(at the latest when the grace period ends); a larger one is drift all the same. The other side
of the pair gets allowance 0: its surplus is no verdict either.

``probe_symbols``: when a shortfall remains, which dormant never-placed orders' symbols are
looked up before it is called drift (their order may explain it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal

from btcbot.domain.enums import Side
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.symbols import parse_pair
from btcbot.services.execution.corrections import BalanceDrift, Correction, ExternalSurplus
from btcbot.services.execution.fetch_plan import UNRESOLVED

#: An unresolved BUY may have spent its notional plus fee, tax and price slippage: 2 % covers them.
IN_FLIGHT_MARGIN = Decimal("1.02")

#: Per asset, the most in-flight orders may have taken from it; None = no bound.
Allowance = Mapping[str, Decimal | None]


def _buy_spend(order: ManagedOrder) -> Decimal | None:
    if order.quote_amount is not None:
        return order.quote_amount * IN_FLIGHT_MARGIN
    if order.price is not None:
        return order.quantity * order.price * IN_FLIGHT_MARGIN
    return None  # a market order without a price: no bound


def order_allowance(order: ManagedOrder) -> dict[str, Decimal | None]:
    """What one unresolved order may have taken, per asset of its pair."""
    pair = parse_pair(order.symbol)
    if order.side is Side.BUY:
        return {pair.quote: _buy_spend(order), pair.base: Decimal(0)}
    return {pair.base: order.quantity, pair.quote: Decimal(0)}


def in_flight_allowance(local: Iterable[ManagedOrder]) -> dict[str, Decimal | None]:
    """Per asset, the sum of ``order_allowance`` over the unresolved orders (None absorbs)."""
    allowance: dict[str, Decimal | None] = {}
    for order in local:
        if order.state not in UNRESOLVED:
            continue
        for asset, amount in order_allowance(order).items():
            current = allowance.get(asset, Decimal(0))
            allowance[asset] = None if current is None or amount is None else current + amount
    return allowance


def is_withheld(correction: Correction, allowance: Allowance, balances_known: bool) -> bool:
    """The table in the module docstring, for one correction (other kinds are never withheld)."""
    if not isinstance(correction, BalanceDrift | ExternalSurplus):
        return False
    if not balances_known:
        return True  # the ledger was compared with itself plus this pass's fills: no verdict
    if correction.asset not in allowance:
        return False
    if isinstance(correction, ExternalSurplus):
        return True
    limit = allowance[correction.asset]
    return limit is None or -correction.diff <= limit


def withhold_verdicts(
    corrections: Iterable[Correction], allowance: Allowance, balances_known: bool
) -> tuple[Correction, ...]:
    return tuple(c for c in corrections if not is_withheld(c, allowance, balances_known))


def probe_symbols(dormant: Iterable[str], short_assets: Collection[str]) -> frozenset[str]:
    """Dormant never-placed symbols whose base or quote asset is short."""
    return frozenset(s for s in dormant if {parse_pair(s).base, parse_pair(s).quote} & set(short_assets))
