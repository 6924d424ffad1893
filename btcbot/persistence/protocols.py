"""Moved to :mod:`btcbot.contracts.persistence` (the port belongs with the other ports).

Kept as a re-export so that older imports keep working; new code imports the contract.
"""

from btcbot.contracts.persistence import (
    NON_TERMINAL_STATES,
    BreakerRepository,
    CycleRepository,
    FillRepository,
    JournalRepository,
    LedgerRepository,
    MetaRepository,
    OrderRepository,
    OutboxRepository,
    SnapshotRepository,
    TradingStateRepository,
    UnitOfWork,
)

__all__ = [
    "NON_TERMINAL_STATES",
    "BreakerRepository",
    "CycleRepository",
    "FillRepository",
    "JournalRepository",
    "LedgerRepository",
    "MetaRepository",
    "OrderRepository",
    "OutboxRepository",
    "SnapshotRepository",
    "TradingStateRepository",
    "UnitOfWork",
]
