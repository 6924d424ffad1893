"""Walk-forward search end to end on small synthetic data: deterministic for a seed, every requested
worker process used, and the Dask executor giving exactly the local pool's result."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.backtest.report import render_decimal
from btcbot.cli.main import main
from btcbot.config.settings import Settings
from btcbot.research.executors import DaskExecutor, LocalPoolExecutor, executor_for
from btcbot.research.search import OptimizeResult, optimize, out_of_sample, result_to_json, summary_lines
from research.conftest import small_config


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OptimizeResult, OptimizeResult]]:
    from btcbot.config.settings import load_settings

    empty = tmp_path_factory.mktemp("env") / "empty.env"
    empty.write_text("")
    settings = load_settings(env_file=empty, environ={}).settings
    first = optimize(small_config(settings), LocalPoolExecutor(2))
    second = optimize(small_config(settings), LocalPoolExecutor(2))
    yield first, second


def test_same_seed_same_result(local_runs: tuple[OptimizeResult, OptimizeResult]) -> None:
    first, second = local_runs
    assert result_to_json(first) == result_to_json(second)
    assert len(first.outcomes) == 3 and len(first.candidates) == 3
    assert all(o.test is not None and o.test.valid for o in first.outcomes)
    assert first.tasks == 3 * 3 + 3 * 2  # train: windows x candidates; test: chosen + defaults per window


def test_every_requested_worker_process_is_used(local_runs: tuple[OptimizeResult, OptimizeResult]) -> None:
    for run in local_runs:
        assert len(run.pids) == 2


def test_headline_is_out_of_sample(local_runs: tuple[OptimizeResult, OptimizeResult]) -> None:
    result = local_runs[0]
    oos = out_of_sample(result)
    tests = [o.test for o in result.outcomes if o.test is not None]
    product = Decimal(1)
    for t in tests:
        product *= 1 + t.total_return
    assert render_decimal(oos["compounded_return"]) == render_decimal(product - 1)  # type: ignore[arg-type]
    lines = summary_lines(result, "local")
    assert lines[1].startswith("OUT-OF-SAMPLE (the result): compounded return")
    # in-sample figures appear only per window, labelled as what the choice was made on
    assert all("in-sample" not in line or "selection only" in line for line in lines)


def test_dask_cluster_gives_the_local_result(settings: Settings,
                                             local_runs: tuple[OptimizeResult, OptimizeResult]) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        executor = executor_for("dask://" + address.removeprefix("tcp://"), None)
        assert isinstance(executor, DaskExecutor)
        result = optimize(small_config(settings), executor)
    assert result_to_json(result) == result_to_json(local_runs[0])
    assert len(result.pids) == 2  # both Dask worker processes ran tasks


def test_bad_executor_specs() -> None:
    for bad in ("dask://", "spark://x:1", "dask://hostonly"):
        with pytest.raises(ValueError):
            executor_for(bad, 1)


def test_optimize_cli_writes_json_and_prints_progress_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_DATABASE__URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.chdir(tmp_path)
    code = main(["optimize", "--from", "2025-01-01", "--to", "2025-01-09", "--interval", "1h", "--strategy", "trend",
                 "--train", "4d", "--test", "2d", "--param", "fast_period=4,6", "--param", "slow_period=12",
                 "--objective", "total_return", "--workers", "1", "--synthetic-seed", "3", "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (tmp_path / "o" / "optimize.json").is_file()
    assert "OUT-OF-SAMPLE (the result)" in captured.out and "1 worker process(es) used" in captured.out
    progress = [line for line in captured.err.splitlines() if line.startswith("progress optimize:")]
    assert progress and progress[-1].startswith("progress optimize: 8/8 backtests (100%)")


def test_optimize_cli_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    common = ["optimize", "--from", "2025-01-01", "--to", "2025-01-09", "--synthetic-seed", "1"]
    assert main([*common, "--train", "10x"]) == 2
    assert main([*common, "--param", "fast_period"]) == 2
    assert main([*common, "--executor", "spark://h:1"]) == 2
    assert main([*common, "--train", "30d"]) == 2  # no window fits


def test_daily_objectives_rank_by_the_daily_figures(local_runs: tuple[OptimizeResult, OptimizeResult]) -> None:
    """``--objective sharpe_daily``/``sortino_daily`` read the daily figures of each backtest (and the
    CLI offers exactly the objectives the search knows)."""
    from dataclasses import replace

    from btcbot.cli.commands.research import optimize_command
    from btcbot.research.search import OBJECTIVES, objective_value

    first, _ = local_runs
    tested = [o.test for o in first.outcomes if o.test is not None]
    assert tested and all(t.sharpe_daily is not None for t in tested)  # hourly bars: the daily figure exists
    result = replace(tested[0], sharpe=Decimal(1), sharpe_daily=Decimal(-2), sortino_daily=Decimal(3))
    assert objective_value(result, "sharpe") == Decimal(1)
    assert objective_value(result, "sharpe_daily") == Decimal(-2)
    assert objective_value(result, "sortino_daily") == Decimal(3)
    assert '"sharpe_daily"' in result_to_json(first)
    choices = next(p for p in optimize_command.params if p.name == "objective").type.choices  # type: ignore[attr-defined]
    assert tuple(choices) == OBJECTIVES
