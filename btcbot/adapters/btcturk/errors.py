"""Map BTC Turk answers and transport failures onto ``btcbot.domain.errors``.

The exchange's ``message`` decides first (codes were renumbered on 2024-05-06, names were not),
then its ``code``, then the HTTP status. Writes (POST/DELETE) get one extra rule: whenever the
request may have reached the venue and we cannot read a definitive answer (timeout, connection
error, 5xx, unparseable body) the result is AmbiguousOutcome, never a rejection.

| answer                                                     | read              | write            |
|------------------------------------------------------------|-------------------|------------------|
| message ``Unauthorized...`` / code 1037 / HTTP 401          | AuthError         | AuthError        |
| ``TOO_MANY_REQUESTS`` / code 429 / HTTP 429                 | RateLimited       | RateLimited      |
| SYSTEM_UNDER_MAINTENANCE, ORDER_INSERT/CANCEL_BLOCKED       | MaintenanceError  | MaintenanceError |
| ``Order not found`` (1152), NO_ORDER_MATCHES_YOUR_REQUEST (1052) | OrderNotFound | OrderNotFound  |
| HTTP 503 without a message above                            | MaintenanceError  | AmbiguousOutcome |
| other 5xx                                                   | TransientError    | AmbiguousOutcome |
| other 4xx with a readable body                              | ExchangeRejected  | ExchangeRejected |
| 2xx/4xx/5xx body that is not JSON (HTML, empty, junk)       | MalformedPayload  | AmbiguousOutcome |
| timeout, connection error, any requests exception           | TransientError    | AmbiguousOutcome |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from btcbot.adapters.btcturk.wire._decode import decode_json
from btcbot.adapters.btcturk.wire._types import to_bool, to_code
from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    ExchangeError,
    ExchangeRejected,
    MaintenanceError,
    MalformedPayload,
    OrderNotFound,
    RateLimited,
    TransientError,
)

#: Message names compared after removing case, underscores and spaces (SWAGGER uses camelCase).
MAINTENANCE_NAMES = frozenset({"SYSTEMUNDERMAINTENANCE", "ORDERINSERTBLOCKED", "ORDERCANCELBLOCKED"})
NOT_FOUND_NAMES = frozenset({"ORDERNOTFOUND", "NOORDERMATCHESYOURREQUEST"})
RATE_LIMIT_NAMES = frozenset({"TOOMANYREQUESTS"})
NOT_FOUND_CODES = frozenset({1152, 1052})
AUTH_CODES = frozenset({1037})
#: Used when a 429 carries neither a usable Retry-After header nor a "try again in N" hint.
DEFAULT_RETRY_AFTER_S = 1.0
_MAX_MESSAGE = 120
_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?) second", re.IGNORECASE)


def _key(message: str) -> str:
    return message.upper().replace("_", "").replace(" ", "")


def _clean(message: str) -> str:
    """Exchange error names are short identifiers; cap anything longer before it reaches logs."""
    text = " ".join(message.split())
    return text[:_MAX_MESSAGE]


def retry_after_s(headers: Mapping[str, str], doc: Any) -> float:
    """Seconds from the Retry-After header, else the body's "try again in N second(s)"."""
    raw = headers.get("Retry-After")
    if raw is not None:
        try:
            value = float(raw.strip())
        except ValueError:
            value = -1.0  # an HTTP-date; fall through to the body hint
        if value >= 0:
            return value
    if isinstance(doc, dict):
        match = _TRY_AGAIN.search(str(doc.get("details", "")))
        if match:
            return float(match.group(1))
    return DEFAULT_RETRY_AFTER_S


def _fields(doc: Any) -> tuple[str, int | None]:
    if not isinstance(doc, dict):
        return "", None
    message = doc.get("message")
    return (message if isinstance(message, str) else ""), to_code(doc.get("code"))


def map_error(
    endpoint: str, status: int, doc: Any, headers: Mapping[str, str], *, write: bool
) -> ExchangeError:
    """The exception for an error answer whose body (``doc``) was decoded (may be any JSON)."""
    message, code = _fields(doc)
    key = _key(message)
    name = _clean(message)
    if key.startswith("UNAUTHORIZED") or code in AUTH_CODES or status == 401:
        return AuthError(name or f"HTTP {status}", endpoint=endpoint)
    if key in RATE_LIMIT_NAMES or code == 429 or status == 429:
        return RateLimited("TOO_MANY_REQUESTS", endpoint=endpoint, retry_after_s=retry_after_s(headers, doc))
    if key in MAINTENANCE_NAMES:
        return MaintenanceError(name, endpoint=endpoint)
    if key in NOT_FOUND_NAMES or code in NOT_FOUND_CODES:
        return OrderNotFound(name or "Order not found", code=code, endpoint=endpoint)
    if status >= 500:
        if write:
            return AmbiguousOutcome(f"HTTP {status} after sending", endpoint=endpoint)
        if status == 503:
            return MaintenanceError("HTTP 503", endpoint=endpoint)
        return TransientError(f"HTTP {status}", endpoint=endpoint)
    return ExchangeRejected(name or f"HTTP_{status}", code=code, endpoint=endpoint)


def classify_response(
    endpoint: str, status: int, body: bytes, headers: Mapping[str, str], *, write: bool
) -> Any:
    """Return the decoded document of a successful answer, or raise the mapped error."""
    try:
        doc = decode_json(endpoint, body)
    except MalformedPayload as exc:
        if status in (401, 429):
            raise map_error(endpoint, status, None, headers, write=write) from None
        if write:
            raise AmbiguousOutcome(f"unreadable answer (HTTP {status}): {exc.problem}", endpoint=endpoint) from None
        if status >= 500:
            raise map_error(endpoint, status, None, headers, write=write) from None
        raise
    if 200 <= status < 300:
        if isinstance(doc, dict) and "success" in doc:
            try:
                success = to_bool(doc["success"])
            except ValueError:
                success = True  # left to the envelope validation of the endpoint's parser
            if not success:
                raise map_error(endpoint, status, doc, headers, write=write)
        return doc
    raise map_error(endpoint, status, doc, headers, write=write)


def classify_transport_error(endpoint: str, exc: BaseException, *, write: bool) -> ExchangeError:
    """Timeouts and connection failures: transient for reads, ambiguous for writes.

    Only the exception's class name is used; requests' messages can contain the full URL.
    """
    kind = type(exc).__name__
    if write:
        return AmbiguousOutcome(f"no answer ({kind}); the request may have reached the venue", endpoint=endpoint)
    return TransientError(f"no answer ({kind})", endpoint=endpoint)
