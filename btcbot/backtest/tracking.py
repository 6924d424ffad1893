"""What the report needs of the prices, gathered while the engine streams the bars.

A streamed backtest (``BacktestEngine.run(..., keep_bars=False)``) keeps no bars, so the figures
the report used to read from ``result.bars`` are gathered bar by bar by a :class:`PriceTrack`
passed as the run's ``observer``, in memory proportional to the number of symbols plus the
sampled points:

* **buy-and-hold**: the equal-weight benchmark of :func:`btcbot.backtest.report.buy_and_hold`,
  valued at every bar close as the bars arrive. The numbers are identical to computing it over
  the kept bars: it buys at the first bar close at which every symbol has a closed bar (the
  latest of the symbols' first close times), at that close, with the same costs, and values the
  holdings at each bar close with the latest close known then, with the same Decimal operations
  in the same order and context;
* **last close** of every symbol (open positions at the end are valued at it);
* **a price series per symbol for the chart**: the last close of every ``sample_s`` of bar time
  (epoch-aligned: a bar closing at 01:00 ends the hour 00:00-01:00; default one hour: 8,760 points per symbol for a year of 1-minute bars instead of 525,600),
  plus the last close of the run. The HTML report draws this series; trades are marked at their
  own fill time and price.

The open of the bar each fill happened on (the slippage reference) is recorded by the engine
itself (``BacktestResult.fill_opens``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext

from btcbot.backtest.report import _CALC, Benchmark, TradeRecord
from btcbot.backtest.series import TimeSeries
from btcbot.domain.enums import Side
from btcbot.domain.market import Candle

ZERO = Decimal(0)
#: Default spacing of the chart's price samples (bar time).
SAMPLE_S = 3600


class PriceTrack:
    """Engine observer: the streamed benchmark, last closes and sampled closes (see module doc)."""

    def __init__(
        self,
        symbols: Sequence[str],
        initial_equity: Decimal,
        fee_bps: Decimal = ZERO,
        tax_ratio: Decimal = ZERO,
        slippage_bps: Decimal = ZERO,
        sample_s: int = SAMPLE_S,
    ) -> None:
        if not symbols:
            raise ValueError("PriceTrack needs at least one symbol")
        if sample_s <= 0:
            raise ValueError("sample_s must be positive")
        self.symbols = tuple(sorted(set(symbols)))
        self.initial_equity = initial_equity
        self._fee_bps = fee_bps
        self._tax_ratio = tax_ratio
        self._slippage_bps = slippage_bps
        self._sample_s = sample_s
        self._quantities: list[tuple[str, Decimal]] | None = None
        self.trades: tuple[TradeRecord, ...] = ()
        self.curve = TimeSeries()
        self.exposures: list[Decimal] = []
        self.last_prices: Mapping[str, Decimal] = {}
        self.samples: dict[str, list[tuple[datetime, Decimal]]] = {s: [] for s in self.symbols}
        self._pending: dict[str, tuple[datetime, Decimal]] = {}
        self._bucket: int | None = None

    def __call__(self, now: datetime, current: Mapping[str, Candle], prices: Mapping[str, Decimal]) -> None:
        """One bar close: ``current`` the bars closing at ``now``, ``prices`` the latest closes."""
        self.last_prices = prices  # the engine makes a new dict every bar
        bucket = (int(now.timestamp()) - 1) // self._sample_s  # closes at 01:00 end hour 00
        if bucket != self._bucket:
            self._flush()
            self._bucket = bucket
        pending = self._pending
        for symbol, bar in current.items():
            if symbol in self.samples:
                pending[symbol] = (now, bar.close)
        quantities = self._quantities
        if quantities is None:
            if any(s not in prices for s in self.symbols):
                self.curve.append((now, self.initial_equity))
                self.exposures.append(ZERO)
                return
            quantities = self._buy(now, prices)
        with localcontext(_CALC):
            held = sum((q * prices[s] for s, q in quantities), ZERO)
        self.curve.append((now, held))
        self.exposures.append(held)

    def _buy(self, start: datetime, prices: Mapping[str, Decimal]) -> list[tuple[str, Decimal]]:
        """``buy_and_hold``'s purchase, at ``start`` (every symbol has a close from here on)."""
        trades: list[TradeRecord] = []
        quantities: list[tuple[str, Decimal]] = []
        with localcontext(_CALC):
            budget = self.initial_equity / Decimal(len(self.symbols))
            fee = budget * self._fee_bps / Decimal(10000)
            tax = fee * self._tax_ratio
            slip = budget * self._slippage_bps / Decimal(10000)
            for symbol in self.symbols:
                price = prices[symbol]
                quantity = (budget - fee - tax - slip) / price
                quantities.append((symbol, quantity))
                trades.append(TradeRecord(start, symbol, Side.BUY, quantity, price, fee, tax, slip))
        self.trades = tuple(trades)
        self._quantities = quantities
        return quantities

    def _flush(self) -> None:
        for symbol, point in self._pending.items():
            self.samples[symbol].append(point)
        self._pending = {}

    def finish(self) -> None:
        """Record the last sampled closes (call once, after the run)."""
        self._flush()
        self.last_prices = dict(self.last_prices)

    @property
    def bought(self) -> bool:
        """True once every symbol had a close (the benchmark bought)."""
        return self._quantities is not None

    def benchmark(self) -> Benchmark:
        """The benchmark as :func:`~btcbot.backtest.report.buy_and_hold` returns it."""
        if not self.bought:
            raise ValueError("no moment at which every symbol had a close: no buy-and-hold benchmark")
        return Benchmark(self.curve, self.trades, tuple(self.exposures))
