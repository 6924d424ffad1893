"""Work units of a search: plain picklable values in, plain picklable values out.

An :class:`EvalTask` is one backtest of one candidate on one span (a window's train or test
span). It carries everything a worker needs, so any executor (a local process, a Dask worker on
another machine) can run it: the settings (with the ``auth`` group emptied: secrets never travel),
where the candles come from (:class:`DataSpec`: regenerated from a seed, or read from a database
URL the worker can reach), the strategy name and parameter values, and the span.

The worker loads a data set once per process (``_DATA`` cache) and slices it per task. Before
the span it replays ``required_history()`` strategy bars as warmup (taken from the data, which the
search loads that much earlier), and measures only from the span's start: the equity point at
``span_start`` (the close of the last warmup bar) is the base of every figure.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from btcbot.backtest.engine import BacktestEngine
from btcbot.backtest.report import Metrics, buy_and_hold, compute_metrics
from btcbot.config.settings import Settings
from btcbot.domain.market import Candle
from btcbot.research.params import Candidate, build_strategy

TRAIN = "train"
TEST = "test"


@dataclass(frozen=True, slots=True)
class DataSpec:
    """Where candles come from: ``synthetic`` (``seed``) or ``database`` (``url``)."""

    kind: str
    symbols: tuple[str, ...]
    interval_s: int
    start: datetime
    end: datetime
    seed: int = 0
    url: str = ""


@dataclass(frozen=True, slots=True)
class EvalTask:
    index: int
    window: int
    phase: str
    candidate_index: int
    candidate: Candidate
    strategy: str
    strategy_id: str
    settings: Settings
    data: DataSpec
    span_start: datetime
    span_end: datetime


@dataclass(frozen=True, slots=True)
class TaskResult:
    index: int
    window: int
    phase: str
    candidate_index: int
    valid: bool
    error: str
    total_return: Decimal
    max_drawdown: Decimal
    sharpe: Decimal | None
    sortino: Decimal | None
    calmar: Decimal | None
    profit_factor: Decimal | None
    trades: int
    benchmark_return: Decimal | None
    #: The worker process that ran it (not part of any result that must be deterministic).
    pid: int
    #: Sharpe and Sortino over daily returns (``Metrics.sharpe_daily``/``sortino_daily``).
    sharpe_daily: Decimal | None = None
    sortino_daily: Decimal | None = None


_DATA: dict[DataSpec, dict[str, list[Candle]]] = {}


def load_data(spec: DataSpec) -> dict[str, list[Candle]]:
    """The spec's candles, loaded once per process."""
    cached = _DATA.get(spec)
    if cached is not None:
        return cached
    if spec.kind == "synthetic":
        from btcbot.data.synthetic import generate_candles

        data = dict(generate_candles(spec.symbols, spec.interval_s, spec.start, spec.end, spec.seed))
    elif spec.kind == "database":
        from btcbot.backtest.runner import load_candles
        from btcbot.persistence.candles import SqlCandleStore
        from btcbot.persistence.engine import create_engine_for

        engine = create_engine_for(spec.url)
        try:
            data = load_candles(SqlCandleStore(engine), spec.symbols, spec.interval_s, spec.start, spec.end)
        finally:
            engine.dispose()
    else:
        raise ValueError(f"unknown data kind {spec.kind!r}")
    _DATA.clear()  # one data set per worker at a time: a search uses one
    _DATA[spec] = data
    return data


def install_data(spec: DataSpec, data: dict[str, list[Candle]]) -> None:
    """Give this process a data set loaded elsewhere (an executor's per-worker warm-up)."""
    _DATA.clear()
    _DATA[spec] = data


def warm_worker(spec: DataSpec, data: dict[str, list[Candle]] | None = None) -> None:
    """Per-worker start: install ``data`` when given (shipped once), else load ``spec`` here."""
    if data is not None:
        install_data(spec, data)
    else:
        load_data(spec)


def _slice(bars: Sequence[Candle], start: datetime, end: datetime) -> list[Candle]:
    times = [b.open_time for b in bars]
    return list(bars[bisect_left(times, start) : bisect_left(times, end)])


def _failed(task: EvalTask, error: str) -> TaskResult:
    zero = Decimal(0)
    return TaskResult(task.index, task.window, task.phase, task.candidate_index, False, error, zero, zero,
                      None, None, None, None, 0, None, os.getpid())


def run_task(task: EvalTask) -> TaskResult:
    """Backtest ``task.candidate`` on ``task``'s span (with warmup before it) and measure the span."""
    try:
        strategy = build_strategy(task.strategy, task.strategy_id, task.candidate)
    except (ValueError, TypeError) as exc:
        return _failed(task, str(exc))
    engine = BacktestEngine(task.settings, strategy, task.data.interval_s)
    warmup = timedelta(seconds=engine.interval_s * max(1, strategy.required_history()))
    data = load_data(task.data)
    candles = {s: _slice(bars, task.span_start - warmup, task.span_end) for s, bars in data.items()}
    result = engine.run(candles)
    keep = [i for i, (t, _) in enumerate(result.equity_curve) if t >= task.span_start]
    if len(keep) < 2:
        return _failed(task, "the span has fewer than two bars")
    curve = [result.equity_curve[i] for i in keep]
    exposures = [result.exposures[i] for i in keep]
    fills = [f for f in result.trades if f.timestamp >= task.span_start]
    metrics = compute_metrics(curve, engine.interval_s, fills, exposures)
    bench = _benchmark(task, data, [t for t, _ in curve]) if task.phase == TEST else None
    return _measured(task, metrics, bench)


def _measured(task: EvalTask, m: Metrics, bench: Decimal | None) -> TaskResult:
    return TaskResult(task.index, task.window, task.phase, task.candidate_index, True, "", m.total_return,
                      m.max_drawdown, m.sharpe, m.sortino, m.calmar, m.profit_factor, m.trades, bench, os.getpid(),
                      sharpe_daily=m.sharpe_daily, sortino_daily=m.sortino_daily)


def _benchmark(task: EvalTask, data: Mapping[str, Sequence[Candle]], times: list[datetime]) -> Decimal | None:
    """Equal-weight buy and hold over the span, with the strategy's costs."""
    span = {s: _slice(bars, task.span_start - timedelta(seconds=task.data.interval_s), task.span_end)
            for s, bars in data.items()}
    if not all(span.values()):
        return None
    capital = task.settings.capital
    bench = buy_and_hold(span, capital.paper_starting_balance, times=times, fee_bps=capital.taker_fee_bps,
                         tax_ratio=capital.fee_tax_ratio, slippage_bps=capital.slippage_bps)
    start = capital.paper_starting_balance  # the entry costs count, as for the strategy
    return bench.curve[-1][1] / start - 1 if start > 0 else None
