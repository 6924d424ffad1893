"""The read-only portfolio view the risk engine sees (design document sections 4.3 and 10).

The portfolio/ledger service builds one :class:`PortfolioView` per cycle from its own state (cash,
positions, marks, high-water mark, day-start equity, reserve bucket ...). The risk engine never
mutates it: to ask "what if this order filled?" it derives a new hypothetical view with
:meth:`PortfolioView.with_trade`. Everything is Decimal; the mappings are immutable and hashable,
so a view can be compared, hashed and replayed.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TypeVar, overload

from btcbot.domain.enums import Side, TradingState

V = TypeVar("V")
T = TypeVar("T")

ZERO = Decimal(0)


class FrozenMap(Mapping[str, V]):
    """An immutable, hashable ``str -> V`` mapping that iterates in sorted key order.

    Sorted iteration makes every computation over it independent of how the caller built it.
    """

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[str, V] | Iterable[tuple[str, V]] = ()) -> None:
        if type(items) is FrozenMap:  # already sorted and immutable: share its dict
            self._data: dict[str, V] = items._data
            return
        if type(items) is not dict:
            items = dict(items.items() if isinstance(items, Mapping) else items)
        self._data = dict(sorted(items.items()))

    @classmethod
    def of_sorted(cls, data: dict[str, V]) -> FrozenMap[V]:
        """Wrap ``data`` without copying or sorting it: for a caller that built it in sorted key
        order just now and keeps no other reference to it (the per-bar and per-cycle views)."""
        frozen: FrozenMap[V] = object.__new__(cls)
        frozen._data = data
        return frozen

    def __getitem__(self, key: str) -> V:
        return self._data[key]

    # The Mapping mixins (get, __contains__, keys, items, values) go through __getitem__/__iter__
    # in Python; these read the dict directly (same results, read-only views). A view's lookups
    # run thousands of times per risk decision.
    @overload
    def get(self, key: str, /) -> V | None: ...

    @overload
    def get(self, key: str, default: V | T, /) -> V | T: ...

    def get(self, key: str, default: object = None) -> object:
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self) -> KeysView[str]:
        return self._data.keys()

    def items(self) -> ItemsView[str, V]:
        return self._data.items()

    def values(self) -> ValuesView[V]:
        return self._data.values()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def set(self, key: str, value: V) -> FrozenMap[V]:
        """A copy with ``key`` set to ``value``."""
        data = dict(self._data)
        data[key] = value
        return FrozenMap(data)


def _freeze(value: Mapping[str, V]) -> FrozenMap[V]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """What the risk engine knows about the book at decision time. Amounts in the quote asset.

    ``positions`` are base quantities held per symbol (long-only spot, never negative).
    ``prices`` are mark prices per symbol. ``equity`` is mark-to-market equity as the design
    document defines it: ``cash_total + sum(position_i * price_i) - accrued_fees`` (see
    :func:`mark_to_market_equity`); the portfolio service computes it, the view just carries it.

    ``open_buy_qty`` is the unfilled base quantity of our resting BUY orders: it counts as
    exposure because it may fill at any moment (the venue already removed its cash from
    ``cash_free``). ``open_sell_qty`` is the base quantity locked in resting SELL orders: it is
    not available for another sell.

    ``day_start_date``/``pnl_month`` name the risk day of ``day_start_equity`` and the month of
    ``realized_pnl_mtd``/``harvested_mtd``; when they are older than ``now`` the risk engine
    treats the values as rolled over (fresh day, fresh month). None means "current".

    ``market_data_age_s``: seconds since each symbol's last ticker; a missing symbol is stale.
    """

    quote_asset: str
    cash_free: Decimal
    cash_total: Decimal
    positions: Mapping[str, Decimal]
    prices: Mapping[str, Decimal]
    equity: Decimal
    high_water: Decimal
    day_start_equity: Decimal
    reserve_bucket: Decimal = ZERO
    rolling_30d_notional: Decimal = ZERO
    realized_pnl_mtd: Decimal = ZERO
    harvested_mtd: Decimal = ZERO
    accrued_fees: Decimal = ZERO
    trading_state: TradingState = TradingState.ACTIVE
    market_data_age_s: Mapping[str, float] = field(default_factory=lambda: FrozenMap[float]())
    open_buy_qty: Mapping[str, Decimal] = field(default_factory=lambda: FrozenMap[Decimal]())
    open_sell_qty: Mapping[str, Decimal] = field(default_factory=lambda: FrozenMap[Decimal]())
    day_start_date: date | None = None
    pnl_month: str | None = None

    def __post_init__(self) -> None:
        # Freeze whatever mapping the caller passed so the view is truly immutable and hashable.
        for name in ("positions", "prices", "market_data_age_s", "open_buy_qty", "open_sell_qty"):
            value = getattr(self, name)
            if type(value) is not FrozenMap:
                object.__setattr__(self, name, _freeze(value))

    # ---- valuation -------------------------------------------------------------------------

    def position(self, symbol: str) -> Decimal:
        """Base quantity held (0 when none)."""
        return self.positions.get(symbol, ZERO)

    def exposure_qty(self, symbol: str) -> Decimal:
        """Held quantity plus resting BUY quantity: what we would hold if every buy filled."""
        return self.position(symbol) + self.open_buy_qty.get(symbol, ZERO)

    def sellable_qty(self, symbol: str) -> Decimal:
        """Held quantity not already promised to a resting SELL order (never negative)."""
        return max(ZERO, self.position(symbol) - self.open_sell_qty.get(symbol, ZERO))

    def notional(self, symbol: str) -> Decimal:
        """Exposure of one symbol in quote at its mark price (held + resting buys).

        A symbol without a mark price is valued at zero; the risk engine refuses to add risk
        to such a symbol (stale market data) so this never hides new exposure.
        """
        price = self.prices.get(symbol)
        if price is None:
            return ZERO
        return self.exposure_qty(symbol) * price

    def gross_notional(self) -> Decimal:
        """Sum of the absolute notionals of every symbol held or bid for."""
        symbols = set(self.positions) | set(self.open_buy_qty)
        return sum((abs(self.notional(s)) for s in sorted(symbols)), ZERO)

    # ---- hypothetical trades --------------------------------------------------------------

    def with_trade(
        self, symbol: str, side: Side, qty: Decimal, price: Decimal, fee: Decimal
    ) -> PortfolioView:
        """The view after ``qty`` of ``symbol`` traded at ``price`` with ``fee`` paid in quote.

        BUY: cash falls by ``qty*price + fee``, the position grows by ``qty``.
        SELL: cash rises by ``qty*price - fee``, the position shrinks by ``qty``.
        Equity moves by the gap between the trade price and the mark, minus the fee (the
        position stays valued at the mark; a symbol without a mark takes ``price`` as mark).
        Realized PnL is not touched: the view has no cost basis (the ledger owns that).
        The traded notional is added to the rolling 30-day notional.
        """
        value = qty * price
        mark = self.prices.get(symbol, price)
        if side is Side.BUY:
            cash_delta = -value - fee
            qty_delta = qty
            equity_delta = qty * (mark - price) - fee
        else:
            cash_delta = value - fee
            qty_delta = -qty
            equity_delta = qty * (price - mark) - fee
        positions = _freeze(self.positions).set(symbol, self.position(symbol) + qty_delta)
        prices = self.prices if symbol in self.prices else _freeze(self.prices).set(symbol, price)
        return replace(
            self,
            cash_free=self.cash_free + cash_delta,
            cash_total=self.cash_total + cash_delta,
            positions=positions,
            prices=prices,
            equity=self.equity + equity_delta,
            rolling_30d_notional=self.rolling_30d_notional + value,
        )

    def with_sell_reserved(self, symbol: str, qty: Decimal) -> PortfolioView:
        """The view with ``qty`` more base quantity promised to a (not yet filled) SELL order."""
        open_sell = _freeze(self.open_sell_qty)
        return replace(self, open_sell_qty=open_sell.set(symbol, open_sell.get(symbol, ZERO) + qty))


def mark_to_market_equity(
    cash_total: Decimal,
    positions: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    accrued_fees: Decimal = ZERO,
) -> Decimal:
    """``Equity = Cash + sum_i(PositionValue_i) - AccruedFees`` (design document 10.1, invariant 1).

    A position without a price raises KeyError: equity cannot be known without every mark.
    """
    value = sum((qty * prices[symbol] for symbol, qty in sorted(positions.items())), ZERO)
    return cash_total + value - accrued_fees
