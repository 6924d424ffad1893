"""QA regressions: bad input gives one line and the documented exit code, never a traceback, and
no secret reaches the terminal on any error path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from btcbot.cli.context import CliContext
from btcbot.cli.errors import run_cli
from btcbot.cli.main import main

pytestmark = pytest.mark.usefixtures("tmp_cwd")

SECRET = "UUEtU0VDUkVULWRvLW5vdC1sZWFrLTEyMzQ1Ng=="  # valid base64
API_KEY = "QA-PUBLIC-KEY-0123456789"


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _btcbot(args: list[str], env: dict[str, str], stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "btcbot.cli.main", *args],
        env={**clean, **env}, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
    )


def test_error_before_settings_load_prints_no_secret_and_no_traceback() -> None:
    # `sim` never loads settings, so loguru's default handler (which prints local variables in
    # tracebacks) was still active: the API secret from the environment reached the terminal.
    proc = _btcbot(["sim", "--port", "99999", "--api-key", API_KEY],
                   {"BTCBOT_AUTH__API_SECRET": SECRET, "BTCBOT_AUTH__API_KEY": API_KEY})
    assert proc.returncode in (1, 2)
    assert SECRET not in proc.stderr + proc.stdout
    assert API_KEY not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert len(_lines(proc.stderr)) == 1, proc.stderr


def test_unexpected_error_line_masks_secrets_loaded_from_env_file(tmp_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The redactor built from the loaded settings was never used for the error line (it read
    # ctx.obj before the group callback had set it), so a secret from a .env file leaked.
    env_file = tmp_cwd / "live.env"
    env_file.write_text(f"BTCBOT_AUTH__API_SECRET={SECRET}\nBTCBOT_AUTH__API_KEY={API_KEY}\n")

    @click.group()
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = CliContext(env_file=env_file)

    @group.command()
    @click.pass_obj
    def boom(obj: CliContext) -> None:
        obj.load()
        raise RuntimeError(f"venue said: key {API_KEY} secret {SECRET}")

    assert run_cli(group, ["boom"]) == 1
    err = capsys.readouterr().err
    assert SECRET not in err and API_KEY not in err
    assert "btcbot: unexpected error: RuntimeError" in err


def test_garbage_database_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_DATABASE__URL", "garbage")
    assert main(["status"]) == 2
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 1 and "BTCBOT_DATABASE__URL" in lines[0], lines


def test_unknown_migration_revision_is_a_usage_error(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_DATABASE__URL", f"sqlite:///{tmp_cwd / 'q.db'}")
    assert main(["db", "upgrade", "--revision", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert _lines(err)[-1].startswith("btcbot: db upgrade:") and "nosuch" in err


def test_unreachable_database_is_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.setenv("BTCBOT_DATABASE__URL", "postgresql+psycopg://qa:pw@127.0.0.1:1/none")
    assert main(["--log-format", "console", "status"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "pw@" not in err
    last = _lines(err)[-1]
    assert last.startswith("btcbot: error: OperationalError") and "sqlalche.me" not in last


def test_closed_stdout_is_not_a_traceback(tmp_cwd: Path) -> None:
    # `btcbot config check | head -1` with a reader that is already gone.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = _btcbot(["--set", f"database.url=sqlite:///{tmp_cwd / 'p.db'}", "config", "check"], {},
                       stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_ctrl_c_says_interrupted_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    @click.group()
    def group() -> None:
        pass

    @group.command()
    def slow() -> None:
        raise KeyboardInterrupt

    assert run_cli(group, ["slow"]) == 1
    assert _lines(capsys.readouterr().err) == ["btcbot: interrupted"]
