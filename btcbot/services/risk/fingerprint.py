"""A stable fingerprint of the risk and capital settings.

Risk limits cannot change while the bot runs: the runner records the fingerprint at start and
compares it with the fingerprint of freshly loaded settings (e.g. each cycle or on SIGHUP); a
difference means "restart required". The hash covers exactly the ``risk`` and ``capital``
groups, is independent of key order, and treats equal numbers as equal (``0.10`` == ``0.1``).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Protocol


class _Dumpable(Protocol):
    """A settings group (a pydantic model; duck-typed so services do not import pydantic)."""

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


class _HasRiskGroups(Protocol):
    @property
    def risk(self) -> _Dumpable: ...

    @property
    def capital(self) -> _Dumpable: ...


def _canonical(value: object) -> object:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _canonical(dump(mode="python"))
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return "D:" + format(value.normalize(), "f") if value.is_finite() else "D:" + str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return "D:" + format(Decimal(str(value)).normalize(), "f")
    return repr(value)


def risk_settings_fingerprint(settings: _HasRiskGroups) -> str:
    """``sha256:<hex>`` over the canonical JSON of ``settings.risk`` and ``settings.capital``."""
    payload = {"capital": _canonical(settings.capital), "risk": _canonical(settings.risk)}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
