"""trading: the universe, cadence and mode."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from btcbot.config.groups._base import Group
from btcbot.domain.symbols import parse_pair

UNIVERSE_SIZE = 5


def _split_symbols(value: object) -> object:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part for part in (p.strip() for p in text.split(",")) if part]
    return value


class TradingSettings(Group):
    symbols: Annotated[tuple[str, ...], BeforeValidator(_split_symbols)] = Field(
        ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY"),
        description="Exactly 5 distinct pairs sharing one quote asset (JSON list or comma-separated).",
    )
    dry_run: bool = Field(True, description="Paper trading (no private endpoint is called). Set false for live.")
    cycle_interval_s: float = Field(60.0, ge=1, le=86400, description="Seconds between cycle starts in `btcbot run`.")
    cycle_jitter_s: float = Field(2.0, ge=0, le=60, description="Random delay added to each cycle start.")
    strategy: str = Field("trend", description="Built-in strategy name or dotted path `package.module:Class`.")
    strategy_id: str = Field("s1", min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$", description="Short id put into every client order id.")
    candle_interval_s: int = Field(3600, ge=60, le=86400, description="Bar length the strategy uses (60, 300, 900, 1800, 3600, 14400, 86400).")
    unknown_grace_s: float = Field(120.0, ge=0, le=86400, description="How long an UNKNOWN order is looked for before it is declared NOT_PLACED.")
    cancel_entries_on_shutdown: bool = Field(False, description="Cancel open risk-increasing orders on SIGTERM.")

    @field_validator("symbols")
    @classmethod
    def _five_distinct_one_quote(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        pairs = [parse_pair(s) for s in value]
        names = [p.symbol for p in pairs]
        if len(names) != UNIVERSE_SIZE:
            raise ValueError(f"exactly {UNIVERSE_SIZE} symbols are required, got {len(names)}")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"symbols must be distinct; duplicated: {', '.join(duplicates)}")
        quotes = sorted({p.quote for p in pairs})
        if len(quotes) != 1:
            raise ValueError(f"all symbols must share one quote asset, got {', '.join(quotes)}")
        return tuple(names)

    @field_validator("candle_interval_s")
    @classmethod
    def _supported_interval(cls, value: int) -> int:
        if value not in (60, 300, 900, 1800, 3600, 14400, 86400):
            raise ValueError("candle_interval_s must be one of 60, 300, 900, 1800, 3600, 14400, 86400")
        return value

    @property
    def quote_asset(self) -> str:
        return parse_pair(self.symbols[0]).quote
