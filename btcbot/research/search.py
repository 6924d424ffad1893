"""Walk-forward search: pick parameters on each train span, judge them on the unseen test span.

1. Candidates (grid or seeded random, :mod:`btcbot.research.params`) x windows
   (:mod:`btcbot.research.windows`): one train task each.
2. Per window, the candidate with the best ``objective`` on its train span is chosen (ties: the
   earlier candidate; a missing value, e.g. Sharpe without variation, ranks last).
3. Per window two test tasks on the following unseen span: the chosen candidate and, for
   comparison, the strategy's defaults. The test tasks also measure equal-weight buy and hold.

The result's headline is out-of-sample only: the test spans' returns compounded (the test spans
tile the period when ``step == test``), per-window spread, drawdown, and how stable the chosen
parameters are across windows. In-sample figures appear only per window, labelled as what the
choice was made on. Everything is a pure function of the inputs and the seed: which worker ran a
task, or when, changes nothing (worker pids are kept aside for the "all workers used" check).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from btcbot.backtest.report_render import render_decimal
from btcbot.backtest.roundtrips import CALC
from btcbot.config.groups.auth import AuthSettings
from btcbot.config.settings import Settings
from btcbot.research.executors import Executor
from btcbot.research.params import Candidate, ParamSpec, build_strategy, candidates, describe
from btcbot.research.tasks import (
    TEST,
    TRAIN,
    DataSpec,
    EvalTask,
    TaskResult,
    load_data,
    run_task,
    warm_worker,
)
from btcbot.research.windows import Window, walk_forward_windows

OBJECTIVES = ("sharpe", "sortino", "sharpe_daily", "sortino_daily", "calmar", "total_return", "profit_factor")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class OptimizeConfig:
    strategy: str
    settings: Settings
    specs: Mapping[str, ParamSpec]
    start: datetime
    end: datetime
    train: timedelta
    test: timedelta
    step: timedelta | None = None
    interval_s: int = 3600
    search: str = "grid"
    samples: int = 0
    seed: int = 0
    objective: str = "sharpe"
    data_kind: str = "synthetic"
    data_seed: int = 1
    database_url: str = ""


@dataclass(frozen=True, slots=True)
class WindowOutcome:
    window: Window
    chosen_index: int | None
    chosen: Candidate | None
    in_sample: TaskResult | None
    test: TaskResult | None
    baseline: TaskResult | None


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    config: OptimizeConfig
    candidates: tuple[Candidate, ...]
    invalid_candidates: int
    outcomes: tuple[WindowOutcome, ...]
    tasks: int
    pids: frozenset[int]


def objective_value(result: TaskResult, objective: str) -> Decimal | None:
    if not result.valid:
        return None
    value = getattr(result, objective)
    return value if isinstance(value, Decimal) else None


def _rank(result: TaskResult, objective: str) -> tuple[int, Decimal, int]:
    value = objective_value(result, objective)
    return (0, Decimal(0), -result.candidate_index) if value is None else (1, value, -result.candidate_index)


def _warmup(config: OptimizeConfig, pool: Sequence[Candidate]) -> timedelta:
    sid = config.settings.trading.strategy_id
    longest = build_strategy(config.strategy, sid).required_history()
    for candidate in pool:
        try:
            longest = max(longest, build_strategy(config.strategy, sid, candidate).required_history())
        except (ValueError, TypeError):
            continue
    return timedelta(seconds=config.interval_s * max(1, longest))


def optimize(config: OptimizeConfig, executor: Executor, progress: Progress | None = None) -> OptimizeResult:
    """Run the whole walk-forward search (raises ValueError for an impossible configuration)."""
    if config.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {config.objective!r}: use one of {', '.join(OBJECTIVES)}")
    windows = walk_forward_windows(config.start, config.end, config.train, config.test, config.step)
    pool = candidates(config.specs, config.search, config.samples, config.seed)
    settings = config.settings.model_copy(update={"auth": AuthSettings()})  # secrets never travel
    data = DataSpec(config.data_kind, tuple(config.settings.trading.symbols), config.interval_s,
                    config.start - _warmup(config, pool), config.end, config.data_seed, config.database_url)
    sid = config.settings.trading.strategy_id

    def task(index: int, window: Window, phase: str, c_index: int, candidate: Candidate) -> EvalTask:
        start, end = (window.train_start, window.train_end) if phase == TRAIN else (window.test_start, window.test_end)
        return EvalTask(index, window.index, phase, c_index, candidate, config.strategy, sid, settings, data, start, end)

    train_tasks = [task(w.index * len(pool) + c, w, TRAIN, c, cand)
                   for w in windows for c, cand in enumerate(pool)]
    total = len(train_tasks) + 2 * len(windows)

    def on_done(done: int, _: int) -> None:
        if progress is not None:
            progress(done, total)

    # Synthetic data is generated once here and shipped to each worker; a database is read by
    # each worker itself (shipping a year of 1m candles per worker would cost more).
    shipped = load_data(data) if data.kind == "synthetic" else None
    executor.start(warm_worker, (data, shipped))
    try:
        trained, tested, chosen = _run(executor, config, windows, pool, train_tasks, task, on_done, progress, total)
    finally:
        executor.close()
    outcomes = []
    for w in windows:
        best = chosen.get(w.index)
        test = next((r for r in tested if r.window == w.index and r.candidate_index >= 0), None)
        baseline = next((r for r in tested if r.window == w.index and r.candidate_index == -1), None)
        outcomes.append(WindowOutcome(w, best.candidate_index if best else None,
                                      pool[best.candidate_index] if best else None, best, test, baseline))
    invalid = len({r.candidate_index for r in trained if not r.valid})
    pids = frozenset(r.pid for r in (*trained, *tested))
    return OptimizeResult(config, tuple(pool), invalid, tuple(outcomes), len(trained) + len(tested), pids)


def _run(executor: Executor, config: OptimizeConfig, windows: Sequence[Window], pool: Sequence[Candidate],
         train_tasks: list[EvalTask], task: Callable[[int, Window, str, int, Candidate], EvalTask],
         on_done: Callable[[int, int], None], progress: Progress | None, total: int,
         ) -> tuple[list[TaskResult], list[TaskResult], dict[int, TaskResult]]:
    trained = executor.map(run_task, train_tasks, on_done)
    chosen: dict[int, TaskResult] = {}
    for w in windows:
        results = [r for r in trained if r.window == w.index and r.valid]
        if results:
            chosen[w.index] = max(results, key=lambda r: _rank(r, config.objective))
    test_tasks: list[EvalTask] = []
    for w in windows:
        best = chosen.get(w.index)
        if best is not None:
            test_tasks.append(task(len(test_tasks), w, TEST, best.candidate_index, pool[best.candidate_index]))
        test_tasks.append(task(len(test_tasks), w, TEST, -1, ()))  # the defaults, for comparison
    done_train = len(train_tasks)
    tested = executor.map(run_task, test_tasks, lambda done, _: on_done(done_train + done, total))
    if progress is not None:
        progress(total, total)
    return trained, tested, chosen


# ---------------------------------------------------------------- aggregation and rendering


def _compound(returns: Sequence[Decimal]) -> Decimal:
    with localcontext(CALC):
        total = Decimal(1)
        for r in returns:
            total *= 1 + r
        return total - 1


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    if not values:
        return None
    with localcontext(CALC):
        return sum(values, Decimal(0)) / Decimal(len(values))


def out_of_sample(result: OptimizeResult) -> dict[str, object]:
    tests = [o.test for o in result.outcomes if o.test is not None and o.test.valid]
    returns = [t.total_return for t in tests]
    baselines = [o.baseline.total_return for o in result.outcomes if o.baseline is not None and o.baseline.valid]
    benches = [o.test.benchmark_return for o in result.outcomes
               if o.test is not None and o.test.benchmark_return is not None]
    sharpes = [t.sharpe for t in tests if t.sharpe is not None]
    step = result.config.step or result.config.test
    return {
        "windows": len(result.outcomes),
        "windows_tested": len(tests),
        "overlapping_test_spans": step < result.config.test,
        "compounded_return": _compound(returns) if returns else None,
        "mean_return": _mean(returns),
        "positive_windows": sum(1 for r in returns if r > 0),
        "best_return": max(returns) if returns else None,
        "worst_return": min(returns) if returns else None,
        "worst_max_drawdown": max((t.max_drawdown for t in tests), default=None),
        "mean_max_drawdown": _mean([t.max_drawdown for t in tests]),
        "mean_sharpe": _mean(sharpes),
        "trades": sum(t.trades for t in tests),
        "defaults_compounded_return": _compound(baselines) if baselines else None,
        "buy_and_hold_compounded_return": _compound(benches) if benches else None,
    }


def _order(value: object) -> tuple[str, str]:
    return (type(value).__name__, str(value))


def stability(result: OptimizeResult) -> dict[str, object]:
    """Per parameter: distinct values chosen, the most common one and its share of windows."""
    picks = [o.chosen for o in result.outcomes if o.chosen is not None]
    per_param: dict[str, object] = {}
    shares: list[Decimal] = []
    with localcontext(CALC):
        for name in sorted(result.config.specs):
            values = [dict(p)[name] for p in picks if name in dict(p)]
            counts = Counter(values)
            if not counts:
                continue
            mode, hits = max(sorted(counts.items(), key=lambda kv: _order(kv[0])), key=lambda kv: kv[1])
            share = Decimal(hits) / Decimal(len(values))
            shares.append(share)
            per_param[name] = {"chosen": values, "distinct": len(counts), "mode": mode, "mode_share": share}
        sets = Counter(picks)
        same = Decimal(max(sets.values())) / Decimal(len(picks)) if picks else None
    return {"score": _mean(shares), "same_choice_share": same, "parameters": per_param}


def recommended(result: OptimizeResult) -> Candidate | None:
    """The set chosen most often; on a tie the one chosen most recently."""
    picks = [o.chosen for o in result.outcomes if o.chosen is not None]
    if not picks:
        return None
    counts = Counter(picks)
    best = max(counts.values())
    return next(p for p in reversed(picks) if counts[p] == best)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return render_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _task(result: TaskResult | None) -> dict[str, object] | None:
    if result is None:
        return None
    keys = ("valid", "error", "total_return", "max_drawdown", "sharpe", "sortino", "sharpe_daily", "sortino_daily",
            "calmar", "profit_factor", "trades", "benchmark_return")
    return {k: getattr(result, k) for k in keys}


def result_to_dict(result: OptimizeResult) -> dict[str, object]:
    c = result.config
    rec = recommended(result)
    return _plain({
        "strategy": c.strategy,
        "objective": c.objective,
        "search": c.search,
        "seed": c.seed,
        "samples": c.samples,
        "from": c.start,
        "to": c.end,
        "interval_s": c.interval_s,
        "train_s": int(c.train.total_seconds()),
        "test_s": int(c.test.total_seconds()),
        "step_s": int((c.step or c.test).total_seconds()),
        "data": {"kind": c.data_kind, "seed": c.data_seed if c.data_kind == "synthetic" else None},
        "parameters": {name: list(spec.values()) for name, spec in sorted(c.specs.items())},
        "candidates": len(result.candidates),
        "invalid_candidates": result.invalid_candidates,
        "backtests": result.tasks,
        "out_of_sample": out_of_sample(result),
        "stability": stability(result),
        "recommended": dict(rec) if rec is not None else None,
        "windows": [
            {
                "index": o.window.index,
                "train_start": o.window.train_start,
                "train_end": o.window.train_end,
                "test_start": o.window.test_start,
                "test_end": o.window.test_end,
                "chosen": dict(o.chosen) if o.chosen is not None else None,
                "in_sample_selection_only": _task(o.in_sample),
                "out_of_sample": _task(o.test),
                "defaults_out_of_sample": _task(o.baseline),
            }
            for o in result.outcomes
        ],
    })  # type: ignore[return-value]


def result_to_json(result: OptimizeResult) -> str:
    return json.dumps(result_to_dict(result), sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def _pct(value: object) -> str:
    return f"{value * 100:+.2f}%" if isinstance(value, Decimal) else "n/a"


def summary_lines(result: OptimizeResult, executor_name: str, requested_workers: int | None = None) -> list[str]:
    c = result.config
    oos, stab = out_of_sample(result), stability(result)
    days = (c.test * sum(1 for o in result.outcomes if o.test is not None and o.test.valid)).days
    lines = [
        f"walk-forward: {len(result.outcomes)} windows (train {c.train.days}d, test {c.test.days}d, step "
        f"{(c.step or c.test).days}d), {len(result.candidates)} candidates ({c.search}, seed {c.seed}), "
        f"objective {c.objective}, {result.tasks} backtests on {executor_name}; "
        f"{len(result.pids)} worker process(es) used",
        f"OUT-OF-SAMPLE (the result): compounded return {_pct(oos['compounded_return'])} over {days} days of unseen "
        f"test spans; mean per window {_pct(oos['mean_return'])}, {oos['positive_windows']}/{oos['windows_tested']} "
        f"positive, worst {_pct(oos['worst_return'])}, worst drawdown {_pct(oos['worst_max_drawdown']).lstrip('+')}, "
        f"trades {oos['trades']}",
        f"  same test spans: strategy defaults {_pct(oos['defaults_compounded_return'])}, "
        f"buy and hold {_pct(oos['buy_and_hold_compounded_return'])}",
    ]
    if oos["overlapping_test_spans"]:
        lines.append("  note: --step is shorter than --test, test spans overlap: the compounded figure double-counts")
    params = stab["parameters"]
    assert isinstance(params, dict)
    parts = []
    for name, info in params.items():
        parts.append(f"{name}={info['mode']} in {info['chosen'].count(info['mode'])}/{len(info['chosen'])} windows")
    score = stab["score"]
    same = stab["same_choice_share"]
    lines.append(f"parameter stability: score {render_decimal(score, 2) if isinstance(score, Decimal) else 'n/a'} "
                 f"({'; '.join(parts) or 'no choice made'}); the same set in "
                 f"{_pct(same).lstrip('+') if isinstance(same, Decimal) else 'n/a'} of the windows")
    for o in result.outcomes:
        ins = objective_value(o.in_sample, c.objective) if o.in_sample else None
        test = o.test.total_return if o.test and o.test.valid else None
        lines.append(
            f"  window {o.window.index}: chose {describe(o.chosen) if o.chosen is not None else 'nothing valid'} "
            f"on {o.window.train_start:%Y-%m-%d}..{o.window.train_end:%Y-%m-%d} "
            f"(in-sample {c.objective} {render_decimal(ins, 2) if ins is not None else 'n/a'}, selection only); "
            f"test {o.window.test_start:%Y-%m-%d}..{o.window.test_end:%Y-%m-%d}: {_pct(test)}"
        )
    rec = recommended(result)
    lines.append(f"recommended (chosen most often): {describe(rec) if rec is not None else 'none'}")
    if result.invalid_candidates:
        lines.append(f"{result.invalid_candidates} candidate(s) refused by the strategy (e.g. fast >= slow) were skipped")
    return lines
