"""Acceptance 1 of the observability issue, end to end over real processes and sockets.

* ``btcbot run`` (a real subprocess, live mode) trades against the simulator (in-process, wall
  clock from now, so tickers are fresh and X-Stamps pass for a child on the system clock) with
  ``observability.metrics_port`` set; the test scrapes ``/metrics`` over HTTP and watches
  ``orders_submitted_total`` move while orders are placed, then
  ``orders_rejected_total{code="BALANCE_NOT_ENOUGH"}`` move once the simulator's TRY balance is cut
  to 1 (the drift tolerance is set huge so the bot keeps trading on its ledger and the exchange
  is the one saying no); ``/healthz`` answers 200 once a cycle finished.
* ``btcbot once`` with ``observability.metrics_textfile`` leaves a textfile that
  prometheus_client's own parser reads, holding every metric named in the design document.

The test strategy lives here and is loaded by dotted path (``tests/`` is on the child's PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.persistence.migrations import upgrade
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle

REPO_ROOT = Path(__file__).resolve().parents[2]
STRATEGY = "integration.test_observability_metrics_run:BuyBtcEveryCycle"
REJECT_CODE = "BALANCE_NOT_ENOUGH"
#: Every metric of the design document (section 4.7) plus the operations gauges of the issue.
DESIGN_METRICS = (
    "orders_submitted", "orders_rejected", "api_errors", "circuit_open", "risk_rejects",
    "cycle_duration_ms", "api_latency_ms", "slippage_bps",
    "portfolio_equity", "free_quote_balance", "drawdown_pct", "market_data_age_seconds",
    "trading_state", "breaker_state", "reconciliation_drift", "last_cycle_timestamp",
)  # fmt: skip
#: Generous bound for waiting on a child process; the assertions never depend on timing.
WAIT_S = 60.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class BuyBtcEveryCycle:
    """Every cycle: one market BUY of 200 TRY of BTCTRY (well above the venue minimum, far below
    every risk cap), so each cycle submits exactly one order."""

    NOTIONAL = Decimal("200")

    def __init__(self, strategy_id: str) -> None:
        self._strategy_id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    def required_history(self) -> int:
        return 0

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        price = snapshot.last_price("BTCTRY")
        if "BTCTRY" not in tradable_symbols or price is None:
            return []
        qty = (self.NOTIONAL / price).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
        return [OrderIntent(
            strategy_id=self._strategy_id, symbol="BTCTRY", side=Side.BUY, order_type=OrderType.MARKET,
            quantity=qty, reference_price=price, expected_edge_bps=Decimal("1000"), limit_price=None,
            reason="test: buy every cycle",
        )]


# ---------------------------------------------------------------------------------------- helpers


@pytest.fixture
def sim_config() -> SimConfig:
    """The shared ``sim`` fixture's wall-clock market, stamps checked against either clock."""
    return SimConfig(clock_mode="wall", start_time=datetime.now(UTC).replace(microsecond=0), rate_limits=False,
                     auth_clock="either")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(sim: SimHandle, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")]),
        "PYTHONUNBUFFERED": "1",
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_EXCHANGE__API_TIMEOUT": "3",
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": STRATEGY,
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_TRADING__CYCLE_INTERVAL_S": "1",
        "BTCBOT_TRADING__CYCLE_JITTER_S": "0",
        "BTCBOT_RISK__DRIFT_TOLERANCE_QUOTE": "1000000000",
        "BTCBOT_DATABASE__URL": f"sqlite:///{db}",
        "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console",
    })  # fmt: skip
    env.update(extra)
    upgrade(env["BTCBOT_DATABASE__URL"])
    return env


def bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "btcbot.cli.main", *args]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
    return out


def scrape(port: int) -> Samples:
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for(what: str, probe: Callable[[], Samples | None], proc: subprocess.Popen[str]) -> Samples:
    """Poll ``probe`` until it returns samples (the child must stay alive meanwhile)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"btcbot run exited {proc.returncode} while waiting for {what}:\n{err[-3000:]}")
        try:
            got = probe()
        except requests.ConnectionError:
            got = None  # the server is not listening yet
        if got is not None:
            return got
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


# ------------------------------------------------------------------------------------------ tests


def test_run_serves_metrics_that_count_submitted_and_rejected_orders(sim: SimHandle, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(sim, tmp_path / "bot.db", BTCBOT_OBSERVABILITY__METRICS_PORT=str(port))
    proc = subprocess.Popen(bot("run"), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def submitted_at_least(n: float) -> Callable[[], Samples | None]:
            def probe() -> Samples | None:
                s = scrape(port)
                return s if value(s, "orders_submitted_total") >= n else None
            return probe

        def cycle_with_order_done() -> Samples | None:
            # A scrape can land mid-cycle (order counted, cycle not finished): wait for both.
            s = scrape(port)
            done = value(s, "orders_submitted_total") >= 1 and value(s, "last_cycle_timestamp") > 0
            return s if done else None

        first = wait_for("a finished cycle that submitted an order", cycle_with_order_done, proc)
        assert value(first, "orders_rejected_total", code=REJECT_CODE) == 0
        assert value(first, "cycle_duration_ms_count") >= 1
        assert value(first, "trading_state", state="ACTIVE") == 1
        assert value(first, "api_latency_ms_count", endpoint_group="orders") >= 1
        assert value(first, "portfolio_equity") > 0
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 200
        assert json.loads(health.text)["status"] == "ok"

        # Orders keep going out each cycle: the counter moves.
        wait_for("a second submitted order", submitted_at_least(value(first, "orders_submitted_total") + 1), proc)

        # Now the exchange refuses (no TRY left there); the bot's ledger still has cash.
        sim.admin.set_balance("TRY", Decimal("1"))

        def rejected_at_least(n: float) -> Callable[[], Samples | None]:
            def probe() -> Samples | None:
                s = scrape(port)
                return s if value(s, "orders_rejected_total", code=REJECT_CODE) >= n else None
            return probe

        after = wait_for("two rejected orders", rejected_at_least(2), proc)
        # Once rejections start, nothing more is acknowledged: the submitted counter stands still.
        later = wait_for("a third rejection", rejected_at_least(3), proc)
        assert value(later, "orders_submitted_total") == value(after, "orders_submitted_total")
        assert value(later, "risk_rejects_total", code="RISK_INSUFFICIENT_CASH") == 0
        # Each rejection is also a failed orders attempt (a business answer, not venue health).
        assert value(later, "api_errors_total", endpoint_group="orders", kind="ExchangeRejected") >= 3
        assert value(later, "breaker_state", endpoint_group="market_data") == 0

        # The venue goes into maintenance for one ticker call: the market-data breaker opens at once.
        sim.admin.set_fault("GET /api/v2/ticker", kind="maintenance", count=1)

        def breaker_opened() -> Samples | None:
            s = scrape(port)
            return s if value(s, "circuit_open_total", endpoint_group="market_data") >= 1 else None

        opened = wait_for("the market-data breaker to open", breaker_opened, proc)
        assert value(opened, "circuit_open_total", endpoint_group="market_data") == 1
        assert value(opened, "breaker_state", endpoint_group="market_data") == 2
        assert value(opened, "api_errors_total", endpoint_group="market_data", kind="MaintenanceError") == 1
    finally:
        code, err = stop(proc)
    assert code == 0, err[-3000:]
    # The counter agrees with the exchange: every acknowledged order exists there, no more.
    assert sim.state()["orders"] and len(sim.state()["orders"]) == value(later, "orders_submitted_total")


def test_once_leaves_a_parseable_textfile_with_the_design_metrics(sim: SimHandle, tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "btcbot.prom"
    target.parent.mkdir()
    env = bot_env(sim, tmp_path / "bot.db", BTCBOT_OBSERVABILITY__METRICS_TEXTFILE=str(target))
    done = subprocess.run(bot("once"), env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=WAIT_S, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    text = target.read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    missing = [m for m in DESIGN_METRICS if m not in families]
    assert not missing, f"textfile lacks {missing}"
    samples = parse(text)
    assert value(samples, "orders_submitted_total") == 1
    assert value(samples, "cycle_duration_ms_count") == 1
    assert value(samples, "last_cycle_timestamp") > 0
    assert value(samples, "portfolio_equity") > 0
    assert value(samples, "decisions_total") == 1
    # The market BUY filled within the cycle: one slippage observation, against the decision price.
    assert value(samples, "slippage_bps_count") == 1
    assert abs(value(samples, "slippage_bps_sum")) < 500
    drift = {dict(labels)["asset"]: v for (name, labels), v in samples.items() if name == "reconciliation_drift"}
    assert drift == {"TRY": 0, "BTC": 0, "ETH": 0, "XRP": 0, "AVAX": 0, "SOL": 0}
    ages = {dict(labels)["symbol"] for (name, labels) in samples if name == "market_data_age_seconds"}
    assert ages == {"BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY"}
    # Atomic write: no temporary file is left next to the real one.
    assert [p.name for p in target.parent.iterdir()] == ["btcbot.prom"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_healthz_turns_stale_when_no_cycle_finishes_in_time(sim: SimHandle, tmp_path: Path) -> None:
    # One cycle, then the loop waits 60 s for the next one: with a 1 s budget /healthz must go 503.
    port = free_port()
    env = bot_env(sim, tmp_path / "bot.db", BTCBOT_OBSERVABILITY__METRICS_PORT=str(port),
                  BTCBOT_OBSERVABILITY__HEALTHZ_MAX_AGE_S="1", BTCBOT_TRADING__CYCLE_INTERVAL_S="60")
    proc = subprocess.Popen(bot("run"), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    bodies: list[dict[str, object]] = []
    try:
        def stale() -> Samples | None:
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            body = json.loads(response.text)
            bodies.append(body)
            if response.status_code == 503 and body["status"] == "stale":
                return scrape(port)
            assert response.status_code == (200 if body["status"] == "ok" else 503)
            return None

        samples = wait_for("a stale /healthz", stale, proc)
    finally:
        code, err = stop(proc)
    assert code == 0, err[-3000:]
    assert value(samples, "cycle_duration_ms_count") == 1  # the process is alive; its loop is not cycling
    assert bodies[-1]["last_cycle_at"] is not None and float(str(bodies[-1]["age_s"])) > 1
    assert {b["status"] for b in bodies} <= {"starting", "ok", "stale"}
