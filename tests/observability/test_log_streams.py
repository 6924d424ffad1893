"""One log format per stream (issue 13, item 4), end to end over real processes.

``btcbot once`` and ``btcbot run --max-cycles 2`` run as subprocesses trading live against the
simulator. With ``log_format=json`` every line of stdout AND stderr must be one JSON document
(no plain ``cycle N:`` line, no "metrics on ..." line, no library warning in plain text), and no
amount in any line may carry more than 8 decimals. With ``console`` the same commands write human
lines only. A configuration error with JSON asked for is one JSON line too.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from btcbot.persistence.migrations import upgrade
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle, running_simulator

REPO_ROOT = Path(__file__).resolve().parents[2]
#: A number with more than 8 decimals, or in exponent notation, anywhere in a line.
LONG_AMOUNT = re.compile(r"(?<![\w.])-?(?:\d+\.\d{9,}|\d+(?:\.\d+)?E[-+]?\d+)(?![\w.])")
TIMEOUT_S = 120


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        return [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    start = datetime.now(UTC).replace(microsecond=0)
    with running_simulator(SimConfig(clock_mode="wall", start_time=start, rate_limits=False)) as handle:
        yield handle


def bot_env(sim: SimHandle, db: str, fmt: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({
        "PYTHONPATH": str(REPO_ROOT),
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": "rebalance",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_TRADING__CYCLE_INTERVAL_S": "1",
        "BTCBOT_TRADING__CYCLE_JITTER_S": "0",
        "BTCBOT_DATABASE__URL": db,
        "BTCBOT_OBSERVABILITY__LOG_FORMAT": fmt,
        "BTCBOT_OBSERVABILITY__LOG_LEVEL": "DEBUG",
    })  # fmt: skip
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def btcbot(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    done = subprocess.run([sys.executable, "-m", "btcbot.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def parse_all(run: Run) -> list[dict[str, Any]]:
    """Every non-empty line of both streams as JSON; fails naming the first line that is not."""
    docs = []
    for line in run.lines():
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line[:300]!r}")
        assert isinstance(doc, dict), line
        docs.append(doc)
    return docs


def test_json_logging_every_line_of_once_and_run_is_json(sim: SimHandle, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    env = bot_env(sim, db, "json")

    once = btcbot(["once"], env, tmp_path)
    assert once.code == 0, once.stderr[-3000:]
    # With /metrics served, its URL is announced as a record too (a free port, as in tests/integration).
    run = btcbot(["run", "--max-cycles", "2"], {**env, "BTCBOT_OBSERVABILITY__METRICS_PORT": str(free_port())},
                 tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert [d["event"] for d in parse_all(run)].count("metrics.listening") == 1

    for result in (once, run):
        assert result.stdout == ""  # nothing for people on stdout: the log stream carries it all
        docs = parse_all(result)
        assert {"timestamp", "level", "service", "event", "message"} <= set(docs[0])
        summaries = [d for d in docs if d["event"] == "cycle.summary"]
        assert summaries and all(isinstance(d["decisions"], list) for d in summaries)
        assert all(isinstance(d["cycle_id"], int) for d in summaries)
        for line in result.lines():
            assert not LONG_AMOUNT.search(line), line
    once_docs = parse_all(once)
    assert any(d["event"] == "order.fill" for d in once_docs)  # it traded: fills with fee amounts
    assert [d["cycle_id"] for d in parse_all(run) if d["event"] == "cycle.summary"] == [2, 3]


def test_console_logging_is_human_lines(sim: SimHandle, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    once = btcbot(["once"], bot_env(sim, db, "console"), tmp_path)
    assert once.code == 0, once.stderr[-3000:]
    assert re.match(r"cycle 1: .*; sent \d+; state ACTIVE equity \d+(\.\d+)?$", once.stdout.strip()), once.stdout
    for line in once.lines():
        assert not line.lstrip().startswith("{"), line
        assert not LONG_AMOUNT.search(line), line
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO +cycle 1: ", once.stderr, re.MULTILINE)


@pytest.mark.parametrize("args", [["once"], ["run", "--max-cycles", "1"]])
def test_a_configuration_error_with_json_asked_for_is_one_json_line(tmp_path: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({"PYTHONPATH": str(REPO_ROOT), "BTCBOT_OBSERVABILITY__LOG_FORMAT": "json",
                "BTCBOT_TRADING__SYMBOLS": '["FOOTRY"]'})
    result = btcbot(args, env, tmp_path)
    assert result.code == 2
    docs = parse_all(result)
    assert len(docs) == 1 and docs[0]["event"] == "cli.exit" and docs[0]["outcome"] == "2"
    assert docs[0]["level"] == "ERROR" and docs[0]["message"].startswith("configuration error: ")


def test_json_from_the_env_file_covers_errors_before_the_settings_load(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    (tmp_path / ".env").write_text("BTCBOT_OBSERVABILITY__LOG_FORMAT=json\nBTCBOT_TRADING__SYMBOLS=nonsense\n")
    result = btcbot(["once"], env, tmp_path)
    assert result.code == 2
    docs = parse_all(result)
    assert [d["event"] for d in docs] == ["cli.exit"]


def test_interactive_commands_keep_a_plain_error_line_under_json(tmp_path: Path) -> None:
    """`config check` is typed by a person: its error stays `btcbot: ...` even with JSON logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({"PYTHONPATH": str(REPO_ROOT), "BTCBOT_OBSERVABILITY__LOG_FORMAT": "json",
                "BTCBOT_TRADING__SYMBOLS": '["FOOTRY"]'})
    result = btcbot(["config", "check"], env, tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("btcbot: configuration error: ")
