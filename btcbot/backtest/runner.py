"""``btcbot backtest``: load candles from the store, run the engine, write the report files.

Output directory (created):

    report.json   metrics of the strategy and of buy-and-hold, risk denials by code
    equity.csv    per strategy bar: time, equity, benchmark, drawdown, exposure
    trades.csv    every simulated fill (time, symbol, side, quantity, price, notional, fee, tax)
    equity.png    equity (and benchmark) with the drawdown underneath
    run.json      the run's parameters (strategy, symbols, interval, range, costs, refusals)

Every file is a pure function of (settings, candles): the same inputs give byte-identical files.

Memory: the run streams. :func:`stream_candles` reads the store in pages while the engine replays
(nothing holds every bar), the engine keeps only the strategy's windows (``keep_bars=False``),
and the report's price figures come from a :class:`~btcbot.backtest.tracking.PriceTrack`
(streamed buy-and-hold, last closes, hourly closes for the chart). What grows with the run is
the per-bar equity curve and exposure (and the fills): a year of 1-minute bars for five pairs
stays well under 400 MiB (``benchmarks/backtest_year_rss.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Protocol

from btcbot.backtest.chart import write_chart
from btcbot.backtest.engine import BPS, BacktestEngine, BacktestResult, Progress
from btcbot.backtest.report import BacktestReport, write_report
from btcbot.backtest.run_report import report_for_run
from btcbot.backtest.series import TimeSeries
from btcbot.backtest.tracking import PriceTrack
from btcbot.config.settings import Settings
from btcbot.domain.market import Candle
from btcbot.strategies.registry import load_strategy

#: Base intervals tried, finest first, when looking for stored candles.
STORED_INTERVALS = (60, 300, 900, 1800, 3600, 14400, 86400)


class CandleSource(Protocol):
    def range(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> list[Candle]: ...

    def count(self, symbol: str, interval_s: int) -> int: ...


class StreamingCandleSource(CandleSource, Protocol):
    def iter_range(self, symbol: str, interval_s: int, start: datetime, end: datetime) -> Iterator[Candle]: ...


@dataclass(frozen=True)
class BacktestOutput:
    result: BacktestResult
    report: BacktestReport
    files: dict[str, Path]
    #: Per symbol, the chart's price series: hourly closes (see ``backtest.tracking``).
    prices: Mapping[str, Sequence[tuple[datetime, Decimal]]] = field(default_factory=dict)


class NoCandles(LookupError):
    """The store holds no candles usable for the requested backtest."""


def load_candles(
    source: CandleSource, symbols: Sequence[str], interval_s: int, start: datetime, end: datetime,
    base_interval_s: int | None = None,
) -> dict[str, list[Candle]]:
    """Bars with open time in [start, end) at the finest stored interval dividing ``interval_s``."""
    candidates = [base_interval_s] if base_interval_s else [i for i in STORED_INTERVALS if interval_s % i == 0]
    for base in candidates:
        if all(source.count(s, base) > 0 for s in symbols):
            out = {s: [c for c in source.range(s, base, start, end) if c.open_time < end] for s in symbols}
            if all(out.values()):
                return out
    raise NoCandles(
        f"no stored candles for all of {', '.join(symbols)} between {start.isoformat()} and {end.isoformat()} "
        f"at an interval dividing {interval_s}s; run `btcbot download-data` (or --synthetic) first"
    )


def _peek(bars: Iterable[Candle]) -> Iterable[Candle] | None:
    """``bars`` unchanged (a sequence) or re-chained after reading its first bar; None if empty."""
    if isinstance(bars, Sequence):
        return bars if bars else None
    it = iter(bars)
    first = next(it, None)
    return None if first is None else chain((first,), it)


def stream_candles(
    source: StreamingCandleSource, symbols: Sequence[str], interval_s: int, start: datetime, end: datetime,
) -> dict[str, Iterable[Candle]]:
    """Like :func:`load_candles` (same interval choice, same NoCandles), but each symbol's bars are
    a stream read from the store in pages while the backtest consumes them."""
    last = end - timedelta(microseconds=1)  # iter_range bounds are inclusive; [start, end) wanted
    for base in (i for i in STORED_INTERVALS if interval_s % i == 0):
        if not all(source.count(s, base) > 0 for s in symbols):
            continue
        out: dict[str, Iterable[Candle]] = {}
        for symbol in symbols:
            stream = _peek(source.iter_range(symbol, base, start, last))
            if stream is None:
                break
            out[symbol] = stream
        else:
            return out
    raise NoCandles(
        f"no stored candles for all of {', '.join(symbols)} between {start.isoformat()} and {end.isoformat()} "
        f"at an interval dividing {interval_s}s; run `btcbot download-data` (or --synthetic) first"
    )


def build_backtest_report(settings: Settings, engine: BacktestEngine, result: BacktestResult,
                          starting_cash: Decimal, track: PriceTrack | None = None) -> BacktestReport:
    """The report of a finished run, benchmarked against equal-weight buy-and-hold."""
    if not result.equity_curve:
        raise NoCandles("the backtest produced no bars")
    # Benchmark, costs, slippage and the trader's tables: see btcbot.backtest.run_report.
    return report_for_run(settings, engine.interval_s, result, starting_cash, track)


def _values(curve: Sequence[tuple[datetime, Decimal]]) -> Sequence[Decimal]:
    return curve.values if isinstance(curve, TimeSeries) else [value for _, value in curve]


def run_parameters(settings: Settings, engine: BacktestEngine, result: BacktestResult, start: datetime,
                   end: datetime, strategy_name: str) -> dict[str, object]:
    capital = settings.capital
    return {
        "strategy": strategy_name,
        "strategy_id": settings.trading.strategy_id,
        "symbols": list(settings.trading.symbols),
        "interval_s": engine.interval_s,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "starting_balance": str(capital.paper_starting_balance),
        "taker_fee_bps": str(capital.taker_fee_bps),
        "maker_fee_bps": str(capital.maker_fee_bps),
        "fee_tax_ratio": str(capital.fee_tax_ratio),
        "slippage_bps": str(capital.slippage_bps),
        "base_bars": result.base_bars,
        "strategy_bars": result.strategy_bars,
        "venue_refusals": dict(sorted(result.venue_refusals.items())),
        "unfilled_orders": result.unfilled,
        "final_trading_state": result.final_state.value,
    }


def run_backtest(
    settings: Settings,
    candles: Mapping[str, Iterable[Candle]],
    out_dir: Path,
    start: datetime,
    end: datetime,
    strategy_name: str | None = None,
    interval_s: int | None = None,
    progress: Progress | None = None,
    expected_bars: int | None = None,
) -> BacktestOutput:
    """Run the configured (or named) strategy over ``candles`` and write every report file.

    ``candles``: per symbol, a list or a stream (e.g. :func:`stream_candles`), read once; the run
    keeps no bars (see the module docstring). ``expected_bars``: the progress total for streams.
    """
    name = strategy_name or settings.trading.strategy
    strategy = load_strategy(name, settings.trading.strategy_id)
    engine = BacktestEngine(settings, strategy, interval_s)
    streams: dict[str, Iterable[Candle]] = {}
    for symbol, bars in candles.items():
        peeked = _peek(bars)
        if peeked is not None:
            streams[symbol] = peeked
    present = sorted(s for s in streams if s in engine.symbols)
    if not present:
        raise NoCandles("no candles for any of " + ", ".join(engine.symbols))
    capital = settings.capital
    cash = capital.paper_starting_balance
    track = PriceTrack(present, cash, capital.taker_fee_bps, capital.fee_tax_ratio, capital.slippage_bps)
    result = engine.run(streams, progress, keep_bars=False, expected_bars=expected_bars, observer=track)
    track.finish()
    report = build_backtest_report(settings, engine, result, cash, track)
    files = write_report(report, out_dir)
    files["equity.png"] = write_chart(
        out_dir / "equity.png",
        _values(report.equity_curve),
        _values(report.benchmark_curve),
    )
    params = run_parameters(settings, engine, result, start, end, name)
    run_path = out_dir / "run.json"
    run_path.write_bytes((json.dumps(params, sort_keys=True, indent=2) + "\n").encode("utf-8"))
    files["run.json"] = run_path
    return BacktestOutput(result, report, files, track.samples)


__all__ = ["BPS", "BacktestOutput", "NoCandles", "load_candles", "run_backtest", "stream_candles"]
