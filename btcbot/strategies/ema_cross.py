"""``ema_cross``: long-only EMA(12)/EMA(26) crossover, a fixed quote amount per entry.

On every closed bar, per tradable symbol:

* the fast EMA crosses ABOVE the slow one (previous bar ``fast - slow <= 0``, this bar ``> 0``)
  and nothing is held or bid -> market BUY of ``entry_quote`` (default 500 TRY) worth, sized in
  base units at the ticker's last price (else the last close) and rounded down to 8 decimals;
* the fast EMA crosses BELOW the slow one (``>= 0`` -> ``< 0``) and something is held -> market
  SELL of everything sellable;
* otherwise nothing. The strategy acts on the crossing only (like freqtrade's ``crossed_above``),
  so a denied or unfilled entry waits for the next crossing.

Indicators: :class:`btcbot.strategies.ta.Ema` (TA-Lib seeding) inside an
:class:`btcbot.strategies.anchored.Anchored` fold, so each closed bar costs O(1) and the value is
still a pure function of the last ``required_history()`` bars (live = backtest = replay).
Default warmup: 10 slow periods (the SMA seed's weight has decayed below 1e-8 by then).

Expected edge: the strategy forecasts nothing; it attaches the configured ``edge_bps`` (default
100) to every intent, a belief for the risk engine's edge gate like ``rebalance``'s.

The optional :meth:`EmaCrossStrategy.may_act` (the backtester's quiet-bar filter, see
``btcbot.contracts.strategy.BarFilter``) says whether any symbol crossed at this bar; when none
did, ``decide`` would return ``[]`` whatever the portfolio, and the backtester skips the
portfolio view and risk checks of that bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from btcbot.contracts.strategy import HoldCode, HoldReason, MarketSnapshot
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import OrderIntent
from btcbot.domain.market import Candle
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.anchored import Anchored
from btcbot.strategies.holds import SymbolHold, combine, no_price, warming_up
from btcbot.strategies.ta import Ema

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class EmaCrossParams:
    fast_period: int = 12
    slow_period: int = 26
    entry_quote: Decimal = Decimal("500")
    edge_bps: Decimal = Decimal("100")
    warmup_multiple: int = 10
    quantity_places: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.fast_period < self.slow_period:
            raise ValueError("need 1 <= fast_period < slow_period")
        if self.entry_quote <= 0:
            raise ValueError("entry_quote must be positive")
        if self.warmup_multiple < 1:
            raise ValueError("warmup_multiple must be >= 1")

    @property
    def warmup(self) -> int:
        return self.warmup_multiple * self.slow_period


class CrossFold:
    """Both EMAs and the last two values of ``fast - slow`` over one anchored chain."""

    __slots__ = ("fast", "slow", "diff", "prev", "_last")

    def __init__(self, fast: int, slow: int, last: list[object] | None = None) -> None:
        self.fast = Ema(fast)
        self.slow = Ema(slow)
        self.diff: float | None = None
        self.prev: float | None = None
        # [bar, float(bar.close)] shared by a symbol's chains: each close is converted once.
        self._last: list[object] = last if last is not None else [None, 0.0]

    def update(self, bar: Candle) -> None:
        last = self._last
        if last[0] is bar:
            x: float = last[1]  # type: ignore[assignment]
        else:
            x = float(bar.close)
            last[0], last[1] = bar, x
        fast, slow = self.fast, self.slow
        self.prev = self.diff
        f, s = fast.value, slow.value
        if f is not None and s is not None:
            # Ema.update's steady-state step, inlined (the hot path of a per-minute backtest).
            f = (x - f) * fast.k + f
            s = (x - s) * slow.k + s
            fast.value, slow.value = f, s
            self.diff = f - s
            return
        f, s = fast.update(x), slow.update(x)
        self.diff = None if f is None or s is None else f - s

    def crossing(self) -> int:
        """+1 crossed above, -1 crossed below, 0 otherwise."""
        prev, diff = self.prev, self.diff
        if prev is None or diff is None:
            return 0
        if prev <= 0.0 < diff:
            return 1
        if prev >= 0.0 > diff:
            return -1
        return 0


@dataclass(frozen=True, slots=True)
class EmaCrossStrategy:
    strategy_id: str
    params: EmaCrossParams = field(default_factory=EmaCrossParams)
    # Memo of the anchored folds per symbol: derived from the snapshots only (see anchored.py).
    _state: dict[str, Anchored[CrossFold]] = field(default_factory=dict, compare=False, repr=False)

    def required_history(self) -> int:
        return 2 * self.params.warmup

    def _fold(self, snapshot: MarketSnapshot, symbol: str) -> CrossFold | None:
        tracker = self._state.get(symbol)
        if tracker is None:
            p = self.params
            shared: list[object] = [None, 0.0]
            tracker = Anchored(lambda: CrossFold(p.fast_period, p.slow_period, shared), p.warmup)
            self._state[symbol] = tracker
        return tracker.at(snapshot.bars(symbol), snapshot.interval_s)

    def may_act(self, snapshot: MarketSnapshot, tradable_symbols: Sequence[str]) -> bool:
        """True when some tradable symbol's EMAs crossed at this bar (else ``decide`` returns [])."""
        # Runs for every symbol at every bar of a backtest: ``_fold`` and ``crossing`` inlined.
        state, bars, interval = self._state, snapshot.bars, snapshot.interval_s
        for symbol in tradable_symbols:
            tracker = state.get(symbol)
            fold = self._fold(snapshot, symbol) if tracker is None else tracker.at(bars(symbol), interval)
            if fold is None:
                continue
            prev, diff = fold.prev, fold.diff
            if prev is not None and diff is not None and (prev <= 0.0 < diff or prev >= 0.0 > diff):
                return True
        return False

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        sells: list[OrderIntent] = []
        buys: list[OrderIntent] = []
        p = self.params
        for symbol in sorted(set(tradable_symbols)):
            fold = self._fold(snapshot, symbol)
            if fold is None:
                continue
            cross = fold.crossing()
            if not cross:
                continue
            price = snapshot.last_price(symbol)
            if price is None or price <= 0:
                continue
            reason = f"ema_cross {'up' if cross > 0 else 'down'} diff={fold.diff!r}"
            if cross < 0:
                qty = portfolio.sellable_qty(symbol)
                if qty > 0:
                    sells.append(self._intent(symbol, Side.SELL, qty, price, reason))
            elif (
                portfolio.trading_state is TradingState.ACTIVE
                and portfolio.exposure_qty(symbol) == 0
            ):
                qty = (p.entry_quote / price).quantize(Decimal(1).scaleb(-p.quantity_places), rounding=ROUND_DOWN)
                if qty > 0:
                    buys.append(self._intent(symbol, Side.BUY, qty, price, reason))
        return sells + buys

    def hold_reason(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> HoldReason:
        """Why ``decide`` returned ``[]`` (``btcbot.contracts.strategy.ExplainsHold``), per symbol:
        warming up, no cross (and on which side the fast EMA is), a cross up while a position is
        already held or bid (one entry per position), a cross up while not ACTIVE, a cross down
        with nothing to sell, no price."""
        held: list[SymbolHold] = []
        for symbol in sorted(set(tradable_symbols)):
            fold = self._fold(snapshot, symbol)
            if fold is None or fold.diff is None:
                need = self.required_history()
                held.append((symbol, warming_up(min(len(snapshot.bars(symbol)), need), need)))
                continue
            held.append((symbol, self._why(fold, snapshot.last_price(symbol), portfolio, symbol)))
        return combine(held)

    def _why(self, fold: CrossFold, price: Decimal | None, portfolio: PortfolioView, symbol: str) -> HoldReason:
        p = self.params
        emas = f"ema{p.fast_period}/ema{p.slow_period}"
        cross = fold.crossing()
        if cross == 0:
            side = "above" if fold.diff is not None and fold.diff > 0 else "below"
            return HoldReason(HoldCode.NO_SIGNAL.value, f"no {emas} cross (fast {side} slow)")
        if price is None or price <= 0:
            return no_price()
        if cross < 0:
            return HoldReason(HoldCode.NO_SIGNAL.value, f"{emas} crossed down, nothing to sell")
        if portfolio.trading_state is not TradingState.ACTIVE:
            return HoldReason(HoldCode.NOT_TRADING.value,
                              f"{emas} crossed up, trading state {portfolio.trading_state.value}: no entries")
        if portfolio.exposure_qty(symbol) != 0:
            return HoldReason(HoldCode.POSITION_CAP.value,
                              f"{emas} crossed up, already holding or bidding (one entry per position)")
        return HoldReason(HoldCode.ORDER_TOO_SMALL.value,
                          f"{emas} crossed up, {p.entry_quote} rounds down to nothing at this price")

    def _intent(self, symbol: str, side: Side, qty: Decimal, price: Decimal, reason: str) -> OrderIntent:
        return OrderIntent(
            strategy_id=self.strategy_id,
            symbol=symbol,
            side=side,
            order_type=OrderType.MARKET,
            quantity=qty,
            reference_price=price,
            expected_edge_bps=self.params.edge_bps,
            reason=reason,
        )
