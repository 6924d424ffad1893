"""What the runner does with each error class: one table, nothing else decides.

| error                 | action                                                          |
|-----------------------|-----------------------------------------------------------------|
| ConfigError           | EXIT_CONFIG  - exit 2 before anything is written               |
| LeaseHeld             | EXIT_LEASE   - exit 75, nothing changed                         |
| LeaseLost             | HALT_PROCESS - stop at once; another process owns the database |
| AuthError             | HALT         - trading HALTED, alert, never retried in a loop  |
|   (StampRejected)     |   a 401 blaming the stamp never gets here on its own: the      |
|                       |   client resyncs the server time and retries reads/cancels     |
|                       |   once (an order POST becomes UNKNOWN instead); only a 401 that|
|                       |   repeats after the resync, or one naming the key, signature   |
|                       |   or permission, reaches the runner as AuthError -> HALT       |
| InvariantViolation    | HALT         - trading HALTED, alert                           |
| MaintenanceError      | SAFE_MODE    - breaker open; no entries, exits allowed         |
| CircuitOpen           | SAFE_MODE                                                       |
| TransientError        | SAFE_MODE    - this cycle degraded; next cycle tries again     |
| MalformedPayload      | SAFE_MODE                                                       |
| ExchangeRejected      | RECORD       - order REJECTED with the exchange's name/code    |
| AmbiguousOutcome      | RECORD       - order UNKNOWN, resolved later by lookup         |
| anything else         | CRASH        - exit 1; state stays consistent (transactions)   |
"""

from __future__ import annotations

from enum import StrEnum

from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    CircuitOpen,
    ConfigError,
    ExchangeRejected,
    InvariantViolation,
    LeaseHeld,
    LeaseLost,
    MaintenanceError,
    MalformedPayload,
    TransientError,
)


class Action(StrEnum):
    EXIT_CONFIG = "exit_config"
    EXIT_LEASE = "exit_lease"
    HALT_PROCESS = "halt_process"
    HALT = "halt"
    SAFE_MODE = "safe_mode"
    RECORD = "record"
    CRASH = "crash"


#: Checked in order: the first matching class wins (subclasses before their bases).
POLICY: tuple[tuple[type[BaseException], Action], ...] = (
    (ConfigError, Action.EXIT_CONFIG),
    (LeaseHeld, Action.EXIT_LEASE),
    (LeaseLost, Action.HALT_PROCESS),
    (AuthError, Action.HALT),
    (InvariantViolation, Action.HALT),
    (MaintenanceError, Action.SAFE_MODE),
    (CircuitOpen, Action.SAFE_MODE),
    (MalformedPayload, Action.SAFE_MODE),
    (TransientError, Action.SAFE_MODE),
    (ExchangeRejected, Action.RECORD),
    (AmbiguousOutcome, Action.RECORD),
)


def action_for(error: BaseException) -> Action:
    for cls, action in POLICY:
        if isinstance(error, cls):
            return action
    return Action.CRASH
