"""Small synthetic walk-forward searches, so every research test runs in seconds of CPU."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from btcbot.config.settings import Settings, load_settings
from btcbot.research.params import IntRange
from btcbot.research.search import OptimizeConfig


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return load_settings(env_file=empty, environ={}).settings


def small_config(settings: Settings, **changes: object) -> OptimizeConfig:
    """trend on 1h synthetic bars: 3 windows (train 4 days, test 2 days), 4 candidates."""
    base: dict[str, object] = {
        "strategy": "trend",
        "settings": settings,
        "specs": {"fast_period": IntRange(4, 6, 2), "slow_period": IntRange(12, 24, 12)},
        "start": datetime(2025, 1, 1, tzinfo=UTC),
        "end": datetime(2025, 1, 11, tzinfo=UTC),
        "train": timedelta(days=4),
        "test": timedelta(days=2),
        "interval_s": 3600,
        "search": "random",
        "samples": 3,
        "seed": 7,
        "objective": "total_return",
        "data_kind": "synthetic",
        "data_seed": 3,
    }
    base.update(changes)
    return OptimizeConfig(**base)  # type: ignore[arg-type]
