"""The report of a finished backtest run: benchmark, costs, slippage and the run's context.

``report_for_run`` is what ``runner.build_backtest_report`` delegates to. It reads only the
engine's result types (:class:`~btcbot.backtest.engine.BacktestResult`): the equity curve,
exposures, fills, denials, the strategy bars and the recorded trading-state changes.

Costs are reported the same way for the strategy and the buy-and-hold benchmark:

* fees and taxes: the fills' own (quote asset); the benchmark pays the taker fee and the tax on
  it once, on its initial purchase;
* slippage: for a strategy fill, ``qty * (price - open)`` for a buy and ``qty * (open - price)``
  for a sell, where ``open`` is the open of the strategy bar it filled on (the price the fill model
  starts from), counted only when positive (a limit filling below the open is no slippage);
  for the benchmark ``budget * slippage_bps / 10000`` per symbol.

Two sources for the price figures (benchmark, last closes, slippage references), with identical
results: the kept bars (``result.bars``, a run with ``keep_bars=True``) or, for a streamed run, a
:class:`~btcbot.backtest.tracking.PriceTrack` observer and the engine's ``result.fill_opens``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext

from btcbot.backtest.engine import BacktestResult
from btcbot.backtest.report import BacktestReport, RunContext, TradeLike, build_report, buy_and_hold
from btcbot.backtest.roundtrips import CALC, ZERO
from btcbot.backtest.tracking import PriceTrack
from btcbot.config.settings import Settings
from btcbot.domain.enums import Side
from btcbot.domain.market import Candle


def fill_slippage(fills: Sequence[TradeLike], bars: Mapping[str, Sequence[Candle]]) -> Decimal:
    """Quote paid beyond the open of the bar each fill happened on (see the module docstring)."""
    opens: dict[str, tuple[list[datetime], Sequence[Candle]]] = {
        symbol: ([c.open_time for c in series], series) for symbol, series in bars.items()
    }
    total = ZERO
    with localcontext(CALC):
        for fill in fills:
            found = opens.get(fill.symbol)
            if found is None:
                continue
            times, series = found
            index = bisect_left(times, fill.timestamp)
            if index >= len(times) or times[index] != fill.timestamp:
                continue
            reference = series[index].open
            diff = fill.price - reference if fill.side is Side.BUY else reference - fill.price
            if diff > 0:
                total += diff * fill.quantity
    return total


def opens_slippage(fills: Sequence[TradeLike], opens: Sequence[Decimal]) -> Decimal:
    """:func:`fill_slippage` from each fill's reference open (``BacktestResult.fill_opens``)."""
    if len(opens) != len(fills):
        raise ValueError(f"{len(opens)} fill opens for {len(fills)} fills")
    total = ZERO
    with localcontext(CALC):
        for fill, reference in zip(fills, opens, strict=True):
            diff = fill.price - reference if fill.side is Side.BUY else reference - fill.price
            if diff > 0:
                total += diff * fill.quantity
    return total


def report_for_run(settings: Settings, interval_s: int, result: BacktestResult,
                   starting_cash: Decimal, track: PriceTrack | None = None) -> BacktestReport:
    """The full report of ``result`` (which must have at least one bar).

    ``track``: the run's :class:`PriceTrack` (a streamed run); None reads ``result.bars``.
    """
    capital = settings.capital
    if track is not None:
        if track.initial_equity != starting_cash:
            raise ValueError("the price track's starting equity differs from the report's")
        bench = track.benchmark()
        last_prices: Mapping[str, Decimal] = dict(track.last_prices)
        slippage = opens_slippage(result.trades, result.fill_opens)
    else:
        times = [t for t, _ in result.equity_curve]
        bars = {s: b for s, b in result.bars.items() if b}
        bench = buy_and_hold(
            bars,
            starting_cash,
            times=times,
            fee_bps=capital.taker_fee_bps,
            tax_ratio=capital.fee_tax_ratio,
            slippage_bps=capital.slippage_bps,
        )
        last_prices = {s: b[-1].close for s, b in bars.items()}
        slippage = fill_slippage(result.trades, bars)
    context = RunContext(
        symbols=tuple(settings.trading.symbols),
        last_prices=last_prices,
        drawdown_tiers=tuple(capital.drawdown_tiers),
        drawdown_multipliers=tuple(capital.drawdown_multipliers),
        state_changes=getattr(result, "state_changes", None),
    )
    return build_report(
        equity_curve=result.equity_curve,
        interval_s=interval_s,
        trades=result.trades,
        exposures=result.exposures,
        risk_denials=result.denials,
        benchmark_curve=bench.curve,
        benchmark_trades=bench.trades,
        benchmark_exposures=bench.exposures,
        slippage=slippage,
        context=context,
    )
