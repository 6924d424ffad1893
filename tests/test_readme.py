"""The README stays true: it starts with the two set-up commands and documents every setting,
command, exit code and decision code that the code has."""

from __future__ import annotations

from pathlib import Path

from btcbot.cli.exit_codes import ExitCode
from btcbot.cli.main import COMMANDS
from btcbot.config.reference import iter_settings
from btcbot.domain.intents import DecisionCode

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_starts_with_demo_and_test_commands() -> None:
    first_code_block = README.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line.split("#")[0].strip() for line in first_code_block.strip().splitlines()]
    assert lines[:2] == ["./run.sh demo", "./run.sh test"]


def test_every_setting_is_documented() -> None:
    missing = [env for _g, env, _d, _m in iter_settings() if f"`{env}`" not in README]
    assert missing == []


def test_every_decision_code_is_documented() -> None:
    missing = [c.value for c in DecisionCode if f"`{c.value}`" not in README]
    assert missing == []


def test_every_command_and_exit_code_is_documented() -> None:
    assert [name for name in COMMANDS if f"btcbot {name}" not in README] == []
    table = README.split("### Exit codes", 1)[1]
    assert [int(c) for c in ExitCode if f"| {int(c)} |" not in table] == []


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./run.sh test" in ci and "./run.sh test" in README
