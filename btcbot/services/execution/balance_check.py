"""Ledger balances vs exchange balances: shortfall is drift, surplus is information.

Rules (ARCHITECTURE.md section 3, "ledger matches the exchange"):
- Compared per asset: the ledger's total (wallet + reserve, as the bot thinks) against the
  exchange's ``total`` (free + locked; funds locked in open orders are still ours).
- Fills that this reconciliation is about to apply are added to the ledger side first, so a
  trade that happened since the last cycle is not mistaken for drift.
- ``diff = exchange - ledger``. ``diff < 0`` beyond the dust tolerance (valued in the quote
  asset) is BalanceDrift -> REDUCING; never silently adopted. ``diff > 0`` beyond dust
  (a deposit, holdings the bot does not manage) is ExternalSurplus: reported, not adopted, no
  reducing. Outside money only enters the ledger through an explicit ``reconcile --apply``.
- An asset without a price cannot be valued: any shortfall is drift (we cannot prove it is dust).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from btcbot.domain.enums import Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.market import Balance
from btcbot.domain.symbols import parse_pair
from btcbot.services.execution.corrections import BalanceDrift, ExternalSurplus

ZERO = Decimal(0)


def fill_deltas(fill: Fill) -> dict[str, Decimal]:
    """What one fill does to wallet balances: base +/- quantity, quote -/+ value, fee + tax off."""
    pair = parse_pair(fill.symbol)
    sign = 1 if fill.side is Side.BUY else -1
    deltas: dict[str, Decimal] = {pair.base: ZERO, pair.quote: ZERO, fill.fee_asset: ZERO}
    deltas[pair.base] += sign * fill.quantity
    deltas[pair.quote] -= sign * fill.quote_value
    deltas[fill.fee_asset] -= fill.fee + fill.tax
    return deltas


def expected_balances(ledger: Mapping[str, Decimal], pending_fills: Iterable[Fill]) -> dict[str, Decimal]:
    """The ledger as it will be once ``pending_fills`` are applied."""
    expected = dict(ledger)
    for fill in pending_fills:
        for asset, delta in fill_deltas(fill).items():
            expected[asset] = expected.get(asset, ZERO) + delta
    return expected


def _total(value: Balance | Decimal) -> Decimal:
    return value.total if isinstance(value, Balance) else value


def compare_balances(
    ledger: Mapping[str, Decimal],
    exchange: Mapping[str, Balance | Decimal],
    prices: Mapping[str, Decimal],
    dust_tolerance_quote: Decimal,
) -> list[BalanceDrift | ExternalSurplus]:
    """One entry per asset whose difference is beyond dust, sorted by asset."""
    if dust_tolerance_quote < 0:
        raise ValueError("dust tolerance must not be negative")
    found: list[BalanceDrift | ExternalSurplus] = []
    for asset in sorted(set(ledger) | set(exchange)):
        mine = ledger.get(asset, ZERO)
        theirs = _total(exchange[asset]) if asset in exchange else ZERO
        diff = theirs - mine
        if diff == 0:
            continue
        price = prices.get(asset)
        diff_quote = None if price is None else diff * price
        if diff_quote is not None and abs(diff_quote) <= dust_tolerance_quote:
            continue
        kind = BalanceDrift if diff < 0 else ExternalSurplus
        found.append(kind(asset=asset, ledger=mine, exchange=theirs, diff=diff, diff_quote=diff_quote))
    return found
