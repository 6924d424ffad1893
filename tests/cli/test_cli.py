"""The CLI surface: every command listed, exit codes, one-line configuration errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from btcbot.cli.main import COMMANDS, main

pytestmark = pytest.mark.usefixtures("tmp_cwd")


def test_help_lists_every_command_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out
    assert "75 another instance holds the lease" in " ".join(out.split())  # wherever the help wraps


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BTCBOT_TRADING__SYMBOLS": "BTCTRY,ETHTRY,XRPTRY,AVAXTRY"}, "exactly 5 symbols are required"),
        ({"BTCBOT_TRADING__SYMBOLS": "BTCTRY,BTCTRY,XRPTRY,AVAXTRY,SOLTRY"}, "distinct"),
        ({"BTCBOT_TRADING__SYMBOLS": "BTCTRY,ETHTRY,XRPTRY,AVAXTRY,ETHUSDT"}, "one quote asset"),
        ({"BTCBOT_RISK__MAX_DAILY_LOSS_PCT": "-0.1"}, "BTCBOT_RISK__MAX_DAILY_LOSS_PCT"),
        ({"BTCBOT_RISK__MAX_DAILY_LOS": "0.1"}, "unknown setting BTCBOT_RISK__MAX_DAILY_LOS"),
        ({"BTCBOT_TRADING__DRY_RUN": "false"}, "live trading"),
    ],
)
def test_config_check_exits_2_with_one_line(
    env: dict[str, str], needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["config", "check"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert needle in lines[0]


def test_config_check_malformed_env_file(tmp_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_cwd / ".env").write_text("garbage line without equals\n")
    assert main(["config", "check"]) == 2
    assert "malformed line 1" in capsys.readouterr().err


def test_config_check_ok_redacts_secret_and_names_sources(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
    monkeypatch.setenv("BTCBOT_AUTH__API_KEY", "my-public-key")
    monkeypatch.setenv("BTCBOT_AUTH__API_SECRET", secret)
    monkeypatch.setenv("BTCBOT_TRADING__DRY_RUN", "false")
    assert main(["--set", "trading.cycle_interval_s=15", "config", "check"]) == 0
    out = capsys.readouterr().out
    assert secret not in out
    assert "auth.api_secret" in out and "**********" in out
    assert "command line" in out and "trading.cycle_interval_s" in out
    assert "mode: LIVE" in out


def test_bad_override_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", "novalue", "config", "check"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_unknown_command_is_usage_error() -> None:
    assert main(["frobnicate"]) == 2


def test_console_script_runs_as_a_process(tmp_cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "btcbot.cli.main", "config", "check", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"trading.dry_run": "True"' in proc.stdout
