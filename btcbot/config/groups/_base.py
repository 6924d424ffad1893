"""Common base for settings groups: frozen, unknown keys forbidden, every number finite and sane.

The one numeric guard (issue 11, item 6) lives here, so every group and every future field gets
it: a ``before`` validator on all fields that, for a field whose type holds a number (``int``,
``float``, ``Decimal``, also inside ``dict``/``tuple``/``Optional``), rejects ``inf``, ``nan``,
literals that overflow a float (``1e309``) and magnitudes no setting can sensibly have, with one
line naming the setting. It runs before pydantic's own parsing and bounds, so the message is the
same for every field, whatever its other constraints.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

#: No setting is larger than this in absolute value (1e15 quote units or seconds is absurd).
MAX_MAGNITUDE = Decimal("1e15")
#: ... nor a non-zero number smaller than this (a typo such as 1e-300, never a sane fraction).
MIN_MAGNITUDE = Decimal("1e-12")

_NUMERIC = (int, float, Decimal)


def holds_number(annotation: Any) -> bool:
    """True when ``annotation`` is, or contains (Optional, dict values, tuple items), a number type."""
    if annotation is bool:
        return False
    if isinstance(annotation, type) and issubclass(annotation, _NUMERIC) and not issubclass(annotation, bool):
        return True
    if get_origin(annotation) is None:
        return False
    return any(holds_number(arg) for arg in get_args(annotation) if arg is not Ellipsis)


def number_problem(value: object) -> str | None:
    """Why ``value`` is not an acceptable number, or None (also None for what is not a number at
    all: pydantic's type check names that)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((p for p in (number_problem(v) for v in value) if p), None)
    if isinstance(value, dict):
        return next((p for p in (number_problem(v) for v in value.values()) if p), None)
    if not isinstance(value, (int, float, Decimal, str)):
        return None
    text = str(value).strip()
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if len(text) > 24:
        text = text[:20] + "..."
    if not number.is_finite():
        return f"must be a finite number, got {text!r}"
    if abs(number) > MAX_MAGNITUDE:
        return f"absurd magnitude {text!r}: must lie within +-{MAX_MAGNITUDE:.0e}"
    if number != 0 and abs(number) < MIN_MAGNITUDE:
        return f"absurd magnitude {text!r}: a non-zero value must be at least {MIN_MAGNITUDE:.0e}"
    return None


@cache
def _numeric_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, info in model.model_fields.items() if holds_number(info.annotation))


class Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _finite_and_sane(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is not None and info.field_name in _numeric_fields(cls):
            problem = number_problem(value)
            if problem is not None:
                raise ValueError(problem)
        return value
