"""Matching a paper order against a LIVE order book, with the simulator's settlement rules.

The venue-side pieces are the simulator's own (``btcbot.sim.engine``): order validation with
BTC Turk's error names (:func:`validate_order`), balances with free/locked funds
(:class:`Accounts`), and fill settlement with fee and tax on the fee in the quote asset
(:func:`settle_fill`). Only the book differs: here it is the real one, fetched just now.

* market BUY (sized in quote): walks the asks within the 5 % protection band above the best ask,
  buying ``min(level, remaining quote / price)`` floored to the quantity scale per level; whatever
  quote the band or a thin book leaves unspent stays free. Taker fee.
* market SELL: walks the bids within the band below the best bid. Taker fee.
* LIMIT: on submission it takes what crosses (taker, at level prices up to the limit) and rests
  with the rest (funds locked). On later calls a resting BUY fills at its limit (maker) against
  asks at or below it, a SELL against bids at or above it, up to the size shown there: partial
  fills where the book is thin.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from btcbot.domain.market import BookLevel, OrderBook, SymbolRules
from btcbot.sim.engine.accounts import Accounts
from btcbot.sim.engine.instruments import PairSpec
from btcbot.sim.engine.money import round_down_scale, scale_quantum
from btcbot.sim.engine.orders import BUY, CLOSED, LIMIT, MARKET, PARTIAL, SimOrder, SimTrade
from btcbot.sim.engine.settlement import FeeSchedule, release_lock, settle_fill

MARKET_BAND = Decimal("0.05")
ZERO = Decimal(0)


def pair_spec(rules: SymbolRules) -> PairSpec:
    """The simulator's pair description for a live pair (only the trading rules matter here)."""
    tick = rules.tick_size if rules.tick_size and rules.tick_size > 0 else scale_quantum(rules.denominator_scale)
    return PairSpec(
        symbol=rules.symbol,
        base=rules.base,
        quote=rules.quote,
        pair_id=0,
        numerator_scale=rules.numerator_scale,
        denominator_scale=rules.denominator_scale,
        tick_size=tick,
        min_exchange_value=rules.min_exchange_value,
        initial_price=tick,
        level_notional=ZERO,
    )


class Matcher:
    """Fills paper orders; mutates the orders, the accounts and the trade list it is given."""

    def __init__(self, accounts: Accounts, fees: FeeSchedule, trades: list[SimTrade], next_trade_id: int) -> None:
        self.accounts = accounts
        self.fees = fees
        self.trades = trades
        self.next_trade_id = next_trade_id

    def execute_market(self, spec: PairSpec, order: SimOrder, book: OrderBook, now_ms: int) -> None:
        """Walk the book within the band; a market order always ends Closed."""
        if order.side == BUY:
            best = book.asks[0].price if book.asks else None
            remaining = order.quantity
            for level in book.asks:
                if best is None or level.price > best * (1 + MARKET_BAND):
                    break
                amount = min(level.quantity, round_down_scale(remaining / level.price, spec.numerator_scale))
                if amount <= 0:
                    break
                order.amount += amount
                order.left += amount
                self.fill(spec, order, amount, level.price, maker=False, now_ms=now_ms)
                remaining -= amount * level.price
        else:
            best = book.bids[0].price if book.bids else None
            for level in book.bids:
                if order.left <= 0 or best is None or level.price < best * (1 - MARKET_BAND):
                    break
                amount = min(order.left, level.quantity)
                self.fill(spec, order, amount, level.price, maker=False, now_ms=now_ms)
        order.status = CLOSED
        order.updated_ms = now_ms

    def take(self, spec: PairSpec, order: SimOrder, book: OrderBook, now_ms: int) -> None:
        """A new LIMIT order takes the liquidity its price crosses (taker, at level prices)."""
        levels = book.asks if order.side == BUY else book.bids
        for level in levels:
            crosses = level.price <= order.price if order.side == BUY else level.price >= order.price
            if order.left <= 0 or not crosses:
                break
            self.fill(spec, order, min(order.left, level.quantity), level.price, maker=False, now_ms=now_ms)

    def rest(self, spec: PairSpec, order: SimOrder, book: OrderBook, now_ms: int) -> None:
        """A RESTING limit order fills at its own price (maker) against what now crosses it."""
        levels: Sequence[BookLevel] = book.asks if order.side == BUY else book.bids
        available = ZERO
        for level in levels:
            crosses = level.price <= order.price if order.side == BUY else level.price >= order.price
            if not crosses:
                break
            available += level.quantity
        amount = min(order.left, available)
        if amount > 0:
            self.fill(spec, order, amount, order.price, maker=True, now_ms=now_ms)

    def fill(self, spec: PairSpec, order: SimOrder, amount: Decimal, price: Decimal, maker: bool, now_ms: int) -> None:
        fee, tax = settle_fill(self.accounts, spec, self.fees, order, amount, price, maker)
        if order.method == MARKET and order.filled == 0:
            order.price = price  # market rows show an execution price, as on the venue
        order.left -= amount
        order.quote_spent += amount * price
        order.updated_ms = now_ms
        self.trades.append(
            SimTrade(self.next_trade_id, order.id, order.client_id, order.symbol, order.side, price, amount,
                     fee, tax, now_ms, maker)
        )
        self.next_trade_id += 1
        if order.method == LIMIT:
            order.status = CLOSED if order.left == 0 else PARTIAL
            if order.status == CLOSED:
                release_lock(self.accounts, order)
