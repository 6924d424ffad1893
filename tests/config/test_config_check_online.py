"""`btcbot config check --online` (issue 13 item 7) against the simulator on 127.0.0.1: symbols
listed and TRADING, credentials accepted by a private read, clock skew against the server time; one
OK/WARN/FAIL/SKIP line each, exit 2 when one fails. The offline check says what it could not verify.
Both secret variables set is exit 2 naming both, for every command.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle.harness import bot_settings, sqlite_url, wall_sim_config

from btcbot.cli.main import main
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle, running_simulator

SYMBOLS_WITH_UNKNOWN = "BTCTRY,ETHTRY,XRPTRY,AVAXTRY,FOOTRY"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    # Market time = wall time to the microsecond (the default config starts on a whole second).
    with running_simulator(wall_sim_config(start_time=datetime.now(UTC))) as handle:
        yield handle


@pytest.fixture
def run(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    upgrade(sqlite_url(tmp_cwd / "bot.db"))

    def call(handle: SimHandle, *args: str, **extra: str) -> tuple[int, str, str]:
        for name, value in bot_settings(handle, sqlite_url(tmp_cwd / "bot.db"), **extra).items():
            if value == "":
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def check_lines(out: str) -> dict[str, str]:
    """``{check name: whole line}`` of the online check lines."""
    lines = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in {"OK", "WARN", "FAIL", "SKIP"} and parts[1] in {"symbols", "credentials", "clock"}:
            lines[parts[1]] = line
    return lines


def test_online_all_ok_in_live_mode(sim: SimHandle, run: Run) -> None:
    code, out, err = run(sim, "config", "check", "--online")
    assert code == 0, err
    lines = check_lines(out)
    assert lines["symbols"] == "OK    symbols      BTCTRY, ETHTRY, XRPTRY, AVAXTRY, SOLTRY listed and TRADING"
    assert lines["credentials"].startswith("OK    credentials  private read accepted (balances: ")
    assert lines["clock"].startswith("OK    clock        local clock ")
    assert "not verified offline" not in out
    assert sim.state()["orders"] == []  # read-only: nothing was sent


def test_unknown_symbol_fails_online_with_one_line_naming_it(sim: SimHandle, run: Run) -> None:
    code, out, err = run(sim, "config", "check", BTCBOT_TRADING__SYMBOLS=SYMBOLS_WITH_UNKNOWN)
    assert code == 0, err  # offline it cannot know...
    assert ("not verified offline: symbols listed and TRADING on the exchange; credentials accepted by the "
            "exchange; clock skew against the exchange's server time; run `btcbot config check --online`") in out
    code, out, err = run(sim, "config", "check", "--online", BTCBOT_TRADING__SYMBOLS=SYMBOLS_WITH_UNKNOWN)
    assert code == 2, err
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failed == ["FAIL  symbols      BTCBOT_TRADING__SYMBOLS not listed by the exchange: FOOTRY"]
    assert check_lines(out)["credentials"].startswith("OK")  # the other checks still ran


def test_rejected_credentials_fail(sim: SimHandle, run: Run) -> None:
    wrong = base64.b64encode(b"not the simulator's secret").decode()
    code, out, _ = run(sim, "config", "check", "--online", BTCBOT_AUTH__API_SECRET=wrong)
    assert code == 2
    line = check_lines(out)["credentials"]
    assert line.startswith("FAIL  credentials  rejected by the exchange (")
    assert wrong not in out
    assert check_lines(out)["symbols"].startswith("OK")


def test_paper_mode_without_credentials_skips_the_private_check(sim: SimHandle, run: Run) -> None:
    code, out, err = run(sim, "config", "check", "--online", BTCBOT_TRADING__DRY_RUN="true",
                         BTCBOT_AUTH__API_KEY="", BTCBOT_AUTH__API_SECRET="")
    assert code == 0, err
    assert check_lines(out)["credentials"] == (
        "SKIP  credentials  paper mode and no credentials set: paper never calls a private endpoint"
    )
    assert sim.state()["request_log"] == [] or all(
        not r["route"].startswith("/api/v1/users") for r in sim.state()["request_log"]
    )


@pytest.mark.parametrize(("behind_s", "status"), [(3, "WARN"), (3600, "FAIL")])
def test_clock_skew(run: Run, behind_s: int, status: str) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=behind_s)  # the exchange lags us
    with running_simulator(wall_sim_config(start_time=start)) as sim:
        code, out, err = run(sim, "config", "check", "--online")
    line = check_lines(out)["clock"]
    assert line.startswith(f"{status:<5} clock        local clock "), line
    assert " ahead of the exchange " in line
    assert code == (2 if status == "FAIL" else 0), err


def test_unreachable_exchange_fails_every_check(sim: SimHandle, run: Run) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again before the check runs
    code, out, _ = run(sim, "config", "check", "--online", BTCBOT_EXCHANGE__BASE_URL=dead,
                       BTCBOT_EXCHANGE__GRAPH_URL=dead, BTCBOT_RESILIENCE__RETRY_MAX_ATTEMPTS="1")
    assert code == 2
    assert {name: line.split()[0] for name, line in check_lines(out).items()} == {
        "symbols": "FAIL", "credentials": "FAIL", "clock": "FAIL"}


def test_json_lists_the_checks_or_what_was_not_verified(sim: SimHandle, run: Run) -> None:
    code, out, _ = run(sim, "config", "check", "--json")
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    assert len(doc["not_verified"]) == 3 and "online" not in doc
    code, out, _ = run(sim, "config", "check", "--json", "--online", BTCBOT_TRADING__SYMBOLS=SYMBOLS_WITH_UNKNOWN)
    assert code == 2
    doc = json.loads(out)
    assert [(c["check"], c["status"]) for c in doc["online"]] == [
        ("symbols", "FAIL"), ("credentials", "OK"), ("clock", "OK")]
    assert "FOOTRY" in doc["online"][0]["detail"]


@pytest.mark.parametrize("command", [["config", "check"], ["status"], ["once"], ["reconcile"]])
def test_both_secret_variables_set_is_exit_2_naming_both(
    sim: SimHandle, run: Run, tmp_cwd: Path, command: list[str]
) -> None:
    secret_file = tmp_cwd / "secret.key"
    secret_file.write_text(sim.api_secret, encoding="utf-8")
    secret_file.chmod(0o600)
    code, out, err = run(sim, *command, BTCBOT_AUTH__API_SECRET_FILE=str(secret_file))
    assert code == 2
    assert err.splitlines() == [
        "btcbot: configuration error: invalid settings: BTCBOT_AUTH__API_SECRET and BTCBOT_AUTH__API_SECRET_FILE "
        "are both set: set only one (the file keeps the secret out of the environment)"
    ]
    assert sim.api_secret not in out + err
    assert sim.state()["request_log"] == [] or all(r["method"] == "GET" for r in sim.state()["request_log"])
