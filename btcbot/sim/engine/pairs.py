"""Per-pair market state: current price, tick counter, book cache, tape and candles."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from btcbot.sim.engine.book import Book, BookDepletion, synthetic_book
from btcbot.sim.engine.candles import CandleSeries
from btcbot.sim.engine.instruments import PairSpec
from btcbot.sim.engine.money import nearest_tick
from btcbot.sim.engine.orders import PublicTrade
from btcbot.sim.engine.pricepath import PriceSource

TAPE_LENGTH = 1000


@dataclass(slots=True)
class PairState:
    """Mutable market state of one pair (owned by the engine)."""

    spec: PairSpec
    source: PriceSource
    price: Decimal
    candles: CandleSeries = field(default_factory=CandleSeries)
    tape: deque[PublicTrade] = field(default_factory=lambda: deque(maxlen=TAPE_LENGTH))
    depletion: BookDepletion = field(default_factory=BookDepletion)
    tick_index: int = 0
    _book: Book | None = None

    def book(self, depth: int, seed: int) -> Book:
        """The synthetic book for the current tick minus what the account took this tick."""
        if self._book is None:
            self._book = synthetic_book(self.spec, self.price, depth, seed, self.tick_index)
        return self.depletion.apply(self._book)

    def move_to(self, price: Decimal) -> None:
        """New tick: new price, fresh book, depletion forgotten."""
        self.price = nearest_tick(price, self.spec.tick_size)
        self.tick_index += 1
        self.depletion.reset()
        self._book = None

    def limit_price_band(self) -> tuple[Decimal, Decimal]:
        """(minimumLimitOrderPrice, maximumLimitOrderPrice): /10 and x10 of the current price."""
        tick = self.spec.tick_size
        low = max(tick, nearest_tick(self.price / 10, tick))
        return low, self.price * 10
