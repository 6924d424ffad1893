"""The backtester: stored candles replayed through the live decide -> risk -> execute -> ledger path.

At the close of every strategy bar (``interval_s``; base bars such as 1m are aggregated first):

    view      ``PortfolioService.view`` over the book (ledger wallet, reserve, accounting, snapshot)
    decide    ``strategy.decide(MarketSnapshot(...), view, tradable)`` on the CLOSED bars only
    risk      ``RiskEngine.pre_trade`` (only when there are intents); denials counted by code
    execute   ``services.order_preparation.prepare_order`` (the function live execution calls)
              rounds each approval to the venue rules; fills at the NEXT bar's open (``backtest.fills``)
    ledger    ``postings_for_fill`` + accounting on the book; post-trade state, harvest, snapshot

The strategy sees the same inputs it sees live: a ticker whose last/bid/ask is the last close,
closed candles of its interval (a sliding window of ``required_history()`` bars), and a
``PortfolioView`` built by the same service. Deterministic: no clock, no randomness, no I/O.

Work only where something happens. Every bar costs: merging the symbols' next bars, one window
append per symbol, the mark-to-market equity (one multiply-add per held symbol) and the running
high-water mark / day-start equity. The rest is done only when it can matter:

* a strategy implementing ``BarFilter.may_act`` (e.g. ``ema_cross``) is asked first; when it says
  nothing can happen at this bar, the bar's portfolio view, ``decide`` and risk are skipped
  (``decide`` would have returned ``[]`` whatever the portfolio). Strategies without it are
  decided on every bar, as before;
* the post-trade check (``RiskEngine.post_trade``: the trading state of the NEXT bar) runs on
  every ``STATE_EVERY_S`` of bar time; on other bars it is evaluated lazily, exactly, from that bar's recorded mark (wallet, reserve,
  prices, running snapshot values) when the next decision needs the state (the check depends only on the view, never
  on the previous state, since a backtest never HALTs). So every decision sees exactly the state
  the live cycle would have; ``state_changes`` has that resolution on quiet stretches;
* harvest runs on bars with a fill and on the first bar of a month (the only times realized PnL
  month-to-date can change); the snapshot (high-water mark, day-start equity, harvested) is kept
  as running values instead of being rebuilt every bar.

Memory: candles may be STREAMED (any iterables per symbol, e.g. ``SqlCandleStore.iter_range``);
only the strategy's window of ``required_history()`` bars per symbol is held, plus ``result.bars``
unless ``keep_bars=False``. The equity curve, exposures and fills grow with the run.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import chain

from btcbot.backtest.bars import default_rules, iter_aggregate
from btcbot.backtest.book import BacktestBook
from btcbot.backtest.fills import FillModel
from btcbot.backtest.series import TimeSeries
from btcbot.backtest.windows import LastCloseTickers, RiskCalendar, WindowView, merge_bars
from btcbot.config.params import capital_params, risk_params
from btcbot.config.settings import Settings
from btcbot.contracts.strategy import MarketSnapshot, Strategy
from btcbot.domain.enums import TradingState
from btcbot.domain.exchange_models import Fill, OrderRequest
from btcbot.domain.intents import Approved, Denied, OrderIntent
from btcbot.domain.ledger import Account, PortfolioSnapshot
from btcbot.domain.market import Candle, SymbolRules
from btcbot.domain.portfolio import PortfolioView
from btcbot.domain.symbols import parse_pair
from btcbot.domain.venue import VenueRejection, min_order_notional
from btcbot.services.order_preparation import prepare_order
from btcbot.services.portfolio_service import PortfolioInputs, PortfolioService
from btcbot.services.risk.engine import RiskEngine
from btcbot.sim.engine.settlement import FeeSchedule

ZERO = Decimal(0)
BPS = Decimal(10_000)

#: ``progress(strategy_bars_done, strategy_bars_total)``; called every ``PROGRESS_EVERY`` bars.
Progress = Callable[[int, int], None]
#: ``observer(bar_close, bars_closing_now, latest_closes)``: called once per strategy bar, after
#: the bar's closes are known (e.g. :class:`btcbot.backtest.tracking.PriceTrack`).
Observer = Callable[[datetime, Mapping[str, Candle], Mapping[str, Decimal]], None]
PROGRESS_EVERY = 500


@dataclass(frozen=True, slots=True)
class BarDecision:
    """What the strategy asked for at one bar close (kept when ``record_decisions`` is on)."""

    at: datetime
    intents: tuple[OrderIntent, ...]
    #: Codes of the risk denials at this bar, sorted (as ``CycleResult.denied`` live).
    denied: tuple[str, ...] = ()


@dataclass
class BacktestResult:
    interval_s: int
    #: (bar close, equity) per strategy bar, stored compactly (reads like a list of pairs).
    equity_curve: TimeSeries = field(default_factory=TimeSeries)
    exposures: list[Decimal] = field(default_factory=list)
    trades: list[Fill] = field(default_factory=list)
    denials: Counter[str] = field(default_factory=Counter)
    venue_refusals: Counter[str] = field(default_factory=Counter)
    unfilled: int = 0
    decisions: list[BarDecision] = field(default_factory=list)
    bars: dict[str, list[Candle]] = field(default_factory=dict)
    base_bars: int = 0
    strategy_bars: int = 0
    final_state: TradingState = TradingState.ACTIVE
    #: Post-trade trading state transitions: (bar close, state, sorted reason codes); the first
    #: entry is the first bar's. Read by the report's trading-state timeline.
    state_changes: list[tuple[datetime, TradingState, tuple[str, ...]]] = field(default_factory=list)
    #: Per fill (aligned with ``trades``): the open of the bar it filled on, the price the fill
    #: model starts from (the report's slippage reference; kept even when the bars are not).
    fill_opens: list[Decimal] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Pending:
    request: OrderRequest
    order_id: int


def fee_schedule(settings: Settings) -> FeeSchedule:
    capital = settings.capital
    return FeeSchedule(capital.maker_fee_bps / BPS, capital.taker_fee_bps / BPS, capital.fee_tax_ratio)



#: Bar time between two post-trade checks on quiet stretches (the timeline's resolution there).
STATE_EVERY_S = 3600


class _Mark:
    """One bar's portfolio inputs: enough to build that bar's view later, exactly."""

    __slots__ = ("index", "now", "prices", "seen", "wallet", "reserve", "equity", "high_water",
                 "day", "day_start", "month", "harvested", "state", "checked", "accounting", "view")

    def __init__(self, index: int, now: datetime, prices: dict[str, Decimal], seen: dict[str, datetime],
                 wallet: dict[str, Decimal], reserve: Decimal, equity: Decimal, state: TradingState) -> None:
        self.index = index
        self.now = now
        self.prices = prices
        self.seen = seen
        self.wallet = wallet
        self.reserve = reserve
        self.equity = equity
        self.high_water = equity
        self.day = ""
        self.day_start = equity
        self.month = ""
        self.harvested = ZERO
        #: The trading state this bar's view carries (the previous bar's post-trade result).
        self.state = state
        #: True once this bar's post-trade check ran (its result is the next bar's state).
        self.checked = False
        #: (realized PnL MTD, rolling notional) as of this bar, kept when a fill is about to change
        #: them; None: still the book's current figures.
        self.accounting: tuple[Decimal, Decimal] | None = None
        #: The view built for this bar (its inputs do not change once built: the state is set
        #: before, the accounting figures are the book's until a fill, and kept on the mark then).
        self.view: PortfolioView | None = None


class _Run:
    """The mutable state of one :meth:`BacktestEngine.run`."""

    def __init__(self, engine: BacktestEngine, result: BacktestResult) -> None:
        self.engine = engine
        self.result = result
        self.book = BacktestBook(engine._quote, engine._cash, engine._tz)
        self.calendar = RiskCalendar(engine._tz)
        self.pending: list[_Pending] = []
        self.next_id = 1
        self.state = TradingState.ACTIVE  # the state the next bar's view carries
        self.prev: _Mark | None = None
        self.prev2: _Mark | None = None
        self._version = -1
        self.wallet: dict[str, Decimal] = {}
        self.reserve = ZERO
        self.held: list[tuple[str, Decimal]] = []  # (symbol, quantity) sorted: the valued positions

    def balances(self) -> None:
        """Refresh the cached wallet, reserve and held positions after the book changed."""
        book = self.book
        if book.version == self._version:
            return
        self._version = book.version
        self.wallet = book.wallet()
        self.reserve = book.balance(Account.RESERVE, self.engine._quote)
        positions = self.engine._portfolio.positions(self.wallet)
        self.held = sorted(positions.items())

    def accounting(self, mark: _Mark) -> tuple[Decimal, Decimal]:
        return mark.accounting if mark.accounting is not None else self.book.accounting(mark.now, mark.day)

    def snapshot_of(self, mark: _Mark) -> PortfolioSnapshot:
        realized, notional = self.accounting(mark)
        return PortfolioSnapshot(
            at=mark.now, cycle_id=mark.index, equity=mark.equity, high_water_mark=mark.high_water,
            day_start_equity=mark.day_start, day_key=mark.day, reserve_bucket=mark.reserve,
            rolling_notional_30d=notional, realized_pnl_mtd=realized, month_key=mark.month,
            harvested_mtd=mark.harvested,
        )

    def view(self, mark: _Mark, before: _Mark | None) -> PortfolioView:
        """Exactly the view the per-bar loop built at ``mark`` (``before``: the bar before it).

        Built once per bar: a bar decided on and then post-trade checked at the next bar's
        decision reuses it."""
        if mark.view is not None:
            return mark.view
        realized, notional = self.accounting(mark)
        now = mark.now
        view = mark.view = self.engine._portfolio.view(PortfolioInputs(
            wallet=mark.wallet,
            reserve=mark.reserve,
            prices=mark.prices,
            open_orders=(),
            snapshot=self.snapshot_of(before) if before is not None else None,
            trading_state=mark.state,
            market_age_s={s: (now - t).total_seconds() for s, t in mark.seen.items()},
            realized_pnl_mtd=realized,
            rolling_notional=notional,
            now=now,
        ))
        return view

    def post_trade(self, mark: _Mark, view: PortfolioView) -> None:
        """The live persist step's state update: the post-trade check of ``mark``'s view."""
        post = self.engine._risk.post_trade(view, mark.now)
        state = self.book.apply_post_trade(post)
        codes = tuple(sorted({reason.split(":", 1)[0] for reason in post.reasons}))
        changes = self.result.state_changes
        if not changes or changes[-1][1:] != (state, codes):
            changes.append((mark.now, state, codes))
        mark.checked = True
        self.state = state

    def settle_previous(self) -> None:
        """Make sure the previous bar's post-trade check ran (lazily, from its mark)."""
        prev = self.prev
        if prev is not None and not prev.checked:
            self.post_trade(prev, self.view(prev, self.prev2))


class BacktestEngine:
    """One configured backtest; :meth:`run` may be called once per instance."""

    def __init__(
        self,
        settings: Settings,
        strategy: Strategy,
        interval_s: int | None = None,
        rules: Mapping[str, SymbolRules] | None = None,
        starting_cash: Decimal | None = None,
        record_decisions: bool = False,
    ) -> None:
        self._settings = settings
        self._strategy = strategy
        self._symbols = tuple(settings.trading.symbols)
        self._quote = settings.trading.quote_asset
        self._interval = interval_s or settings.trading.candle_interval_s
        self._rules = dict(rules) if rules is not None else default_rules(self._symbols)
        self._margin = settings.exchange.min_notional_margin
        self._tz = settings.risk.day_boundary_tz
        capital = settings.capital
        self._cash = starting_cash if starting_cash is not None else capital.paper_starting_balance
        fees = fee_schedule(settings)
        self._fills = FillModel(fees, capital.slippage_bps / BPS)
        self._risk = RiskEngine(
            risk_params(settings.risk),
            capital_params(capital),
            self._symbols,
            min_notional={s: min_order_notional(self._rules[s], self._margin) for s in self._symbols},
            quantity_step={s: self._rules[s].numerator_scale for s in self._symbols},
        )
        self._portfolio = PortfolioService(self._symbols, self._quote, fees.taker_rate, self._tz)
        self._record = record_decisions
        may_act = getattr(strategy, "may_act", None)
        self._may_act: Callable[[MarketSnapshot, Sequence[str]], bool] | None = (
            may_act if callable(may_act) else None
        )

    @property
    def interval_s(self) -> int:
        return self._interval

    @property
    def symbols(self) -> tuple[str, ...]:
        """The traded universe (``trading.symbols``)."""
        return self._symbols

    def strategy_bars(self, candles: Mapping[str, Sequence[Candle]]) -> dict[str, list[Candle]]:
        """Per symbol, the bars the strategy decides on (aggregated when the input is finer)."""
        return {s: list(self._stream(candles.get(s, ()), [0])) for s in self._symbols}

    def _stream(self, bars: Iterable[Candle], counter: list[int]) -> Iterator[Candle]:
        """The symbol's strategy bars, aggregated on the fly when finer; counts the input bars."""
        it = iter(bars)
        first = next(it, None)
        if first is None:
            return iter(())

        def counted() -> Iterator[Candle]:
            counter[0] += 1
            yield first
            for bar in it:
                counter[0] += 1
                yield bar

        if first.interval_s != self._interval:
            return iter_aggregate(counted(), self._interval)
        return counted()

    def run(
        self,
        candles: Mapping[str, Iterable[Candle]],
        progress: Progress | None = None,
        keep_bars: bool = True,
        expected_bars: int | None = None,
        observer: Observer | None = None,
    ) -> BacktestResult:
        """Replay ``candles`` (per symbol, sorted, one interval dividing ``interval_s``).

        ``candles`` may be lists or streams (iterables read once). ``keep_bars=False`` leaves
        ``result.bars`` empty (a long streamed run then holds only the strategy's windows).
        ``expected_bars``: the progress total for streams (lists are counted).
        ``observer``: called at every strategy bar close (see :data:`Observer`).
        """
        result = BacktestResult(self._interval)
        counters = {s: [0] for s in self._symbols}
        firsts: dict[str, tuple[Candle, Iterator[Candle]]] = {}
        for symbol in self._symbols:
            it = iter(candles.get(symbol, ()))
            first = next(it, None)
            if first is not None:
                firsts[symbol] = (first, it)
        # Bars already of the strategy interval go to the merge as they are (the loop counts them);
        # finer bars are counted on the way into the aggregation.
        direct = all(first.interval_s == self._interval for first, _ in firsts.values())
        streams: dict[str, Iterator[Candle]] = {
            s: chain((first,), it) if direct else self._stream(chain((first,), it), counters[s])
            for s, (first, it) in firsts.items()
        }
        total = expected_bars or 0
        if not total and all(isinstance(candles.get(s, ()), Sized) for s in self._symbols):
            sizes = [len(candles.get(s, ())) for s in self._symbols]  # type: ignore[arg-type]
            total = max(sizes, default=0)
            finest = min((b[0].interval_s for b in (candles.get(s, ()) for s in self._symbols)
                          if isinstance(b, Sequence) and b), default=self._interval)
            total = -(-total * finest // self._interval)
        if keep_bars:
            result.bars = {s: [] for s in self._symbols}
        merged = self._loop(result, streams, progress, total, keep_bars, observer)
        result.base_bars = merged if direct else sum(c[0] for c in counters.values())
        return result

    def _loop(self, result: BacktestResult, streams: Mapping[str, Iterator[Candle]], progress: Progress | None,
              total: int, keep_bars: bool, observer: Observer | None) -> int:
        """The per-bar loop; returns how many symbol-bars it merged."""
        step = timedelta(seconds=self._interval)
        history = max(1, self._strategy.required_history())
        windows: dict[str, deque[Candle]] = {s: deque(maxlen=history) for s in self._symbols}
        views = {s: WindowView(w) for s, w in windows.items()}
        state_every = max(1, STATE_EVERY_S // self._interval)
        run = _Run(self, result)
        book = run.book
        capital = self._settings.capital
        prices: dict[str, Decimal] = {}
        seen: dict[str, datetime] = {}
        may_act = self._may_act
        record = self._record
        strategy = self._strategy
        index = -1
        merged = 0
        universe = len(self._symbols)
        for opened, current in merge_bars(streams):
            index += 1
            merged += len(current)
            now = opened + step
            filled = False
            if run.pending:
                before = len(result.trades)
                run.pending = self._fill_pending(run.pending, current, book, result, opened)
                filled = len(result.trades) != before

            if len(current) == universe and not keep_bars:  # every symbol has a bar: fresh dicts
                for symbol, bar in current.items():
                    windows[symbol].append(bar)
                prices = {symbol: bar.close for symbol, bar in current.items()}
                seen = dict.fromkeys(current, now)
            else:  # a symbol without a bar keeps its last close and time
                prices = prices.copy()
                seen = seen.copy()
                for symbol, bar in current.items():
                    windows[symbol].append(bar)
                    prices[symbol] = bar.close
                    seen[symbol] = now
                    if keep_bars:
                        result.bars[symbol].append(bar)
            if observer is not None:
                observer(now, current, prices)

            run.balances()
            value = sum((q * prices[s] for s, q in run.held), ZERO)
            # = mark_to_market_equity(cash_total, held, prices), the same Decimal operations in order
            equity = run.wallet.get(self._quote, ZERO) + run.reserve + value - ZERO
            mark = _Mark(index, now, prices, seen, run.wallet, run.reserve, equity, run.state)
            day, month = run.calendar.keys(now)
            mark.day, mark.month = day, month
            prev = run.prev
            new_month = prev is None or prev.month != month
            if prev is not None:
                mark.high_water = max(equity, prev.high_water)
                if prev.day == day:
                    mark.day_start = prev.day_start
                if not new_month:
                    mark.harvested = prev.harvested
            result.equity_curve.append((now, equity))
            result.exposures.append(value)

            # decide -> risk -> round (only when the strategy may act at this bar)
            view: PortfolioView | None = None
            if current:
                snapshot = MarketSnapshot.from_windows(now, self._interval, LastCloseTickers(prices, seen), views)
                tradable = self._symbols if len(current) == len(self._symbols) else tuple(
                    s for s in self._symbols if s in current)
                if may_act is None or may_act(snapshot, tradable):
                    run.settle_previous()
                    mark.state = run.state
                    view = run.view(mark, prev)
                    intents = strategy.decide(snapshot, view, tradable)
                    denied = self._submit(intents, view, now, index, run) if intents else []
                    if record:
                        result.decisions.append(BarDecision(now, tuple(intents), tuple(sorted(denied))))
                elif record:
                    result.decisions.append(BarDecision(now, ()))
            elif record:
                result.decisions.append(BarDecision(now, ()))

            # persist: post-trade state and harvest (as the live cycle's persist step). The check
            # runs lazily (see the module docstring); before a fill changes the accounting, the
            # figures this bar's view needs are kept on its mark.
            if run.pending:
                mark.accounting = book.accounting(now, day)
                if prev is not None and not prev.checked and prev.accounting is None:
                    prev.accounting = book.accounting(prev.now, prev.day)
            if index % state_every == 0:
                if view is None:
                    run.settle_previous()
                    mark.state = run.state
                    view = run.view(mark, prev)
                run.post_trade(mark, view)
            if filled or new_month:
                realized, _ = book.accounting(now, day)
                mark.harvested = book.harvest(
                    realized, month, mark.reserve, now, capital.harvest_threshold, capital.harvest_ratio,
                    f"harvest:{month}:{index}", harvested=mark.harvested,
                )
            run.prev2, run.prev = prev, mark
            if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
                progress(index + 1, max(total, index + 1))

        run.settle_previous()
        result.strategy_bars = index + 1
        result.unfilled += len(run.pending)
        result.final_state = book.state
        if progress is not None:
            progress(index + 1, index + 1)
        return merged

    def _submit(self, intents: Sequence[OrderIntent], view: PortfolioView, now: datetime, index: int,
                run: _Run) -> list[str]:
        """Risk-check the intents; approved ones are rounded by the venue rules and queued."""
        result = run.result
        denied: list[str] = []
        for decision in self._risk.pre_trade(intents, view, now):
            if isinstance(decision, Denied):
                result.denials[decision.code.value] += 1
                denied.append(decision.code.value)
                continue
            prepared = self._prepare(decision, index)
            if isinstance(prepared, VenueRejection):
                result.venue_refusals[prepared.code.value] += 1
                continue
            run.pending.append(_Pending(prepared, run.next_id))
            run.next_id += 1
        return denied

    def _prepare(self, approved: Approved, cycle_id: int) -> OrderRequest | VenueRejection:
        """The live path's own preparation (``services.order_preparation``): venue rounding, the
        missing-rules refusal, the client order id."""
        return prepare_order(approved, cycle_id, self._rules, self._margin)

    def _fill_pending(
        self,
        pending: list[_Pending],
        current: Mapping[str, Candle],
        book: BacktestBook,
        result: BacktestResult,
        at: datetime,
    ) -> list[_Pending]:
        """Fill what can fill on this bar; market orders of a symbol without a bar wait for it."""
        waiting: list[_Pending] = []
        for item in pending:
            request = item.request
            bar = current.get(request.symbol)
            if bar is None:
                waiting.append(item)
                continue
            base = parse_pair(request.symbol).base
            fill = self._fills.fill(
                request,
                bar,
                self._rules[request.symbol],
                free_quote=book.balance(Account.WALLET, self._quote),
                held=book.balance(Account.WALLET, base),
                trade_id=len(result.trades) + 1,
                order_id=item.order_id,
                at=at,
            )
            if fill is None:
                result.unfilled += 1
                continue
            book.book_fill(fill, at)
            result.trades.append(fill)
            result.fill_opens.append(bar.open)
        return waiting
