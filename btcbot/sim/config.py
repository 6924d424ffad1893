"""SimConfig: everything needed to start a simulator (engine, clock, auth, server, limits)."""

from __future__ import annotations

import base64
import binascii
import math
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
    history_minutes: int = 146 * 60  # the default strategy's 144 hourly bars + the forming hour
    #: Enforce the published per-endpoint limits (§7), counted in market time.
    rate_limits: bool = True
    #: Accepted |X-Stamp - now| in seconds.
    stamp_window_s: float = 5.0
    #: Which time X-Stamp is checked against: "sim" (the simulator's own market clock, as the
    #: venue checks against its own clock), "wall" or "either"; "auto" = "sim". "wall"/"either"
    #: exist only for tests that need a client which does not sync its time.
    auth_clock: str = "auto"
    request_log_size: int = 2000
    #: Seconds to wait for a request body that is shorter than its Content-Length (then 408).
    body_timeout_s: float = 10.0
    #: Replayed 1m bars per symbol (instead of the seeded random walk for those symbols).
    replay: Mapping[str, Sequence[Bar]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_ranges(self)
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
        return "sim" if self.auth_clock == "auto" else self.auth_clock


#: (low, high) inclusive bounds of the numeric settings; a value outside (or nan/inf) is refused.
_RANGES: dict[str, tuple[float, float]] = {
    "speed": (1e-6, 1e6),
    "cancel_delay_s": (0.0, 86_400.0),
    "tick_seconds": (0.001, 86_400.0),
    "stamp_window_s": (0.001, 864_000.0),
    "body_timeout_s": (0.01, 3_600.0),
    "maker_fee_rate": (0.0, 0.1),
    "taker_fee_rate": (0.0, 0.1),
    "tax_rate": (0.0, 1.0),
    "book_depth": (1, 1000),
    "history_minutes": (0, 60 * 24 * 366),
    "request_log_size": (1, 10_000_000),
}
#: Largest accepted starting balance of one asset.
MAX_BALANCE = Decimal("1e15")


def _check_ranges(config: SimConfig) -> None:
    for name, (low, high) in _RANGES.items():
        value = getattr(config, name)
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{name} must be a number, not {value!r}") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(f"{name} must be a finite number within [{low:g}, {high:g}], not {value!r}")
    for asset, amount in config.balances.items():
        if not isinstance(amount, Decimal) or not amount.is_finite() or not 0 <= amount <= MAX_BALANCE:
            raise ValueError(f"balance of {asset} must be a finite amount within [0, {MAX_BALANCE}], not {amount}")
