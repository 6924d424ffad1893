"""Metrics: names, labels, values and the disabled no-op mode, read back through the exposition text."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from btcbot.domain.enums import TradingState
from btcbot.observability.metrics import Metrics


def samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for fam in text_string_to_metric_families(m.render().decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: Metrics, name: str, **labels: str) -> float:
    return samples(m)[(name, tuple(sorted(labels.items())))]


def test_all_metric_families_have_the_documented_names() -> None:
    m = Metrics.create()
    m.order_submitted()
    m.order_rejected("BALANCE_NOT_ENOUGH")
    m.api_call("orders", "POST /api/v1/order", "timeout", 1, 12.0)
    m.circuit_opened("orders")
    m.risk_reject("MAX_NOTIONAL")
    m.decisions(2)
    m.cycle_finished(150.0, datetime(2026, 1, 1, tzinfo=UTC))
    m.fill_slippage(Decimal("3.5"))
    m.set_portfolio(Decimal("1000"), Decimal("250"), Decimal("1.5"))
    m.set_market_data_age("BTCTRY", 2.0)
    m.set_trading_state(TradingState.ACTIVE)
    m.set_breaker("orders", "open")
    m.set_drift("BTC", Decimal("0"))
    names = {f.name for f in text_string_to_metric_families(m.render().decode())}
    assert {
        "orders_submitted",
        "orders_rejected",
        "api_errors",
        "circuit_open",
        "risk_rejects",
        "cycle_duration_ms",
        "api_latency_ms",
        "slippage_bps",
        "portfolio_equity",
        "free_quote_balance",
        "drawdown_pct",
        "market_data_age_seconds",
        "trading_state",
        "breaker_state",
        "reconciliation_drift",
        "last_cycle_timestamp",
        "decisions",
    } <= names
    text = m.render().decode()
    for exposed in (
        "orders_submitted_total",
        "orders_rejected_total",
        "api_errors_total",
        "circuit_open_total",
        "risk_rejects_total",
        "cycle_duration_ms_bucket",
        "api_latency_ms_bucket",
        "slippage_bps_bucket",
    ):
        assert f"\n{exposed}" in text or text.startswith(exposed)


def test_counters_count_with_labels() -> None:
    m = Metrics.create()
    m.order_submitted()
    m.order_submitted()
    m.order_rejected("FAILED_MIN_TOTAL_AMOUNT")
    m.risk_reject("RESERVE")
    m.risk_reject("RESERVE")
    m.risk_reject("DRAWDOWN")
    assert value(m, "orders_submitted_total") == 2
    assert value(m, "orders_rejected_total", code="FAILED_MIN_TOTAL_AMOUNT") == 1
    assert value(m, "risk_rejects_total", code="RESERVE") == 2
    assert value(m, "risk_rejects_total", code="DRAWDOWN") == 1


def test_api_call_observer_counts_errors_only_for_non_ok_status() -> None:
    m = Metrics.create()
    m.api_call("market_data", "GET /api/v2/ticker", "ok", 1, 40.0)
    m.api_call("account", "GET /api/v1/users/balances", "http_5xx", 1, 300.0)
    m.api_call("account", "GET /api/v1/users/balances", "http_5xx", 2, 310.0)
    m.api_call("account", "GET /api/v1/users/balances", "ok", 3, 20.0)
    assert value(m, "api_errors_total", endpoint_group="account", kind="http_5xx") == 2
    assert ("api_errors_total", (("endpoint_group", "market_data"), ("kind", "ok"))) not in samples(m)
    assert value(m, "api_latency_ms_count", endpoint_group="account") == 3
    assert value(m, "api_latency_ms_sum", endpoint_group="account") == 630.0
    assert value(m, "api_latency_ms_bucket", endpoint_group="market_data", le="50.0") == 1
    assert value(m, "api_latency_ms_bucket", endpoint_group="market_data", le="25.0") == 0


def test_gauges_take_decimals_and_expose_floats() -> None:
    m = Metrics.create()
    m.set_portfolio(Decimal("12345.67"), Decimal("100.5"), Decimal("2.25"))
    m.set_drift("ETH", Decimal("-0.001"))
    m.set_market_data_age("ETHTRY", 7.5)
    assert value(m, "portfolio_equity") == 12345.67
    assert value(m, "free_quote_balance") == 100.5
    assert value(m, "drawdown_pct") == 2.25
    assert value(m, "reconciliation_drift", asset="ETH") == -0.001
    assert value(m, "market_data_age_seconds", symbol="ETHTRY") == 7.5


def test_cycle_finished_sets_timestamp_histogram_and_last_cycle_at() -> None:
    m = Metrics.create()
    at = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    m.cycle_finished(420.0, at)
    assert m.last_cycle_at == at
    assert value(m, "last_cycle_timestamp") == at.timestamp()
    assert value(m, "cycle_duration_ms_count") == 1
    assert value(m, "cycle_duration_ms_bucket", le="500.0") == 1
    assert value(m, "cycle_duration_ms_bucket", le="250.0") == 0
    with pytest.raises(ValueError):
        m.cycle_finished(1.0, datetime(2026, 1, 1))  # naive on purpose


def test_trading_state_is_one_hot() -> None:
    m = Metrics.create()
    m.set_trading_state(TradingState.ACTIVE)
    m.set_trading_state("HALTED")
    assert value(m, "trading_state", state="HALTED") == 1
    assert value(m, "trading_state", state="ACTIVE") == 0
    assert value(m, "trading_state", state="REDUCING") == 0
    with pytest.raises(ValueError):
        m.set_trading_state("PANIC")


@pytest.mark.parametrize(
    ("state", "expected"), [("closed", 0), ("half_open", 1), ("HALF-OPEN", 1), ("open", 2)]
)
def test_breaker_state_encoding(state: str, expected: float) -> None:
    m = Metrics.create()
    m.set_breaker("orders", state)
    assert value(m, "breaker_state", endpoint_group="orders") == expected


def test_unknown_breaker_state_is_an_error_even_when_disabled() -> None:
    with pytest.raises(ValueError):
        Metrics.create(enabled=False).set_breaker("orders", "ajar")


def test_instances_do_not_share_a_registry() -> None:
    a, b = Metrics.create(), Metrics.create()
    a.order_submitted()
    assert value(a, "orders_submitted_total") == 1
    assert value(b, "orders_submitted_total") == 0


def test_disabled_metrics_are_no_ops_but_track_last_cycle() -> None:
    m = Metrics.create(enabled=False)
    at = datetime(2026, 1, 2, tzinfo=UTC)
    m.order_submitted()
    m.api_call("orders", "x", "timeout", 1, 1.0)
    m.set_portfolio(Decimal(1), Decimal(1), Decimal(0))
    m.set_trading_state("ACTIVE")
    m.cycle_finished(10.0, at)
    assert not m.enabled
    assert m.registry is None
    assert m.render() == b""
    assert m.last_cycle_at == at
