"""Parameter declarations, candidates and walk-forward windows (pure, no processes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from btcbot.research.params import (
    BUILTIN_TUNABLES,
    Choice,
    DecimalRange,
    IntRange,
    ParamSpec,
    build_strategy,
    candidates,
    declared_tunables,
    parse_param,
)
from btcbot.research.windows import walk_forward_windows

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_parse_param_forms() -> None:
    assert parse_param("fast_period=4:12:4") == ("fast_period", IntRange(4, 12, 4))
    assert parse_param("max_z=1.5:2.5:0.5") == ("max_z", DecimalRange(Decimal("1.5"), Decimal("2.5"), Decimal("0.5")))
    assert parse_param("slow_period=24,48") == ("slow_period", Choice((24, 48)))
    assert DecimalRange(Decimal("1.5"), Decimal("2.5"), Decimal("0.5")).values() == (Decimal("1.5"), Decimal("2.0"),
                                                                                    Decimal("2.5"))
    for bad in ("fast_period", "=1:2:1", "x=1:2", "x=3:1:1", "x=1:5:0", "x=a:b:c"):
        with pytest.raises(ValueError):
            parse_param(bad)


def test_grid_is_the_ordered_product_and_random_is_seeded() -> None:
    specs: dict[str, ParamSpec] = {"b": IntRange(1, 3, 1), "a": Choice(("x", "y"))}
    grid = candidates(specs)
    assert grid[:3] == [(("a", "x"), ("b", 1)), (("a", "x"), ("b", 2)), (("a", "x"), ("b", 3))] and len(grid) == 6
    first, again = candidates(specs, "random", 4, seed=5), candidates(specs, "random", 4, seed=5)
    assert first == again and len(set(first)) == 4 and set(first) <= set(grid)
    assert [c for c in grid if c in first] == first  # kept in grid order
    assert candidates(specs, "random", 50, seed=1) == grid  # more samples than points: the grid


def test_strategies_declare_or_get_builtin_tunables_and_build_with_values() -> None:
    trend = build_strategy("trend", "tst")
    assert declared_tunables("trend", trend) == BUILTIN_TUNABLES["trend"]
    tuned = build_strategy("trend", "tst", (("fast_period", 4), ("slow_period", 12)))
    assert (tuned.params.fast_period, tuned.params.slow_period) == (4, 12)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="fast_period < slow_period"):
        build_strategy("trend", "tst", (("fast_period", 24), ("slow_period", 12)))
    with pytest.raises(ValueError, match="no parameter nope"):
        build_strategy("trend", "tst", (("nope", 1),))

    class Declared:
        tunable = {"x": IntRange(1, 2, 1)}

    assert declared_tunables("whatever", Declared()) == {"x": IntRange(1, 2, 1)}  # type: ignore[arg-type]


def test_walk_forward_windows_roll_and_tile() -> None:
    windows = walk_forward_windows(T0, T0 + timedelta(days=10), timedelta(days=4), timedelta(days=2))
    assert [(w.train_start.day, w.train_end.day, w.test_start.day, w.test_end.day) for w in windows] == [
        (1, 5, 5, 7), (3, 7, 7, 9), (5, 9, 9, 11)]
    stepped = walk_forward_windows(T0, T0 + timedelta(days=10), timedelta(days=4), timedelta(days=2), timedelta(days=3))
    assert [w.test_start.day for w in stepped] == [5, 8]
    with pytest.raises(ValueError, match="no walk-forward window fits"):
        walk_forward_windows(T0, T0 + timedelta(days=5), timedelta(days=4), timedelta(days=2))
