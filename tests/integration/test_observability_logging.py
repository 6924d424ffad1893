"""The logging part of the observability issue, end to end: ``btcbot once`` (a real subprocess, JSON
logs on stderr) trading live against the simulator.

* every record from the first cycle record up to ``cycle.finished`` carries the cycle's id;
* order records carry ``symbol`` and ``client_order_id``; risk denials carry ``symbol``;
* semantic event names are used (``risk.reject``, ``order.submit.success``, ``cycle.finished`` ...);
* neither the API key nor the secret appears anywhere in the output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimHandle

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_once_json(sim: SimHandle, tmp_path: Path) -> list[dict[str, Any]]:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
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
        # XRPTRY may hold at most 1 TRY: its buy is denied, so a risk.reject record is certain.
        "BTCBOT_RISK__MAX_NOTIONAL_OVERRIDES": '{"XRPTRY": "1"}',
        "BTCBOT_DATABASE__URL": db,
        "BTCBOT_OBSERVABILITY__LOG_FORMAT": "json",
        "BTCBOT_OBSERVABILITY__LOG_LEVEL": "DEBUG",
    })  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "btcbot.cli.main", "once"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for secret in (sim.api_key, sim.api_secret):
        assert secret not in done.stderr and secret not in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-2000:]
    return [json.loads(line) for line in lines]


def test_once_logs_are_structured_and_carry_the_cycle_context(sim: SimHandle, tmp_path: Path) -> None:
    records = run_once_json(sim, tmp_path)
    for r in records:
        assert {"timestamp", "level", "service", "cycle_id", "symbol", "client_order_id", "event", "outcome",
                "latency_ms", "message"} <= set(r)
        assert r["service"] == "btcbot"

    first = next(i for i, r in enumerate(records) if r["cycle_id"] is not None)
    last = next(i for i, r in enumerate(records) if r["event"] == "cycle.finished")
    in_cycle = records[first:last + 1]
    assert all(r["cycle_id"] == 1 for r in in_cycle), [r["message"] for r in in_cycle if r["cycle_id"] != 1]

    events = {r["event"] for r in in_cycle}
    assert {"risk.reject", "order.submit.success", "cycle.finished"} <= events
    rejects = [r for r in in_cycle if r["event"] == "risk.reject"]
    assert rejects and all(r["symbol"] == "XRPTRY" and r["outcome"] for r in rejects)
    orders = [r for r in in_cycle if str(r["event"]).startswith("order.")]
    assert orders
    for r in orders:
        assert r["symbol"] in {"BTCTRY", "ETHTRY", "AVAXTRY", "SOLTRY"}
        assert str(r["client_order_id"]).startswith("bb-") and r["symbol"] in r["client_order_id"]
    finished = records[last]
    assert finished["outcome"] == "ok" and isinstance(finished["latency_ms"], int | float)
