"""Tunable parameters: how a strategy declares them, and the candidates a search tries.

A strategy declares its tunable parameters with an optional class attribute::

    class MyStrategy:
        tunable = {"fast_period": IntRange(4, 24, 4), "slow_period": IntRange(24, 96, 24)}

Each name is a field of the strategy's ``params`` dataclass; a candidate is built as
``type(strategy)(strategy_id=..., params=dataclasses.replace(strategy.params, **values))``, so the
strategy's own validation applies (a candidate it refuses, e.g. ``fast >= slow``, is skipped).
Strategies without the attribute still work everywhere; for the built-in ``trend`` and
``ema_cross`` the declaration lives here (``BUILTIN_TUNABLES``) until they carry their own.
``--param name=low:high:step`` or ``--param name=a,b,c`` overrides or adds a range.

Candidates are ordered: grid = the cartesian product in name order; random = ``samples`` distinct
draws from that grid with ``random.Random(seed)`` (the whole grid when it is smaller).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from btcbot.contracts.strategy import Strategy
from btcbot.strategies.registry import load_strategy

ParamValue = int | Decimal | str
Candidate = tuple[tuple[str, ParamValue], ...]
MAX_GRID = 100_000


@dataclass(frozen=True, slots=True)
class IntRange:
    low: int
    high: int
    step: int = 1

    def values(self) -> tuple[ParamValue, ...]:
        if self.step <= 0 or self.high < self.low:
            raise ValueError(f"bad integer range {self.low}:{self.high}:{self.step}")
        return tuple(range(self.low, self.high + 1, self.step))


@dataclass(frozen=True, slots=True)
class DecimalRange:
    low: Decimal
    high: Decimal
    step: Decimal

    def values(self) -> tuple[ParamValue, ...]:
        if self.step <= 0 or self.high < self.low:
            raise ValueError(f"bad decimal range {self.low}:{self.high}:{self.step}")
        count = int((self.high - self.low) / self.step) + 1
        return tuple(self.low + self.step * i for i in range(count))


@dataclass(frozen=True, slots=True)
class Choice:
    options: tuple[ParamValue, ...]

    def values(self) -> tuple[ParamValue, ...]:
        if not self.options:
            raise ValueError("a choice needs at least one value")
        return self.options


ParamSpec = IntRange | DecimalRange | Choice

BUILTIN_TUNABLES: dict[str, dict[str, ParamSpec]] = {
    "trend": {"fast_period": IntRange(6, 24, 6), "slow_period": IntRange(24, 96, 24)},
    "ema_cross": {"fast_period": IntRange(6, 18, 3), "slow_period": IntRange(20, 40, 5)},
}


def _number(text: str) -> int | Decimal:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise ValueError(f"{text!r} is not a finite number") from None
        return value


def parse_param(text: str) -> tuple[str, ParamSpec]:
    """``name=low:high:step`` (integers or decimals) or ``name=a,b,c``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not spec.strip():
        raise ValueError(f"{text!r}: expected NAME=LOW:HIGH:STEP or NAME=A,B,C")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(f"{text!r}: a range is LOW:HIGH:STEP")
        low, high, step = (_number(p) for p in parts)
        if all(isinstance(v, int) for v in (low, high, step)):
            rng: ParamSpec = IntRange(int(low), int(high), int(step))
        else:
            rng = DecimalRange(Decimal(low), Decimal(high), Decimal(step))
        rng.values()
        return name, rng
    options: list[ParamValue] = []
    for part in spec.split(","):
        try:
            options.append(_number(part))
        except ValueError:
            options.append(part.strip())
    return name, Choice(tuple(options))


def declared_tunables(name: str, strategy: Strategy) -> dict[str, ParamSpec]:
    """The strategy class's ``tunable`` attribute, else the built-in declaration (may be empty)."""
    declared = getattr(type(strategy), "tunable", None)
    if isinstance(declared, Mapping):
        return dict(declared)
    return dict(BUILTIN_TUNABLES.get(name.strip().lower(), {}))


def grid_size(specs: Mapping[str, ParamSpec]) -> int:
    size = 1
    for spec in specs.values():
        size *= len(spec.values())
    return size


def candidates(specs: Mapping[str, ParamSpec], search: str = "grid", samples: int = 0,
               seed: int = 0) -> list[Candidate]:
    """Grid: every combination (name order). Random: ``samples`` distinct grid points for ``seed``."""
    names = sorted(specs)
    size = grid_size(specs)
    if size > MAX_GRID and search == "grid":
        raise ValueError(f"the grid has {size} points (over {MAX_GRID}): narrow the ranges or use --search random")
    axes = [specs[n].values() for n in names]
    if search == "grid":
        return [tuple(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    if search != "random":
        raise ValueError(f"unknown search {search!r}: use grid or random")
    if samples < 1:
        raise ValueError("--samples must be >= 1 for a random search")
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    picks = list(range(size)) if samples >= size else sorted(rng.sample(range(size), samples))
    out: list[Candidate] = []
    for flat in picks:
        combo: list[ParamValue] = []
        for axis in reversed(axes):
            flat, index = divmod(flat, len(axis))
            combo.append(axis[index])
        out.append(tuple(zip(names, reversed(combo), strict=True)))
    return out


def build_strategy(name: str, strategy_id: str, values: Sequence[tuple[str, ParamValue]] = ()) -> Strategy:
    """The named strategy with ``values`` applied to its ``params`` dataclass.

    Raises ValueError when the strategy has no ``params`` dataclass to tune, names an unknown
    parameter, or refuses the combination (its own validation).
    """
    strategy = load_strategy(name, strategy_id)
    if not values:
        return strategy
    params = getattr(strategy, "params", None)
    if params is None or not dataclasses.is_dataclass(params) or isinstance(params, type):
        raise ValueError(f"strategy {name!r} has no params dataclass to tune")
    known = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(k for k, _ in values if k not in known)
    if unknown:
        raise ValueError(f"strategy {name!r} has no parameter {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    tuned = dataclasses.replace(params, **dict(values))
    built = type(strategy)(strategy_id=strategy_id, params=tuned)  # type: ignore[call-arg]
    assert isinstance(built, Strategy)
    return built


def describe(candidate: Candidate) -> str:
    return " ".join(f"{k}={v}" for k, v in candidate) or "(defaults)"
