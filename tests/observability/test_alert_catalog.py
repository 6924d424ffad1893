"""Alert catalog: one builder per kind, with incident-specific dedup keys and exact decimals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from btcbot.domain.enums import TradingState
from btcbot.observability.alerts import Alert, AlertKind, Severity, catalog
from btcbot.observability.alerts.formatters import MASK, safe_details

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def every_kind() -> list[Alert]:
    return [
        catalog.stale_feed("BTCTRY", 185.0, T0, T1),
        catalog.repeated_retries("account", "GET /api/v1/users/balances", 3, "c-7", T1),
        catalog.breaker_open("orders", 5, T0, T1),
        catalog.risk_reject_spike(4, 5, {"MAX_NOTIONAL": 3, "RESERVE": 1}, "c-7", T1),
        catalog.balance_drift("BTC", Decimal("0.50000000"), Decimal("0.49000000"), T1),
        catalog.trading_state_change(TradingState.ACTIVE, TradingState.HALTED, "manual", T1),
        catalog.lease_lost("host-1:123", 42, T1),
        catalog.invariant_violation("ledger_balanced", "BTC legs sum to 0.1", "c-7", T1),
        catalog.risk_rearm(Decimal("100000"), Decimal("84000"), "flat book after review", T1),
        catalog.cost_basis_unknown("BTCTRY", 77, Decimal("0.01"), Decimal("2000000"), T1),
        catalog.database_outage(75.0, "OperationalError: server closed the connection", T0, T1),
    ]


def test_one_builder_per_kind() -> None:
    assert sorted(a.kind for a in every_kind()) == sorted(AlertKind)


def test_dedup_keys_identify_the_incident() -> None:
    assert (
        catalog.stale_feed("BTCTRY", 185.0, T0, T1).dedup_key
        == catalog.stale_feed("BTCTRY", 245.0, T0, T1).dedup_key
    )
    assert (
        catalog.stale_feed("BTCTRY", 1.0, T0, T1).dedup_key
        != catalog.stale_feed("ETHTRY", 1.0, T0, T1).dedup_key
    )
    assert (
        catalog.breaker_open("orders", 5, T0, T1).dedup_key
        != catalog.breaker_open("orders", 5, T1, T1).dedup_key
    )
    same = catalog.balance_drift("BTC", Decimal("1"), Decimal("0.9"), T1)
    assert (
        same.dedup_key
        == catalog.balance_drift("BTC", Decimal("1"), Decimal("0.9"), T1 + timedelta(hours=1)).dedup_key
    )
    assert same.dedup_key != catalog.balance_drift("BTC", Decimal("1"), Decimal("0.8"), T1).dedup_key
    assert len({a.dedup_key for a in every_kind()}) == len(AlertKind)


def test_details_are_exact_and_structured() -> None:
    drift = catalog.balance_drift("BTC", Decimal("0.50000000"), Decimal("0.49000000"), T1)
    assert dict(drift.details) == {
        "asset": "BTC",
        "ledger": "0.50000000",
        "exchange": "0.49000000",
        "drift": "-0.01000000",
    }
    spike = catalog.risk_reject_spike(4, 5, {"RESERVE": 1, "MAX_NOTIONAL": 3}, "c-7", T1)
    assert spike.details["code.MAX_NOTIONAL"] == "3" and spike.details["code.RESERVE"] == "1"


def test_trading_state_severity_follows_the_new_state() -> None:
    sev = {
        new: catalog.trading_state_change(TradingState.REDUCING, new, "r", T1).severity
        for new in (TradingState.ACTIVE, TradingState.HALTED)
    }
    assert sev == {TradingState.ACTIVE: Severity.INFO, TradingState.HALTED: Severity.CRITICAL}
    assert (
        catalog.trading_state_change(TradingState.ACTIVE, TradingState.REDUCING, "dd", T1).severity
        is Severity.WARNING
    )


def test_no_catalog_detail_key_looks_secret() -> None:
    """The formatter masks secret-looking keys; catalog alerts must survive formatting intact."""
    for a in every_kind():
        assert MASK not in safe_details(a).values(), a.kind
