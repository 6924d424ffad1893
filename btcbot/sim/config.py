"""SimConfig: everything needed to start a simulator (engine, clock, auth, server, limits)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from btcbot.sim.clock import MANUAL, WALL
from btcbot.sim.engine.candles import Bar
from btcbot.sim.engine.config import DEFAULT_SYMBOLS, EngineConfig

#: A fixed, valid base64 secret (32 bytes) so tests and demos sign without any setup.
DEFAULT_API_SECRET = "YnRjYm90LXNpbXVsYXRvci1maXhlZC1zZWNyZXQtMDE="  # noqa: S105 - public demo secret
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SimConfig:
    """Simulator settings. ``clock_mode`` "manual" moves only via ``/__sim/advance``; "wall" runs at ``speed``."""

    seed: int = 1
    api_key: str = "sim-key"
    api_secret: str = field(default=DEFAULT_API_SECRET, repr=False)
    balances: Mapping[str, Decimal] = field(default_factory=lambda: {"TRY": Decimal("100000")})
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    clock_mode: str = MANUAL
    speed: float = 1.0
    cancel_delay_s: float = 1.0
    start_time: datetime = DEFAULT_START
    host: str = "127.0.0.1"
    port: int = 0
    tick_seconds: float = 10.0
    book_depth: int = 20
    maker_fee_rate: Decimal = Decimal("0.0010")
    taker_fee_rate: Decimal = Decimal("0.0020")
    tax_rate: Decimal = Decimal("0.20")
    history_minutes: int = 2880
    #: Enforce the published per-endpoint limits (§7), counted in market time.
    rate_limits: bool = True
    #: Accepted |X-Stamp - now| in seconds.
    stamp_window_s: float = 5.0
    #: Which time X-Stamp is checked against: "sim", "wall" or "either"; "auto" = sim in manual
    #: mode, either in wall mode (a real client's clock cannot follow a sped-up market clock).
    auth_clock: str = "auto"
    request_log_size: int = 2000
    #: Replayed 1m bars per symbol (instead of the seeded random walk for those symbols).
    replay: Mapping[str, Sequence[Bar]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.clock_mode not in (MANUAL, WALL):
            raise ValueError(f"clock_mode must be {MANUAL!r} or {WALL!r}")
        if self.auth_clock not in ("auto", "sim", "wall", "either"):
            raise ValueError("auth_clock must be auto, sim, wall or either")
        if self.start_time.tzinfo is None:
            raise ValueError("start_time must be timezone-aware")
        try:
            base64.b64decode(self.api_secret, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("api_secret must be valid base64") from None

    def engine_config(self) -> EngineConfig:
        """The pure engine's part of this configuration."""
        return EngineConfig(
            seed=self.seed,
            symbols=self.symbols,
            balances=dict(self.balances),
            tick_seconds=self.tick_seconds,
            book_depth=self.book_depth,
            maker_fee_rate=self.maker_fee_rate,
            taker_fee_rate=self.taker_fee_rate,
            tax_rate=self.tax_rate,
            cancel_delay_s=self.cancel_delay_s,
            history_minutes=self.history_minutes,
            replay=dict(self.replay),
        )

    @property
    def effective_auth_clock(self) -> str:
        if self.auth_clock != "auto":
            return self.auth_clock
        return "sim" if self.clock_mode == MANUAL else "either"
