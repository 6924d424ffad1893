"""Map BTC Turk answers and transport failures onto ``btcbot.domain.errors``.

Two policies live here, one for reads and one for the two order writes.

**Writes** (``POST /api/v1/order``, ``DELETE /api/v1/order``) follow the order outcome policy of
``docs/execution.md``: an answer is final only when it is a documented definitive rejection of
that route (``DEFINITIVE_REJECTIONS``, below) sent with an HTTP 4xx status. Every other answer
the bot cannot prove final (2xx with ``success:false``, unknown names, 5xx, bodies that cannot be
read, timeouts, contradictions) is ``AmbiguousOutcome``: the order may exist and is looked up by
its client id, never resent. ``tests/services/test_order_outcome_policy.py`` checks that the
table in the doc and ``DEFINITIVE_REJECTIONS`` agree.

**Reads** (GET) map by meaning: the exchange's ``message`` decides first (codes were renumbered
on 2024-05-06, names were not), then its ``code``, then the HTTP status.

| answer                                                          | read              | write                     |
|-----------------------------------------------------------------|-------------------|---------------------------|
| 401 / ``Unauthorized...`` naming the key, signature, permission | AuthError         | AuthError                 |
| 401 naming the nonce/stamp, or with no readable cause            | StampRejected     | StampRejected             |
| non-401 answer with an auth code (1037) or nonce message          | StampRejected     | AmbiguousOutcome          |
| ``TOO_MANY_REQUESTS`` / code 429 / HTTP 429                     | RateLimited       | RateLimited               |
| SYSTEM_UNDER_MAINTENANCE, ORDER_INSERT/CANCEL_BLOCKED (4xx/5xx) | MaintenanceError  | MaintenanceError          |
| ``Order not found`` (1152), NO_ORDER_MATCHES_YOUR_REQUEST (1052) | OrderNotFound     | per DEFINITIVE_REJECTIONS |
| any 5xx (503 included) without a maintenance name               | TransientError    | AmbiguousOutcome          |
| other 4xx with a readable body                                  | ExchangeRejected  | per DEFINITIVE_REJECTIONS |
| 2xx with ``success:false``                                       | as its 4xx twin   | AmbiguousOutcome          |
| body that is not JSON (HTML, empty, junk, truncated)            | MalformedPayload  | AmbiguousOutcome          |
| timeout, connection error, any requests exception               | TransientError    | AmbiguousOutcome          |

StampRejected (a subclass of AuthError) is resynced and retried once by the transport; only if
the 401 repeats does an AuthError reach the caller (docs/exchange.md, "Authentication and time").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
    StampRejected,
    TransientError,
)

SUBMIT_ROUTE = "POST /api/v1/order"
CANCEL_ROUTE = "DELETE /api/v1/order"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A documented answer that proves a write did nothing. ``code`` None: documented without one."""

    route: str
    name: str
    code: int | None
    source: str
    not_found: bool = False


#: THE list of answers that may make an order write final (docs/execution.md mirrors it row by
#: row). Sources are sections of ../shared/btcturk_api.md. Left out on purpose: stop-price errors
#: (1124, 1125, 1128, STOP_PRICE_*_THAN_MARKET) because the bot never sends a stop order, so such
#: an answer is not about our request; ``Order not found`` (1152) on DELETE because it is
#: documented for GET /order/{id} only; maintenance names (they open the breaker, the order stays
#: UNKNOWN and its lookup proves what happened).
DEFINITIVE_REJECTIONS: tuple[Rejection, ...] = (
    Rejection(SUBMIT_ROUTE, "BALANCE_NOT_ENOUGH", 1055, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "FAILED_ORDER_WITH_OPEN_ORDERS", 1122, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "FAILED_MIN_TOTAL_AMOUNT", 1123, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "FAILED_INVALID_PRICE_SCALE", 1126, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "FAILED_INVALID_QUANTITY_SCALE", 1127, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "FAILED_MARKET_ORDER", 1118, "§8"),
    Rejection(SUBMIT_ROUTE, "FAILED_LIMIT_ORDER", 1120, "§8"),
    Rejection(SUBMIT_ROUTE, "ORDER_METHOD_NOT_SUPPORTED", 1134, "§8"),
    Rejection(SUBMIT_ROUTE, "ORDER_TYPE_NOT_SUPPORTED", 1193, "§8"),
    Rejection(SUBMIT_ROUTE, "PRICE_MUST_BE_LESS_THAN_MAXPRICE", 1226, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "PRICE_MUST_BE_LESS_THAN_MINPRICE", 1227, "§8, §5.6"),
    Rejection(SUBMIT_ROUTE, "FAILED_ORDER_PARAMETER", None, "§8 (documented without a code)"),
    Rejection(SUBMIT_ROUTE, "ORDER_MIN_PRICE_EXCEEDED", None, "§8, §5.6 (documented without a code)"),
    Rejection(SUBMIT_ROUTE, "ORDER_MAX_PRICE_EXCEEDED", None, "§8, §5.6 (documented without a code)"),
    Rejection(SUBMIT_ROUTE, "pairNotFound", None, "§8 SWAGGER code enum (= PAIR_NOT_FOUND)"),
    Rejection(SUBMIT_ROUTE, "invalidPriceScale", None, "§8 SWAGGER code enum"),
    Rejection(SUBMIT_ROUTE, "invalidQuantityScale", None, "§8 SWAGGER code enum"),
    Rejection(SUBMIT_ROUTE, "priceMustBeAnInteger", None, "§8 SWAGGER code enum"),
    Rejection(SUBMIT_ROUTE, "requestValidationFailed", None, "§8 SWAGGER code enum"),
    Rejection(SUBMIT_ROUTE, "PARAMETERS_ERROR", None, "§8 2019 legacy name"),
    Rejection(SUBMIT_ROUTE, "BALANCE_NOT_ENOUGH_WITHOUT_OPEN_ORDERS", None, "§8 2019 legacy name"),
    Rejection(SUBMIT_ROUTE, "MIN_TOTAL", None, "§8 2019 legacy name"),
    Rejection(CANCEL_ROUTE, "NO_ORDER_MATCHES_YOUR_REQUEST", 1052, "§8, §5.7", not_found=True),
    Rejection(CANCEL_ROUTE, "ORDER_COULD_NOT_BE_CANCELED", None, "§8, §5.7 (documented without a code)"),
)

#: Message names compared after removing case, underscores and spaces (SWAGGER uses camelCase).
MAINTENANCE_NAMES = frozenset({"SYSTEMUNDERMAINTENANCE", "ORDERINSERTBLOCKED", "ORDERCANCELBLOCKED"})
NOT_FOUND_NAMES = frozenset({"ORDERNOTFOUND", "NOORDERMATCHESYOURREQUEST"})
RATE_LIMIT_NAMES = frozenset({"TOOMANYREQUESTS"})
NOT_FOUND_CODES = frozenset({1152, 1052})
AUTH_CODES = frozenset({1037})
#: Parts of a 401 message that blame the credentials (halt at once) ...
CREDENTIAL_MARKERS = (
    "PUBLICKEY", "PRIVATEKEY", "APIKEY", "INVALIDKEY", "SIGNATURE", "INVALIDREQUEST", "HEADERSAREMISSING",
    "PERMISSION", "WHITELIST", "FORBIDDEN",
)  # fmt: skip
#: ... and the ones that blame the stamp (resync and retry once). BTC Turk's text is
#: ``Unauthorized - Invalid Nonce`` (btcturk_api.md §2).
STAMP_MARKERS = ("NONCE", "STAMP", "TIMESTAMP")
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


def _index(route: str) -> tuple[dict[str, Rejection], dict[int, Rejection]]:
    rows = [r for r in DEFINITIVE_REJECTIONS if r.route == route]
    return {_key(r.name): r for r in rows}, {r.code: r for r in rows if r.code is not None}


_BY_ROUTE: dict[str, tuple[dict[str, Rejection], dict[int, Rejection]]] = {
    route: _index(route) for route in (SUBMIT_ROUTE, CANCEL_ROUTE)
}


def definitive_rejection(route: str, message: str, code: int | None) -> Rejection | None:
    """The documented rejection this answer is, or None (then a write's outcome is unknown).

    The message decides when there is one: a known name is definitive, an unknown text is not
    (even with a known code: the exchange said something we do not know). Only a 4xx with no
    message at all is judged by its code.
    """
    names, codes = _BY_ROUTE.get(route, ({}, {}))
    if message.strip():
        return names.get(_key(message))
    return None if code is None else codes.get(code)


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


def _auth_error(endpoint: str, status: int, message: str, code: int | None, *, write: bool) -> ExchangeError | None:
    """The auth reading of an answer, or None when it is not about authentication."""
    key = _key(message)
    if any(marker in key for marker in CREDENTIAL_MARKERS) and (status == 401 or key.startswith("UNAUTHORIZED")):
        return AuthError(_clean(message), endpoint=endpoint)
    stale = any(marker in key for marker in STAMP_MARKERS)
    if status == 401:
        # BTC Turk authenticates before it reads the request: a 401 proves nothing was done.
        return StampRejected(_clean(message) or "HTTP 401", endpoint=endpoint)
    if key.startswith("UNAUTHORIZED") or code in AUTH_CODES or stale:
        if write:
            # Not the auth layer's 401: we cannot prove the write was refused before it ran.
            return AmbiguousOutcome(f"auth-like answer with HTTP {status}: {_clean(message) or code}", endpoint=endpoint)
        return StampRejected(_clean(message) or f"code {code}", endpoint=endpoint)
    return None


def map_error(
    endpoint: str, status: int, doc: Any, headers: Mapping[str, str], *, write: bool, route: str = ""
) -> ExchangeError:
    """The exception for an error answer whose body (``doc``) was decoded (may be any JSON)."""
    message, code = _fields(doc)
    key = _key(message)
    name = _clean(message)
    auth = _auth_error(endpoint, status, message, code, write=write)
    if auth is not None:
        return auth
    if key in RATE_LIMIT_NAMES or code == 429 or status == 429:
        return RateLimited("TOO_MANY_REQUESTS", endpoint=endpoint, retry_after_s=retry_after_s(headers, doc))
    if key in MAINTENANCE_NAMES:
        return MaintenanceError(name, endpoint=endpoint)
    if write:
        return _write_error(endpoint, status, message, code, route)
    if key in NOT_FOUND_NAMES or code in NOT_FOUND_CODES:
        return OrderNotFound(name or "Order not found", code=code, endpoint=endpoint)
    if status >= 500:
        # A bare 503 is an ordinary outage (retry, count toward the breaker threshold); only the
        # documented maintenance names above open a breaker at once.
        return TransientError(f"HTTP {status}", endpoint=endpoint)
    return ExchangeRejected(name or f"HTTP_{status}", code=code, endpoint=endpoint)


def _write_error(endpoint: str, status: int, message: str, code: int | None, route: str) -> ExchangeError:
    """Order outcome policy: final only for a documented rejection of this route in a 4xx."""
    rejection = definitive_rejection(route, message, code) if 400 <= status < 500 else None
    if rejection is None:
        what = _clean(message) or (f"code {code}" if code is not None else "no message")
        return AmbiguousOutcome(f"HTTP {status} ({what}) is not a documented rejection", endpoint=endpoint)
    cls = OrderNotFound if rejection.not_found else ExchangeRejected
    return cls(_clean(message) or rejection.name, code=code if code is not None else rejection.code, endpoint=endpoint)


def classify_response(
    endpoint: str, status: int, body: bytes, headers: Mapping[str, str], *, write: bool, route: str = ""
) -> Any:
    """Return the decoded document of a successful answer, or raise the mapped error.

    ``route`` ("POST /api/v1/order" ...) picks the write's definitive rejections; a write on a
    route without any (or without ``route``) can only succeed or be ambiguous.
    """
    try:
        doc = decode_json(endpoint, body)
    except MalformedPayload as exc:
        if status in (401, 429):
            raise map_error(endpoint, status, None, headers, write=write, route=route) from None
        if write:
            raise AmbiguousOutcome(f"unreadable answer (HTTP {status}): {exc.problem}", endpoint=endpoint) from None
        if status >= 500:
            raise map_error(endpoint, status, None, headers, write=write, route=route) from None
        raise
    if 200 <= status < 300:
        success = _success(doc)
        if write:
            message, code = _fields(doc)
            if success is False:
                what = _clean(message) or "no message"
                raise AmbiguousOutcome(f"HTTP {status} with success:false ({what}, code {code})", endpoint=endpoint)
            if success is True and code not in (None, 0):
                raise AmbiguousOutcome(f"HTTP {status} with success:true but code {code}", endpoint=endpoint)
            return doc  # ``success`` absent or odd: the parser's envelope check makes it ambiguous
        if success is False:
            raise map_error(endpoint, status, doc, headers, write=write, route=route)
        return doc
    if write and status < 400:
        raise AmbiguousOutcome(f"HTTP {status} is not an answer to an order write", endpoint=endpoint)
    raise map_error(endpoint, status, doc, headers, write=write, route=route)


def _success(doc: Any) -> bool | None:
    """The envelope's ``success`` as a bool, None when absent or not a boolean."""
    if not isinstance(doc, dict) or "success" not in doc:
        return None
    try:
        return to_bool(doc["success"])
    except ValueError:
        return None


def classify_transport_error(endpoint: str, exc: BaseException, *, write: bool) -> ExchangeError:
    """Timeouts and connection failures: transient for reads, ambiguous for writes.

    Only the exception's class name is used; requests' messages can contain the full URL.
    """
    kind = type(exc).__name__
    if write:
        return AmbiguousOutcome(f"no answer ({kind}); the request may have reached the venue", endpoint=endpoint)
    return TransientError(f"no answer ({kind})", endpoint=endpoint)
