"""The backtester: stored candles replayed through the live decide -> risk -> execute -> ledger path.

At the close of every strategy bar (``interval_s``; base bars such as 1m are aggregated first):

    view      ``PortfolioService.view`` over the book (ledger wallet, reserve, accounting, snapshot)
    decide    ``strategy.decide(MarketSnapshot(...), view, tradable)`` on the CLOSED bars only
    risk      ``RiskEngine.pre_trade`` (only when there are intents); denials counted by code
    execute   ``domain.venue.build_order_request`` rounds each approval exactly as live execution
              does; the order fills at the NEXT bar's open (``backtest.fills``)
    ledger    ``postings_for_fill`` + accounting on the book; post-trade state, harvest, snapshot

The strategy sees the same inputs it sees live: a ticker whose last/bid/ask is the last close,
closed candles of its interval (a sliding window of ``required_history()`` bars), and a
``PortfolioView`` built by the same service. Deterministic: no clock, no randomness, no I/O.

Speed: the per-base-bar cost is aggregation only; everything else runs once per strategy bar and
per symbol, over small fixed-size windows (nothing grows with the length of the backtest except
the equity curve and the trade list).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from btcbot.backtest.bars import aggregate, default_rules
from btcbot.backtest.book import BacktestBook
from btcbot.backtest.fills import FillModel
from btcbot.config.settings import Settings
from btcbot.contracts.strategy import MarketSnapshot, Strategy
from btcbot.domain.enums import TradingState
from btcbot.domain.exchange_models import Fill, OrderRequest
from btcbot.domain.intents import Approved, Denied, OrderIntent
from btcbot.domain.ledger import Account
from btcbot.domain.market import Candle, SymbolRules, Ticker
from btcbot.domain.symbols import parse_pair
from btcbot.domain.venue import VenueRejection, build_order_request, min_order_notional
from btcbot.services.execution.client_order_id import client_order_id_for
from btcbot.services.portfolio_service import PortfolioInputs, PortfolioService
from btcbot.services.risk.engine import RiskEngine
from btcbot.sim.engine.settlement import FeeSchedule

ZERO = Decimal(0)
BPS = Decimal(10_000)

#: ``progress(strategy_bars_done, strategy_bars_total)``; called every ``PROGRESS_EVERY`` bars.
Progress = Callable[[int, int], None]
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
    equity_curve: list[tuple[datetime, Decimal]] = field(default_factory=list)
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


@dataclass(frozen=True, slots=True)
class _Pending:
    request: OrderRequest
    order_id: int


def fee_schedule(settings: Settings) -> FeeSchedule:
    capital = settings.capital
    return FeeSchedule(capital.maker_fee_bps / BPS, capital.taker_fee_bps / BPS, capital.fee_tax_ratio)


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
            settings.risk,
            capital,
            self._symbols,
            min_notional={s: min_order_notional(self._rules[s], self._margin) for s in self._symbols},
            quantity_step={s: self._rules[s].numerator_scale for s in self._symbols},
        )
        self._portfolio = PortfolioService(self._symbols, self._quote, fees.taker_rate, self._tz)
        self._record = record_decisions

    @property
    def interval_s(self) -> int:
        return self._interval

    def strategy_bars(self, candles: Mapping[str, Sequence[Candle]]) -> dict[str, list[Candle]]:
        """Per symbol, the bars the strategy decides on (aggregated when the input is finer)."""
        out: dict[str, list[Candle]] = {}
        for symbol in self._symbols:
            bars = list(candles.get(symbol, ()))
            if bars and bars[0].interval_s != self._interval:
                bars = aggregate(bars, self._interval)
            out[symbol] = bars
        return out

    def run(self, candles: Mapping[str, Sequence[Candle]], progress: Progress | None = None) -> BacktestResult:
        """Replay ``candles`` (per symbol, sorted, one interval dividing ``interval_s``)."""
        result = BacktestResult(self._interval)
        result.base_bars = sum(len(candles.get(s, ())) for s in self._symbols)
        bars = self.strategy_bars(candles)
        result.bars = bars
        times = sorted({b.open_time for s in self._symbols for b in bars[s]})
        result.strategy_bars = len(times)
        if not times:
            return result

        step = timedelta(seconds=self._interval)
        history = max(1, self._strategy.required_history())
        windows: dict[str, deque[Candle]] = {s: deque(maxlen=history) for s in self._symbols}
        pointers = dict.fromkeys(self._symbols, 0)
        last_close: dict[str, Decimal] = {}
        last_seen: dict[str, datetime] = {}
        book = BacktestBook(self._quote, self._cash, self._tz)
        capital = self._settings.capital
        pending: list[_Pending] = []
        next_id = 1
        total = len(times)

        for index, opened in enumerate(times):
            now = opened + step
            current: dict[str, Candle] = {}
            for symbol in self._symbols:
                series = bars[symbol]
                pointer = pointers[symbol]
                if pointer < len(series) and series[pointer].open_time == opened:
                    current[symbol] = series[pointer]
                    pointers[symbol] = pointer + 1

            # execute: orders decided at the previous close fill at this bar's open
            if pending:
                pending = self._fill_pending(pending, current, book, result, opened)

            for symbol, bar in current.items():
                windows[symbol].append(bar)
                last_close[symbol] = bar.close
                last_seen[symbol] = now

            realized, notional = book.accounting(now)
            view = self._portfolio.view(PortfolioInputs(
                wallet=book.wallet(),
                reserve=book.balance(Account.RESERVE, self._quote),
                prices=last_close,
                open_orders=(),
                snapshot=book.snapshot,
                trading_state=book.state,
                market_age_s={s: (now - t).total_seconds() for s, t in last_seen.items()},
                realized_pnl_mtd=realized,
                rolling_notional=notional,
                now=now,
            ))
            result.equity_curve.append((now, view.equity))
            result.exposures.append(sum((q * last_close[s] for s, q in view.positions.items()), ZERO))

            # decide -> risk -> round
            if view.trading_state is not TradingState.HALTED and current:
                tickers = {
                    s: Ticker(s, c, c, c, c, c, c, ZERO, last_seen[s]) for s, c in last_close.items()
                }
                snapshot = MarketSnapshot(
                    now=now,
                    interval_s=self._interval,
                    tickers=tickers,
                    candles={s: tuple(w) for s, w in windows.items() if w},
                )
                tradable = tuple(s for s in self._symbols if s in current)
                intents = self._strategy.decide(snapshot, view, tradable)
                denied: list[str] = []
                if intents:
                    for decision in self._risk.pre_trade(intents, view, now):
                        if isinstance(decision, Denied):
                            result.denials[decision.code.value] += 1
                            denied.append(decision.code.value)
                            continue
                        prepared = self._prepare(decision, index)
                        if isinstance(prepared, VenueRejection):
                            result.venue_refusals[prepared.code.value] += 1
                            continue
                        pending.append(_Pending(prepared, next_id))
                        next_id += 1
                if self._record:
                    result.decisions.append(BarDecision(now, tuple(intents), tuple(sorted(denied))))
            elif self._record:
                result.decisions.append(BarDecision(now, ()))

            # persist: post-trade state, harvest, snapshot (as the live cycle's persist step)
            post = self._risk.post_trade(view, now)
            state = book.apply_post_trade(post)
            codes = tuple(sorted({reason.split(":", 1)[0] for reason in post.reasons}))
            if not result.state_changes or result.state_changes[-1][1:] != (state, codes):
                result.state_changes.append((now, state, codes))
            harvested = book.harvest(
                view.realized_pnl_mtd, view.pnl_month or "", view.reserve_bucket, now,
                capital.harvest_threshold, capital.harvest_ratio, f"harvest:{view.pnl_month}:{index}",
            )
            book.snapshot = self._portfolio.snapshot(view, index, now, harvested)
            if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
                progress(index + 1, total)

        result.unfilled += len(pending)
        result.final_state = book.state
        if progress is not None:
            progress(total, total)
        return result

    def _prepare(self, approved: Approved, cycle_id: int) -> OrderRequest | VenueRejection:
        """Exactly what ``OrderService.prepare`` does with an approval (venue rounding)."""
        intent = approved.intent
        return build_order_request(
            self._rules[intent.symbol],
            side=intent.side,
            order_type=intent.order_type,
            base_quantity=intent.quantity,
            price=intent.price_for_notional,
            client_order_id=client_order_id_for(intent, cycle_id),
            margin=self._margin,
        )

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
        return waiting
