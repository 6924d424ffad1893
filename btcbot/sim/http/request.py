"""Transport-neutral request/response values used by the simulator's router."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

_WIRE_NUMBER = re.compile(r"^\d{0,12}(\.\d{1,16})?$")


class BadParam(Exception):
    """A parameter failed to parse; becomes a 400 envelope with ``message``/``code``."""

    def __init__(self, message: str, code: int = 1000) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request. ``query`` and ``headers`` keys are lower-case (ASP.NET binds case-insensitively)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_ip: str = "127.0.0.1"

    def arg(self, name: str) -> str | None:
        values = self.query.get(name.lower())
        return values[0] if values else None

    def args(self, name: str) -> list[str]:
        return self.query.get(name.lower(), [])

    def int_arg(self, name: str) -> int | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise BadParam(f"The value '{raw}' is not valid for {name}.") from None


@dataclass(slots=True)
class Response:
    """What to send. ``drop`` closes the connection without a response (after ``hang_s`` seconds);
    ``reset`` makes that close a TCP reset (RST) instead of an orderly shutdown; ``declared_length``
    announces a Content-Length larger than the payload, which is sent and then the connection is
    closed (a body cut short in transit)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    drop: bool = False
    hang_s: float = 0.0
    reset: bool = False
    declared_length: int | None = None

    def payload(self) -> bytes:
        """The bytes of the body as they go on the wire."""
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, separators=(",", ":")).encode()


def wire_decimal(value: Any, name: str) -> Decimal:
    """A number from a JSON body: a JSON number or a string matching the SWAGGER regex."""
    if isinstance(value, bool) or value is None:
        raise BadParam("FAILED_ORDER_PARAMETER")
    if isinstance(value, (int, Decimal)):
        result = Decimal(value)
    elif isinstance(value, str) and _WIRE_NUMBER.match(value.strip()) and value.strip() not in ("", "."):
        result = Decimal(value.strip())
    else:
        raise BadParam("FAILED_ORDER_PARAMETER")
    try:
        if result < 0:
            raise BadParam("FAILED_ORDER_PARAMETER")
    except InvalidOperation:
        raise BadParam("FAILED_ORDER_PARAMETER") from None
    return result
