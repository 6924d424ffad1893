"""``btcbot optimize``: walk-forward parameter search (see ``btcbot.research`` and docs/optimize.md)."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from btcbot.cli.commands.data import _range, parse_interval
from btcbot.cli.context import CliContext
from btcbot.cli.progress import ProgressReporter

if TYPE_CHECKING:
    from btcbot.config.settings import Settings

_SPAN = re.compile(r"^\s*(\d+)\s*([dh])\s*$")


def parse_span(text: str, name: str) -> timedelta:
    """``30d`` or ``12h``."""
    match = _SPAN.match(text.lower())
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{text!r}: expected a positive length like 30d or 12h", param_hint=name)
    amount = int(match.group(1))
    return timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)


@click.command("optimize")
@click.option("--from", "start_text", required=True, help="First day (UTC), YYYY-MM-DD.")
@click.option("--to", "end_text", required=True, help="Day after the last one (UTC, exclusive), YYYY-MM-DD.")
@click.option("--strategy", default=None, help="Strategy name or dotted path (default trading.strategy).")
@click.option("--interval", "interval_text", default=None, help="Strategy bar length (default trading.candle_interval_s).")
@click.option("--train", "train_text", default="60d", show_default=True, help="Train span of each window (e.g. 60d, 36h).")
@click.option("--test", "test_text", default="20d", show_default=True, help="Unseen test span after it.")
@click.option("--step", "step_text", default=None, help="How far windows roll (default: --test, so test spans tile).")
@click.option("--search", type=click.Choice(["grid", "random"]), default="grid", show_default=True)
@click.option("--samples", type=click.IntRange(min=1), default=20, show_default=True, help="Candidates for --search random.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the random search.")
@click.option("--objective", type=click.Choice(["sharpe", "sortino", "sharpe_daily", "sortino_daily", "calmar",
                                               "total_return", "profit_factor"]),
              default="sharpe", show_default=True, help="What the train span is ranked by.")
@click.option("--param", "params", multiple=True, metavar="NAME=LOW:HIGH:STEP|A,B,C",
              help="Tune this parameter over this range (overrides the strategy's declaration).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPU cores).")
@click.option("--executor", "executor_spec", default="local", show_default=True,
              help="local (process pool) or dask://HOST:PORT (Dask distributed scheduler; the dask extra).")
@click.option("--synthetic-seed", type=int, default=None, help="Use offline bars from the simulator's price engine.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("optimize-report"),
              show_default=True, help="Directory for optimize.json.")
@click.pass_obj
def optimize_command(
    obj: CliContext, start_text: str, end_text: str, strategy: str | None, interval_text: str | None,
    train_text: str, test_text: str, step_text: str | None, search: str, samples: int, seed: int, objective: str,
    params: tuple[str, ...], workers: int | None, executor_spec: str, synthetic_seed: int | None, out_dir: Path,
) -> None:
    """Walk-forward search: tune on each train span, judge on the unseen span after it."""
    from btcbot.research.executors import ExecutorUnavailable, executor_for
    from btcbot.research.params import build_strategy, declared_tunables, parse_param
    from btcbot.research.search import OptimizeConfig, optimize, result_to_json, summary_lines

    settings = obj.load().settings
    interval_s = parse_interval(interval_text) if interval_text else settings.trading.candle_interval_s
    start, end = _range(start_text, end_text)
    name = strategy or settings.trading.strategy
    train, test = parse_span(train_text, "--train"), parse_span(test_text, "--test")
    step = parse_span(step_text, "--step") if step_text else None
    try:
        executor = executor_for(executor_spec, workers)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--executor") from None
    specs = declared_tunables(name, build_strategy(name, settings.trading.strategy_id))
    for text in params:
        try:
            key, spec = parse_param(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--param") from None
        specs[key] = spec
    if not specs:
        raise click.UsageError(f"strategy {name!r} declares no tunable parameters: give them with --param NAME=LOW:HIGH:STEP")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create {out_dir}: {exc.strerror}", param_hint="--out") from None
    config = OptimizeConfig(
        strategy=name, settings=settings, specs=specs, start=start, end=end, train=train, test=test, step=step,
        interval_s=interval_s, search=search, samples=samples, seed=seed, objective=objective,
        data_kind="synthetic" if synthetic_seed is not None else "database",
        data_seed=synthetic_seed if synthetic_seed is not None else 0,
        database_url="" if synthetic_seed is not None else settings.database.url,
    )
    if synthetic_seed is None:
        _check_stored(settings, interval_s, start, end)
    with ProgressReporter("optimize", "backtests") as reporter:
        try:
            result = optimize(config, executor, reporter.update)
        except ExecutorUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    for line in summary_lines(result, executor.name, workers or os.cpu_count()):
        click.echo(line)
    path = out_dir / "optimize.json"
    path.write_bytes(result_to_json(result).encode("utf-8"))
    click.echo(f"written to {path}")


def _check_stored(settings: Settings, interval_s: int, start: datetime, end: datetime) -> None:
    """Fail fast, in the parent, when the database has no candles for the range."""
    from btcbot.backtest.runner import NoCandles, load_candles
    from btcbot.persistence.candles import SqlCandleStore
    from btcbot.persistence.engine import create_engine_for
    from btcbot.persistence.migrations import upgrade

    db = settings.database
    upgrade(db.url)
    engine = create_engine_for(db.url, db.busy_timeout_ms)
    try:
        load_candles(SqlCandleStore(engine), settings.trading.symbols, interval_s, start, end)
    except NoCandles as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
