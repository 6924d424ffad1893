"""Round trips: fills paired FIFO per symbol, and the positions still open after the last fill.

Every SELL fill that closes some earlier bought quantity is one round trip. Its cost and proceeds
include the fees and taxes of the fills involved, spread over their quantity:

* buy unit  = ``price + (fee + tax) / qty`` of the BUY fill (what one unit cost, all in)
* sell unit = ``price - (fee + tax) / qty`` of the SELL fill (what one unit brought, net)
* ``pnl = sum(matched_qty * (sell_unit - buy_unit))`` over the lots the sell consumes, oldest
  first; ``cost = sum(matched_qty * buy_unit)``; ``return = pnl / cost``
* entry = the time of the oldest lot it consumes; duration = exit time - entry time

A round trip with ``pnl > 0`` is a win, anything else a loss. Sold quantity with no earlier buy
(nothing to match) is ignored. All arithmetic runs in one fixed decimal context.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Protocol

from btcbot.domain.enums import Side

CALC = Context(prec=34, rounding=ROUND_HALF_EVEN)
ZERO = Decimal(0)


class FillLike(Protocol):
    """What pairing reads from a fill; ``domain.exchange_models.Fill`` satisfies it."""

    @property
    def timestamp(self) -> datetime: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def fee(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One SELL fill matched against earlier buys of the same symbol."""

    symbol: str
    entry_time: datetime
    exit_time: datetime
    quantity: Decimal
    cost: Decimal
    proceeds: Decimal
    pnl: Decimal

    @property
    def won(self) -> bool:
        return self.pnl > 0

    @property
    def duration_s(self) -> int:
        return int((self.exit_time - self.entry_time).total_seconds())

    @property
    def return_(self) -> Decimal:
        """``pnl / cost`` (0 for a zero-cost lot)."""
        with localcontext(CALC):
            return self.pnl / self.cost if self.cost > 0 else ZERO


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """What is still held of one symbol after the last fill (the unmatched FIFO lots)."""

    symbol: str
    quantity: Decimal
    cost: Decimal
    entry_time: datetime
    last_price: Decimal | None

    @property
    def average_cost(self) -> Decimal:
        with localcontext(CALC):
            return self.cost / self.quantity

    @property
    def value(self) -> Decimal | None:
        return None if self.last_price is None else self.quantity * self.last_price

    @property
    def unrealized_pnl(self) -> Decimal | None:
        value = self.value
        return None if value is None else value - self.cost


@dataclass(frozen=True, slots=True)
class Pairing:
    trips: tuple[RoundTrip, ...]
    open_positions: tuple[OpenPosition, ...]


@dataclass(slots=True)
class _Lot:
    quantity: Decimal
    unit: Decimal
    at: datetime


def pair_fills(fills: Iterable[FillLike], last_prices: Mapping[str, Decimal] | None = None) -> Pairing:
    """Round trips in execution order, and the open lots per symbol (sorted by symbol).

    ``last_prices`` values the open positions (``None`` value and PnL without a price).
    """
    lots: dict[str, deque[_Lot]] = {}
    trips: list[RoundTrip] = []
    with localcontext(CALC):
        for fill in fills:
            if fill.quantity <= 0:
                continue
            per_unit = (fill.fee + fill.tax) / fill.quantity
            queue = lots.setdefault(fill.symbol, deque())
            if fill.side is Side.BUY:
                queue.append(_Lot(fill.quantity, fill.price + per_unit, fill.timestamp))
                continue
            sell_unit = fill.price - per_unit
            remaining, matched, cost = fill.quantity, ZERO, ZERO
            entry: datetime | None = None
            while remaining > 0 and queue:
                lot = queue[0]
                entry = lot.at if entry is None else entry
                take = min(remaining, lot.quantity)
                cost += take * lot.unit
                matched += take
                remaining -= take
                lot.quantity -= take
                if lot.quantity == 0:
                    queue.popleft()
            if matched > 0 and entry is not None:
                proceeds = matched * sell_unit
                trips.append(RoundTrip(fill.symbol, entry, fill.timestamp, matched, cost, proceeds, proceeds - cost))
        prices = last_prices or {}
        still_open = [
            OpenPosition(
                symbol,
                sum((lot.quantity for lot in queue), ZERO),
                sum((lot.quantity * lot.unit for lot in queue), ZERO),
                queue[0].at,
                prices.get(symbol),
            )
            for symbol, queue in sorted(lots.items())
            if queue
        ]
    return Pairing(tuple(trips), tuple(still_open))
