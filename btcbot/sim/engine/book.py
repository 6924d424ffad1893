"""The synthetic order book around the current price.

Levels are regenerated every tick from (seed, pair, tick index), so the book is deterministic;
within a tick, liquidity taken by the simulated account is subtracted (``BookDepletion``) so two
market orders in the same tick walk deeper instead of both getting the best price.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from btcbot.sim.engine.instruments import PairSpec
from btcbot.sim.engine.money import ceil_to_tick, floor_to_tick, round_down_scale, scale_quantum

#: Half the relative spread and the relative distance between levels (5 bps each).
HALF_SPREAD = Decimal("0.0005")
LEVEL_STEP = Decimal("0.0005")


@dataclass(frozen=True, slots=True)
class Level:
    """One price level: price in quote, amount in base."""

    price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Book:
    """Bids best (highest) first, asks best (lowest) first."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None


def synthetic_book(spec: PairSpec, mid: Decimal, depth: int, seed: int, tick_index: int) -> Book:
    """Build ``depth`` levels per side around ``mid`` on the pair's tick grid."""
    tick = spec.tick_size
    step = max(tick, ceil_to_tick(mid * LEVEL_STEP, tick))
    best_bid = floor_to_tick(mid * (1 - HALF_SPREAD), tick)
    best_ask = ceil_to_tick(mid * (1 + HALF_SPREAD), tick)
    if best_ask <= best_bid:
        best_ask = best_bid + tick
    rng = random.Random(f"{seed}:{spec.symbol}:book:{tick_index}")  # noqa: S311 - simulation, not crypto
    minimum = scale_quantum(spec.numerator_scale)

    def amount(price: Decimal) -> Decimal:
        share = Decimal(repr(round(rng.uniform(0.5, 1.5), 6)))
        return max(minimum, round_down_scale(spec.level_notional / price * share, spec.numerator_scale))

    bids: list[Level] = []
    asks: list[Level] = []
    for i in range(depth):
        bid_price = best_bid - step * i
        if bid_price > 0:
            bids.append(Level(bid_price, amount(bid_price)))
        ask_price = best_ask + step * i
        asks.append(Level(ask_price, amount(ask_price)))
    return Book(tuple(bids), tuple(asks))


@dataclass(slots=True)
class BookDepletion:
    """Liquidity the account has taken from the synthetic book during the current tick."""

    taken: dict[tuple[str, Decimal], Decimal] = field(default_factory=dict)

    def apply(self, book: Book) -> Book:
        """The book minus what was taken this tick (empty levels removed)."""

        def side(name: str, levels: tuple[Level, ...]) -> tuple[Level, ...]:
            out = []
            for lvl in levels:
                left = lvl.amount - self.taken.get((name, lvl.price), Decimal(0))
                if left > 0:
                    out.append(Level(lvl.price, left))
            return tuple(out)

        return Book(side("bid", book.bids), side("ask", book.asks))

    def take(self, side: str, price: Decimal, amount: Decimal) -> None:
        key = (side, price)
        self.taken[key] = self.taken.get(key, Decimal(0)) + amount

    def reset(self) -> None:
        self.taken.clear()
