"""Issue 11 item 8: commands on a missing, empty, unmigrated or outdated database write nothing and
exit 2 with one line; a SQLite path in a missing directory is exit 2 and never a mkdir. ``db
upgrade`` still creates the database; ``BTCBOT_CREATE_DB=1`` (set by run.sh) creates a missing or
empty one on first use, never migrates an outdated one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from btcbot.cli.main import main
from btcbot.persistence import migrations

COMMANDS = [["once"], ["run", "--max-cycles", "1"], ["status"], ["reconcile"], ["halt", "--reason", "x"],
            ["resume"]]


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its content."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(args)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_missing_database_is_exit_2_and_no_file(command: list[str], tmp_cwd: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run(command, capsys)  # default sqlite:///btcbot.db in an empty directory
    assert code == 2
    assert len(lines) == 1 and "not migrated" in lines[0] and "btcbot db upgrade" in lines[0], lines
    assert _tree(tmp_cwd) == {}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_missing_directory_is_exit_2_never_mkdir(command: list[str], tmp_cwd: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _run(["--set", "database.url=sqlite:///nosuchdir/sub/bot.db", *command], capsys)
    assert code == 2
    assert len(lines) == 1 and "directory nosuchdir/sub does not exist" in lines[0], lines
    assert list(tmp_cwd.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_empty_or_outdated_database_is_left_untouched(command: list[str], tmp_cwd: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_cwd / "btcbot.db").touch()
    code, lines = _run(command, capsys)
    assert code == 2 and len(lines) == 1 and "not migrated" in lines[0], lines
    assert _tree(tmp_cwd) == {"btcbot.db": hashlib.sha256(b"").hexdigest()}

    (tmp_cwd / "btcbot.db").unlink()
    migrations.upgrade("sqlite:///btcbot.db", "0001_initial")
    before = _tree(tmp_cwd)
    code, lines = _run(command, capsys)
    assert code == 2 and len(lines) == 1, lines
    assert "revision 0001_initial" in lines[0] and migrations.head() in lines[0] and "db upgrade" in lines[0]
    assert _tree(tmp_cwd) == before
    assert migrations.current("sqlite:///btcbot.db") == "0001_initial"


def test_db_upgrade_still_creates_the_database(tmp_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert (tmp_cwd / "btcbot.db").is_file()
    assert main(["status"]) == 0
    assert "trading state" in capsys.readouterr().out


def test_first_use_variable_creates_an_empty_database_only(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_CREATE_DB", "1")
    assert main(["status"]) == 0
    assert migrations.current("sqlite:///btcbot.db") == migrations.head()
    # An outdated database is not migrated behind the operator's back.
    monkeypatch.setenv("BTCBOT_DATABASE__URL", "sqlite:///old.db")
    migrations.upgrade("sqlite:///old.db", "0001_initial")
    code, lines = _run(["status"], capsys)
    assert code == 2 and "revision 0001_initial" in lines[-1]
    assert migrations.current("sqlite:///old.db") == "0001_initial"
    # Still no directory is created for a mistyped path.
    monkeypatch.setenv("BTCBOT_DATABASE__URL", "sqlite:///typo/bot.db")
    code, lines = _run(["status"], capsys)
    assert code == 2 and "does not exist" in lines[-1]
    assert not (tmp_cwd / "typo").exists()
