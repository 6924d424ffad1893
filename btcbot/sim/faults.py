"""Fault injection for the simulator's HTTP facade, per route, seeded.

A fault is a ``FaultSpec`` attached to a route pattern. Patterns are matched case-insensitively
with ``fnmatch`` against ``"<METHOD> <route template>"`` (e.g. ``"POST /api/v1/order"``,
``"GET /api/v1/order/{id}"``, ``"GET /api/v2/*"``) and also against the bare template
(``"/api/v1/order"`` = any method) or ``"*"`` (every non-admin route).

Kinds:
- ``latency``: sleep ``seconds`` (real time) before handling.
- ``timeout``: handle the request if ``process`` (default true), then hang ``seconds`` (real time,
  bounded by ``MAX_HANG_S``) and close the connection without a response.
- ``error``: answer ``status`` (500/502/503/504) without handling.
- ``rate_limit``: answer 429 with ``Retry-After: seconds`` without handling.
- ``maintenance``: answer ``message`` (``SYSTEM_UNDER_MAINTENANCE`` -> 503, ``ORDER_INSERT_BLOCKED`` /
  ``ORDER_CANCEL_BLOCKED`` -> 400) without handling.
- ``ghost``: handle the request (the order IS placed), then close the connection with no response.
- ``visibility_delay``: a new order stays out of openOrders/allOrders for ``seconds`` market seconds.
- ``stale_ticker``: ticker/orderbook timestamps lag market time by ``seconds``.
- ``mutate``: handle the request (it TAKES EFFECT), then answer with reply class ``reply`` instead
  of the real answer: one class, a group, ``random`` or a ``|``-separated list (see
  ``btcbot.sim.mutation``); classes that do not fit the route are never drawn for it. ``seconds``
  is the hang of the ``timeout`` class (0 = 12 s); ``field`` names the member ``field_removed`` /
  ``field_null`` change in every row (default: one random member of one random row).

Each fault fires with ``probability`` and, if ``count`` is set, only for the next ``count``
matching calls (then it is removed). The draws (probability, and the reply class of ``mutate``)
come from the registry's RNG, seeded with the simulator's seed, or from the fault's own
``random.Random(seed)`` when the fault has a ``seed``.
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from btcbot.sim.mutation import RANDOM, applicable, parse_replies

KINDS = frozenset(
    {"latency", "timeout", "error", "rate_limit", "maintenance", "ghost", "visibility_delay", "stale_ticker",
     "mutate"}
)
MAINTENANCE_MESSAGES = frozenset({"SYSTEM_UNDER_MAINTENANCE", "ORDER_INSERT_BLOCKED", "ORDER_CANCEL_BLOCKED"})
#: Upper bound of any real-time sleep a fault may cause (keeps tests and shutdown bounded).
MAX_HANG_S = 30.0


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault; see the module docstring for the meaning of each field per kind."""

    kind: str
    probability: float = 1.0
    count: int | None = None
    seconds: float = 0.0
    status: int = 503
    message: str = "SYSTEM_UNDER_MAINTENANCE"
    process: bool = True
    reply: str = RANDOM
    seed: int | None = None
    field: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(KINDS)}")
        if not (math.isfinite(self.probability) and 0.0 <= self.probability <= 1.0):
            raise ValueError("probability must be within [0, 1]")
        if self.count is not None and not 1 <= self.count <= 1_000_000_000:
            raise ValueError("count must be within [1, 1e9] when given")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status")
        if not (math.isfinite(self.seconds) and 0.0 <= self.seconds <= 86_400):
            raise ValueError("seconds must be within [0, 86400]")
        if self.kind == "mutate":
            object.__setattr__(self, "reply", "|".join(parse_replies(self.reply)))
        if self.field is not None and not (isinstance(self.field, str) and 0 < len(self.field) <= 64):
            raise ValueError("field must be a member name of 1..64 characters")
        if self.kind == "error" and self.status not in (500, 502, 503, 504):
            raise ValueError("error status must be one of 500, 502, 503, 504")
        if self.kind == "maintenance" and self.message not in MAINTENANCE_MESSAGES:
            raise ValueError(f"maintenance message must be one of {sorted(MAINTENANCE_MESSAGES)}")
        if self.kind in ("latency", "timeout", "mutate") and self.seconds > MAX_HANG_S:
            raise ValueError(f"{self.kind} seconds must be <= {MAX_HANG_S}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultSpec:
        """Build from JSON-ish data (admin route); unknown keys are an error."""
        allowed = {"kind", "probability", "count", "seconds", "status", "message", "process", "reply", "seed",
                   "field"}
        extra = set(data) - allowed
        if extra:
            raise ValueError(f"unknown fault fields: {sorted(extra)}")
        values = dict(data)
        try:
            for name in ("probability", "seconds"):
                if name in values:
                    values[name] = float(values[name])
            for name in ("count", "status", "seed"):
                if values.get(name) is not None:
                    values[name] = _integer(values[name])
            if "process" in values and not isinstance(values["process"], bool):
                raise ValueError
            if "reply" in values and isinstance(values["reply"], list):
                values["reply"] = "|".join(str(v) for v in values["reply"])
        except (TypeError, ValueError, OverflowError, InvalidOperation):
            raise ValueError(
                "probability/seconds must be finite numbers, count/status/seed integers, process a boolean"
            ) from None
        return cls(**values)


#: Bounds of the integer fields (an absurd count or seed is refused, not stored).
_INT_LIMIT = 2**63


def _integer(value: Any) -> int:
    """An integral JSON/CLI value (int, integral decimal or float, digit string) within +-2**63."""
    if isinstance(value, bool):
        raise ValueError
    number = int(value) if isinstance(value, int) else Decimal(str(value).strip())
    if isinstance(number, Decimal) and (not number.is_finite() or number != number.to_integral_value()):
        raise ValueError
    result = int(number)
    if not -_INT_LIMIT < result < _INT_LIMIT:
        raise ValueError
    return result


@dataclass(slots=True)
class _Entry:
    route: str
    spec: FaultSpec
    remaining: int | None
    rng: random.Random


class FaultRegistry:
    """Thread-safe set of active faults with a seeded RNG for probabilities."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:faults")  # noqa: S311 - seeded faults
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()

    def add(self, route: str, spec: FaultSpec) -> None:
        with self._lock:
            rng = self._rng if spec.seed is None else random.Random(f"{spec.seed}:fault")  # noqa: S311
            self._entries.append(_Entry(route.strip().lower(), spec, spec.count, rng))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def remove_kind(self, kind: str) -> int:
        """Remove every fault of ``kind``; returns how many were removed."""
        with self._lock:
            before = len(self._entries)
            self._entries = [e for e in self._entries if e.spec.kind != kind]
            return before - len(self._entries)

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"route": e.route, "remaining": e.remaining, **asdict(e.spec)} for e in self._entries]

    def fire(self, method: str, template: str) -> list[FaultSpec]:
        """Faults that fire for this call (consuming ``count``); in registration order. A fired
        ``mutate`` fault carries the one reply class drawn for this call in ``reply``."""
        key = f"{method.upper()} {template}".lower()
        bare = template.lower()
        fired: list[FaultSpec] = []
        with self._lock:
            for entry in list(self._entries):
                if not (fnmatch.fnmatchcase(key, entry.route) or fnmatch.fnmatchcase(bare, entry.route)):
                    continue
                choices: tuple[str, ...] = ()
                if entry.spec.kind == "mutate":
                    choices = applicable(method, template, entry.spec.reply.split("|"))
                    if not choices:
                        continue  # no class of this fault fits the route
                if entry.spec.probability < 1.0 and entry.rng.random() >= entry.spec.probability:
                    continue
                if choices:
                    fired.append(replace(entry.spec, reply=entry.rng.choice(choices)))
                else:
                    fired.append(replace(entry.spec))
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._entries.remove(entry)
        return fired
