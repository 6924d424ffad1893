"""Moved to :mod:`btcbot.contracts.records` (values the persistence port returns).

Kept as a re-export so that older imports keep working; new code imports the contract.
"""

from btcbot.contracts.records import (
    BreakerRecord,
    CycleRecord,
    LedgerEntry,
    OutboxItem,
    OutboxStatus,
    TradingStateRecord,
)

__all__ = ["BreakerRecord", "CycleRecord", "LedgerEntry", "OutboxItem", "OutboxStatus", "TradingStateRecord"]
