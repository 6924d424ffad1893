"""Engine parameters (pure values; the HTTP layer and the paper exchange build one of these)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from btcbot.sim.engine.candles import Bar

DEFAULT_SYMBOLS: tuple[str, ...] = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything that shapes the simulated market and account."""

    seed: int = 1
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    balances: Mapping[str, Decimal] = field(default_factory=lambda: {"TRY": Decimal("100000")})
    #: Market seconds between two steps of the price path.
    tick_seconds: float = 10.0
    book_depth: int = 20
    maker_fee_rate: Decimal = Decimal("0.0010")
    taker_fee_rate: Decimal = Decimal("0.0020")
    #: Tax charged on the fee (BSMV-like), as a fraction of the fee.
    tax_rate: Decimal = Decimal("0.20")
    cancel_delay_s: float = 1.0
    #: Minutes of 1m history generated before the start time (for indicator warm-up): 146 hours,
    #: so the default strategy (``trend``: 144 closed hourly bars) decides on a bot's first cycle.
    history_minutes: int = 146 * 60
    #: Market-order protection band around the best opposite price at submission.
    market_band: Decimal = Decimal("0.05")
    #: Optional replayed 1m bars per symbol; symbols not listed use the random walk.
    replay: Mapping[str, Sequence[Bar]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tick_seconds <= 0:
            raise ValueError("tick_seconds must be > 0")
        if self.cancel_delay_s < 0:
            raise ValueError("cancel_delay_s must be >= 0")
        if self.book_depth < 1:
            raise ValueError("book_depth must be >= 1")
