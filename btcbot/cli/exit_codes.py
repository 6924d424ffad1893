"""Process exit codes, decided in one place (ARCHITECTURE.md section 7; listed in --help and README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Success."""
    ERROR = 1
    """Unexpected error; state stays consistent (every step boundary is a transaction)."""
    CONFIG = 2
    """Usage or configuration error; nothing was written."""
    SAFE_MODE = 3
    """The cycle ran in safe mode (degraded exchange or stale data)."""
    DATABASE_UNAVAILABLE = 4
    """``btcbot run``: the database stayed unreachable longer than ``database.outage_limit_s``;
    nothing was sent meanwhile."""
    LEASE_HELD = 75
    """Another instance holds the lease; nothing was changed."""


EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 unexpected error (state stays consistent); "
    "2 usage or configuration error; 3 cycle ran in safe mode (degraded exchange or stale data); "
    "4 database unreachable longer than database.outage_limit_s (run); "
    "75 another instance holds the lease."
)
