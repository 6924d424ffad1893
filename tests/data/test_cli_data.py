"""``btcbot download-data`` (synthetic, CSV export/import, from the simulator) and ``btcbot backtest``
through the real CLI entry point, on a SQLite database in a temporary directory."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from backtest.test_chart import check_offline_page

from btcbot.cli.main import main
from btcbot.persistence.candles import SqlCandleStore
from btcbot.persistence.engine import create_engine_for
from btcbot.sim.testing import SimConfig, SimHandle, running_simulator

pytestmark = pytest.mark.usefixtures("tmp_cwd")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BTCBOT_DATABASE__URL", url)
    yield url


def stored(url: str, symbol: str, interval_s: int) -> int:
    engine = create_engine_for(url)
    try:
        return SqlCandleStore(engine).count(symbol, interval_s)
    finally:
        engine.dispose()


def test_synthetic_then_backtest_writes_every_report_file(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["download-data", "--from", "2025-01-01", "--to", "2025-01-08", "--interval", "1m",
                 "--synthetic", "--seed", "3"]) == 0
    assert stored(db, "BTCTRY", 60) == 7 * 1440
    out_dir = tmp_path / "report"
    assert main(["backtest", "--from", "2025-01-01", "--to", "2025-01-08", "--interval", "1h",
                 "--out", str(out_dir)]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "risk denials:" in out and "report written to" in out
    assert "round trips" in out and "open at the end:" in out and "risk stop" in out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "equity.csv", "equity.png", "report.html", "report.json", "round_trips.csv", "run.json", "trades.csv"]
    assert (out_dir / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert '"interval_s": 3600' in (out_dir / "report.json").read_text()
    # stderr is not a terminal here: progress comes as lines, ending at 100 %
    progress = [line for line in captured.err.splitlines() if line.startswith("progress backtest:")]
    assert progress and progress[-1].startswith("progress backtest: 168/168 strategy bars (100%)")
    # the acceptance check: an offline HTML report with every section, no http(s) reference
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    page = check_offline_page(html)
    assert page.ids.count("price-0") == 1 and "price-4" in page.ids  # one price chart per symbol
    assert "btcbot backtest: trend, 2025-01-01 to 2025-01-08" in html


def test_backtest_without_plotly_still_writes_the_json_report(db: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    assert main(["backtest", "--from", "2025-01-01", "--to", "2025-01-03", "--interval", "1h",
                 "--synthetic-seed", "5", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.json").is_file() and not (tmp_path / "r" / "report.html").exists()
    err = capsys.readouterr().err
    assert "report.html skipped" in err and "pip install 'btcbot[charts]'" in err


def test_backtest_without_candles_is_a_one_line_error(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--from", "2025-01-01", "--to", "2025-01-02"]) == 2
    assert "download-data" in capsys.readouterr().err


def test_backtest_synthetic_seed_needs_no_database(db: str, tmp_path: Path) -> None:
    assert main(["backtest", "--from", "2025-01-01", "--to", "2025-01-03", "--interval", "15m",
                 "--synthetic-seed", "5", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.json").is_file()


def test_csv_export_import_round_trip(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["download-data", "--from", "2025-02-01", "--to", "2025-02-02", "--interval", "5m",
                 "--synthetic", "--symbols", "ETHTRY"]) == 0
    csv_path = tmp_path / "bars.csv"
    assert main(["download-data", "--from", "2025-02-01", "--to", "2025-02-02", "--interval", "5m",
                 "--symbols", "ETHTRY", "--csv-export", str(csv_path)]) == 0
    assert len(csv_path.read_text().splitlines()) == 1 + 288
    other = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("BTCBOT_DATABASE__URL", other)
    assert main(["download-data", "--csv-import", str(csv_path)]) == 0
    start, end = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 2, 2, tzinfo=UTC)
    engines = [create_engine_for(db), create_engine_for(other)]
    try:
        a, b = (SqlCandleStore(e).range("ETHTRY", 300, start, end) for e in engines)
    finally:
        for e in engines:
            e.dispose()
    assert a == b and len(a) == 288


def test_bad_arguments_exit_2(db: str) -> None:
    assert main(["download-data", "--interval", "1h"]) == 2  # no range
    assert main(["download-data", "--from", "2025-01-02", "--to", "2025-01-01"]) == 2
    assert main(["download-data", "--from", "2025-01-01", "--to", "2025-01-02", "--interval", "7m"]) == 2
    assert main(["download-data", "--from", "2025-01-01", "--to", "2025-01-02", "--synthetic",
                 "--csv-export", "x.csv"]) == 2


def test_download_from_the_simulator_graph_host(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wall-clock simulator starting now serves 2 days of 1m history (aggregated to 1h on request).
    config = SimConfig(clock_mode="wall", start_time=datetime.now(UTC), rate_limits=False)
    with running_simulator(config) as sim:
        _download(sim, monkeypatch)
    assert stored(db, "BTCTRY", 3600) == 24  # every hour of yesterday, nothing of today


def _download(sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCBOT_EXCHANGE__BASE_URL", sim.base_url)
    monkeypatch.setenv("BTCBOT_EXCHANGE__GRAPH_URL", sim.graph_url)
    today = datetime.now(UTC).date()
    yesterday = today.fromordinal(today.toordinal() - 1)
    assert main(["download-data", "--from", yesterday.isoformat(), "--to", today.isoformat(),
                 "--interval", "1h", "--symbols", "BTCTRY"]) == 0


def test_download_that_stores_nothing_exits_2_and_says_why(db: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # The simulator keeps 2 days of history: a month ago it has nothing to serve.
    config = SimConfig(clock_mode="wall", start_time=datetime.now(UTC), rate_limits=False)
    with running_simulator(config) as sim:
        monkeypatch.setenv("BTCBOT_EXCHANGE__BASE_URL", sim.base_url)
        monkeypatch.setenv("BTCBOT_EXCHANGE__GRAPH_URL", sim.graph_url)
        today = datetime.now(UTC).date()
        old = today.fromordinal(today.toordinal() - 40)
        code = main(["download-data", "--from", old.isoformat(), "--to", old.fromordinal(old.toordinal() + 1).isoformat(),
                     "--interval", "1h", "--symbols", "BTCTRY"])
    captured = capsys.readouterr()
    assert code == 2
    assert "BTCTRY: stored 0 bars" in captured.out
    assert "stored 0 bars for 1 symbol(s): the host returned no BTCTRY 3600s bars" in captured.err
    assert stored(db, "BTCTRY", 3600) == 0


def test_download_of_a_future_range_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(UTC).date()
    later = today.fromordinal(today.toordinal() + 10)
    code = main(["download-data", "--from", later.isoformat(), "--to", later.fromordinal(later.toordinal() + 1).isoformat(),
                 "--interval", "1h", "--symbols", "BTCTRY"])
    assert code == 2
    assert "has not closed yet (it lies in the future)" in capsys.readouterr().err


def test_progress_lines_without_a_terminal_every_step_and_at_the_end() -> None:
    import io

    from btcbot.cli.progress import ProgressReporter

    now = [0.0]
    stream = io.StringIO()
    with ProgressReporter("job", "items", 100, stream=stream, tty=False, step_pct=25, every_s=60,
                          clock=lambda: now[0]) as progress:
        for done in range(1, 101):
            now[0] += 1.0
            progress.update(done)
    lines = stream.getvalue().splitlines()
    # a line at each 25 % step (the first update opens the 0 % step) and one at 100 %, nothing else
    assert [line.split(":")[1].split("(")[0].strip() for line in lines] == [
        "1/100 items", "25/100 items", "50/100 items", "75/100 items", "100/100 items"]
    assert lines[-1] == "progress job: 100/100 items (100%), elapsed 100s, eta 0s"


def test_progress_lines_also_come_on_time_when_steps_are_slow() -> None:
    import io

    from btcbot.cli.progress import ProgressReporter

    now = [0.0]
    stream = io.StringIO()
    with ProgressReporter("slow", "", 1000, stream=stream, tty=False, step_pct=50, every_s=30,
                          clock=lambda: now[0]) as progress:
        for done in range(1, 6):
            now[0] += 31.0
            progress.update(done)
    assert len(stream.getvalue().splitlines()) == 5 + 1  # one per 30 s, plus the closing line
