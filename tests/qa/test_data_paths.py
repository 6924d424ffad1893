"""QA regression: an unwritable --csv-export / --out is a one-line usage error (exit 2), found before
any work, not a FileNotFoundError traceback after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcbot.cli.main import main

pytestmark = pytest.mark.usefixtures("tmp_cwd")


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_unwritable_csv_export_and_backtest_out_are_usage_errors(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_DATABASE__URL", f"sqlite:///{tmp_cwd / 'd.db'}")
    blocker = tmp_cwd / "a-file"
    blocker.write_text("not a directory\n")
    assert main(["download-data", "--from", "2026-01-01", "--to", "2026-01-02",
                 "--csv-export", str(blocker / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--csv-export" in _lines(err)[-1]
    assert main(["backtest", "--from", "2026-01-01", "--to", "2026-01-02", "--out", str(blocker / "report")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--out" in _lines(err)[-1]
