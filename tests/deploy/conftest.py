"""Fixtures of the deploy tests: the monitoring kit's files and what a real /metrics exposes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from btcbot.adapters.clock import SystemClock
from btcbot.domain.enums import TradingState
from btcbot.domain.portfolio import FrozenMap
from btcbot.observability.metrics import Metrics
from btcbot.observability.metrics_server import MetricsServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
yaml = pytest.importorskip("yaml", reason="PyYAML (installed with the test extra through `responses`)")


class Policy:
    """The capital-policy figures Metrics.set_capital_policy reads."""

    c_base = Decimal("100000")
    c_res = Decimal("10000")
    fee_buffer = Decimal("50")
    tradable = Decimal("80000")
    m_dd = Decimal("0.7")
    asset_caps = FrozenMap({"BTCTRY": Decimal("20000"), "ETHTRY": Decimal("20000")})
    portfolio_cap = Decimal("72000")
    reserve_bucket = Decimal("0")


def exercise_every_metric(metrics: Metrics) -> None:
    """Give every metric, labelled ones included, at least one sample."""
    metrics.order_submitted()
    metrics.order_rejected("BALANCE_NOT_ENOUGH")
    metrics.risk_reject("RISK_PORTFOLIO_EXPOSURE_LIMIT")
    metrics.decisions(2)
    metrics.circuit_opened("orders")
    metrics.api_call("market_data", "tickers", "ok", 1, 12.0)
    metrics.api_call("orders", "submit_order", "TransientError", 1, 40.0)
    metrics.cycle_finished(120.0, datetime.now(UTC))
    metrics.fill_slippage(Decimal("3.5"))
    metrics.set_portfolio(Decimal("100000"), Decimal("50000"), Decimal("2.5"))
    metrics.set_market_data_age("BTCTRY", 3.0)
    metrics.set_trading_state(TradingState.ACTIVE)
    metrics.set_breaker("orders", "closed")
    metrics.set_drift("TRY", Decimal("0"))
    metrics.set_cycle_interval(60)
    metrics.set_alert_backlog(0)
    metrics.set_profit(Decimal("120.5"), Decimal("-30"), Decimal("12.3"), Decimal("2.46"))
    metrics.set_capital_policy(Policy())
    metrics.set_strategy_hold("warming_up")


@pytest.fixture(scope="module")
def exposed() -> dict[str, Any]:
    """Sample names and label names of a real /metrics scrape (MetricsServer on 127.0.0.1:0)."""
    metrics = Metrics.create(enabled=True)
    exercise_every_metric(metrics)
    server = MetricsServer(metrics, "127.0.0.1", 0, 300.0, SystemClock())
    port = server.start()
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.stop()
    names: dict[str, set[str]] = {}
    families: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return {"samples": names, "families": families, "text": text}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    doc = json.loads((DEPLOY / "grafana" / "btcbot-dashboard.json").read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "prometheus" / "btcbot-alerts.yml").read_text())
    assert isinstance(doc, dict)
    return doc


def iter_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])
