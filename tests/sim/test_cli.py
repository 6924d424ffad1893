"""``python -m btcbot.sim`` starts in the foreground, answers BTC Turk calls and stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from btcbot.sim.cli import sim_command

from .conftest import sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_module_runs_answers_and_stops_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env["BTCBOT_AUTH__API_KEY"] = "env-key"  # credentials default from the bot's env names
    with subprocess.Popen(
        [sys.executable, "-m", "btcbot.sim", "--port", "0", "--clock", "manual", "--seed", "5",
         "--balance", "TRY=2500", "--balance", "BTC=0.5", "--symbols", "BTCTRY,ETHTRY"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        _exercise(proc)


def _exercise(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        server_ms = requests.get(url + "/api/v2/server/time", timeout=5).json()["serverTime"]
        assert server_ms == 1_767_225_600_000  # manual clock: the default start
        secret = "YnRjYm90LXNpbXVsYXRvci1maXhlZC1zZWNyZXQtMDE="
        headers = {
            "X-PCK": "env-key",
            "X-Stamp": str(server_ms),
            "X-Signature": sign("env-key", secret, server_ms),
        }
        rows = requests.get(url + "/api/v1/users/balances", headers=headers, timeout=5).json()["data"]
        assert {r["asset"]: r["free"] for r in rows if r["asset"] in ("TRY", "BTC")} == {
            "TRY": "2500",
            "BTC": "0.5",
        }
        names = {
            s["name"]
            for s in requests.get(url + "/api/v2/server/exchangeinfo", timeout=5).json()["data"]["symbols"]
        }
        assert "ETHTRY" in names and "SOLTRY" not in names
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_bad_balance_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(sim_command, ["--balance", "TRY", "--port", "0"])
    assert result.exit_code == 2
    assert "ASSET=AMOUNT" in result.output
