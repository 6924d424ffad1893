"""One builder per alert kind: fixed severity, structured details, an incident-specific dedup key.

Use these instead of constructing :class:`Alert` by hand so every alert of a kind looks the same and
carries no free text beyond its summary. Decimals go into details as exact strings. Dedup keys name
the incident, so the same incident is never alerted twice (outbox + policy) while a new one is:

=====================  =============================================  =====================
kind                   dedup key                                      severity
=====================  =============================================  =====================
stale_feed             symbol + time of the last data received        warning
repeated_retries       endpoint group + cycle                         warning
breaker_open           endpoint group + time it opened                warning
risk_reject_spike      cycle                                          warning
balance_drift          asset + drift amount                           critical
trading_state_change   old -> new + time                              info/warning/critical
lease_lost             fencing token                                  critical
invariant_violation    invariant name + cycle                         critical
risk_rearm             time of the re-arm                             warning
cost_basis_unknown     trade id                                       warning
database_outage        start of the outage (+ "recovered")            critical/info
=====================  =============================================  =====================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from btcbot.domain.enums import TradingState
from btcbot.observability.alerts.model import Alert, AlertKind, Severity


def stale_feed(symbol: str, age_s: float, last_data_at: datetime, at: datetime) -> Alert:
    return Alert(
        AlertKind.STALE_FEED,
        Severity.WARNING,
        f"market data for {symbol} is {age_s:.0f} s old; no new risk on it",
        {"symbol": symbol, "age_s": f"{age_s:.1f}", "last_data_at": last_data_at.isoformat()},
        f"stale_feed:{symbol}:{last_data_at.isoformat()}",
        at,
    )


def repeated_retries(endpoint_group: str, endpoint: str, attempts: int, cycle_id: str, at: datetime) -> Alert:
    return Alert(
        AlertKind.REPEATED_RETRIES,
        Severity.WARNING,
        f"{endpoint} needed {attempts} attempts",
        {
            "endpoint_group": endpoint_group,
            "endpoint": endpoint,
            "attempts": str(attempts),
            "cycle_id": cycle_id,
        },
        f"repeated_retries:{endpoint_group}:{cycle_id}",
        at,
    )


def breaker_open(endpoint_group: str, failures: int, opened_at: datetime, at: datetime) -> Alert:
    return Alert(
        AlertKind.BREAKER_OPEN,
        Severity.WARNING,
        f"circuit breaker for {endpoint_group} opened; safe mode for that group",
        {"endpoint_group": endpoint_group, "failures": str(failures), "opened_at": opened_at.isoformat()},
        f"breaker_open:{endpoint_group}:{opened_at.isoformat()}",
        at,
    )


def risk_reject_spike(
    rejects: int, intents: int, by_code: Mapping[str, int], cycle_id: str, at: datetime
) -> Alert:
    details = {"rejects": str(rejects), "intents": str(intents), "cycle_id": cycle_id}
    details.update({f"code.{code}": str(n) for code, n in sorted(by_code.items())})
    return Alert(
        AlertKind.RISK_REJECT_SPIKE,
        Severity.WARNING,
        f"risk engine denied {rejects} of {intents} intents",
        details,
        f"risk_reject_spike:{cycle_id}",
        at,
    )


def balance_drift(asset: str, ledger: Decimal, exchange: Decimal, at: datetime) -> Alert:
    drift = exchange - ledger
    return Alert(
        AlertKind.BALANCE_DRIFT,
        Severity.CRITICAL,
        # The first drifting cycle alerts; REDUCING follows only if the drift is still there next cycle.
        f"{asset}: exchange balance differs from the ledger by {drift}; REDUCING if it persists",
        {"asset": asset, "ledger": str(ledger), "exchange": str(exchange), "drift": str(drift)},
        f"balance_drift:{asset}:{drift}",
        at,
    )


_STATE_SEVERITY = {
    TradingState.ACTIVE: Severity.INFO,
    TradingState.REDUCING: Severity.WARNING,
    TradingState.HALTED: Severity.CRITICAL,
}


def trading_state_change(old: TradingState, new: TradingState, reason: str, at: datetime) -> Alert:
    old, new = TradingState(old), TradingState(new)
    return Alert(
        AlertKind.TRADING_STATE_CHANGE,
        _STATE_SEVERITY[new],
        f"trading state {old.value} -> {new.value}: {reason}",
        {"from": old.value, "to": new.value, "reason": reason},
        f"trading_state_change:{old.value}->{new.value}:{at.isoformat()}",
        at,
    )


def lease_lost(owner: str, fencing_token: int, at: datetime) -> Alert:
    return Alert(
        AlertKind.LEASE_LOST,
        Severity.CRITICAL,
        "instance lease lost during a cycle; the cycle stopped without committing",
        {"owner": owner, "fence": str(fencing_token)},
        f"lease_lost:{fencing_token}",
        at,
    )


def invariant_violation(invariant: str, message: str, cycle_id: str, at: datetime) -> Alert:
    return Alert(
        AlertKind.INVARIANT_VIOLATION,
        Severity.CRITICAL,
        f"invariant {invariant} violated; trading HALTED",
        {"invariant": invariant, "message": message, "cycle_id": cycle_id},
        f"invariant_violation:{invariant}:{cycle_id}",
        at,
    )


def risk_rearm(old_high_water: Decimal, new_high_water: Decimal, reason: str, at: datetime) -> Alert:
    """An operator re-armed the drawdown de-risking (``btcbot risk rearm``)."""
    return Alert(
        AlertKind.RISK_REARM,
        Severity.WARNING,
        f"drawdown re-armed by an operator: high-water mark {old_high_water} -> {new_high_water}: {reason}",
        {"old_high_water": str(old_high_water), "new_high_water": str(new_high_water), "reason": reason},
        f"risk_rearm:{at.isoformat()}",
        at,
    )


def cost_basis_unknown(symbol: str, trade_id: int, quantity: Decimal, price: Decimal, at: datetime) -> Alert:
    """A sell of more than the recorded position: the excess was booked at zero profit."""
    return Alert(
        AlertKind.COST_BASIS_UNKNOWN,
        Severity.WARNING,
        f"{symbol}: trade {trade_id} sold {quantity} more than the recorded position; "
        "that part has no known cost and was booked at zero profit",
        {"symbol": symbol, "trade_id": str(trade_id), "quantity": str(quantity), "price": str(price)},
        f"cost_basis_unknown:{trade_id}",
        at,
    )


def database_outage(elapsed_s: float, error: str, since: datetime, at: datetime) -> Alert:
    """``btcbot run`` cannot reach its database; sent directly (the outbox is in that database)."""
    return Alert(
        AlertKind.DATABASE_OUTAGE,
        Severity.CRITICAL,
        f"database unreachable for {elapsed_s:.0f} s; no cycle runs (nothing is sent) until it answers",
        {"elapsed_s": f"{elapsed_s:.0f}", "error": error, "since": since.isoformat()},
        f"database_outage:{since.isoformat()}",
        at,
    )


def database_recovered(outage_s: float, since: datetime, at: datetime) -> Alert:
    """The database answers again after an outage; the run loop resumed."""
    return Alert(
        AlertKind.DATABASE_OUTAGE,
        Severity.INFO,
        f"database answers again after {outage_s:.0f} s; cycles resumed",
        {"outage_s": f"{outage_s:.0f}", "since": since.isoformat()},
        f"database_recovered:{since.isoformat()}",
        at,
    )
