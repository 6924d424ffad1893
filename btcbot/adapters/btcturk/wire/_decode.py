"""Body decoding, envelope unwrapping and validation, all failing as MalformedPayload.

Nothing here echoes payload values into error text: a payload could in theory reflect request
headers, and field names plus a short problem are enough to debug an API change.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

from loguru import logger
from pydantic import BaseModel, ValidationError

from btcbot.adapters.btcturk.wire._types import WireBool, WireCode, WireModel
from btcbot.domain.errors import MalformedPayload

M = TypeVar("M", bound=BaseModel)


class Envelope(WireModel):
    """``{"success", "message", "code", "data"}``; ``data`` is checked by the endpoint's model."""

    success: WireBool
    message: str | None = None
    code: WireCode = None
    data: Any = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


#: Built once (json.loads with keyword arguments builds a decoder, and its scanner, per call).
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def decode_json(endpoint: str, body: bytes) -> Any:
    """Bytes -> JSON value with every non-integer number as an exact Decimal."""
    head = body[:64].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<")):
        raise MalformedPayload(endpoint, "<body>", "HTML page instead of JSON")
    if not body.strip():
        raise MalformedPayload(endpoint, "<body>", "empty body")
    try:
        # json.loads(body, parse_float=Decimal, parse_constant=...) without building a decoder
        # per call: the same bytes -> str step (detect_encoding, surrogatepass), then decode.
        return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (ValueError, RecursionError):
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
        raise MalformedPayload(endpoint, "<body>", "not valid JSON") from None


def problem_of(exc: ValidationError) -> tuple[str, str]:
    """(dotted field location, message) of the first validation error, without input values."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in first["loc"]) or "<root>"
    return loc, str(first["msg"])


def validate(endpoint: str, model: type[M], data: Any, *, prefix: str = "") -> M:
    """``model.model_validate(data)`` with errors translated to MalformedPayload."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        loc, msg = problem_of(exc)
        raise MalformedPayload(endpoint, f"{prefix}{loc}", msg) from None


def validate_rows(endpoint: str, model: type[M], rows: Any, *, prefix: str, allow_none: bool = False) -> list[M]:
    """Validate a list row by row; a malformed row is skipped (and logged) unless every row is
    (then the first error is raised, unless ``allow_none``: then the result is empty).

    Used where the venue lists hundreds of pairs we do not trade (tickers, exchangeinfo): one odd
    pair must not blind the bot. A missing row for one of OUR symbols is caught by the caller.
    """
    if not isinstance(rows, list):
        raise MalformedPayload(endpoint, prefix.rstrip(".") or "<root>", "expected a list")
    parsed: list[M] = []
    errors: list[MalformedPayload] = []
    for i, row in enumerate(rows):
        try:
            parsed.append(validate(endpoint, model, row, prefix=f"{prefix}{i}."))
        except MalformedPayload as exc:
            errors.append(exc)
    if errors and not parsed and not allow_none:
        raise errors[0]
    if errors:
        logger.warning(
            "{}: skipped {} malformed row(s); first: {} ({})", endpoint, len(errors), errors[0].field, errors[0].problem
        )
    return parsed


def envelope(endpoint: str, doc: Any) -> Envelope:
    """Validate the envelope shape (success must be present)."""
    return validate(endpoint, Envelope, doc)


def unwrap(endpoint: str, doc: Any) -> Any:
    """The ``data`` member of a successful envelope (errors are classified before this runs)."""
    env = envelope(endpoint, doc)
    if not env.success:
        raise MalformedPayload(endpoint, "success", "false on a response treated as success")
    return env.data
