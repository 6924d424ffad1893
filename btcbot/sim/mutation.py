"""Reply mutation: the request TAKES EFFECT, then the answer is replaced by another reply class.

This is the ``mutate`` fault kind (``btcbot.sim.faults``). It models an exchange (or a proxy in
front of it) that carries a request out and then answers in a way nobody planned for: a 2xx with
``success: false``, a flipped ``success``, fields removed or of the wrong type, a wrong HTTP
status, an HTML or empty page, a truncated or malformed body, a reset or a hang. A client that
takes any of these answers as a final rejection loses track of real state.

Reply classes (``REPLY_CLASSES``) are grouped (``GROUPS``); a fault names one class, one group,
``random`` (every class) or a ``|``/``,``-separated list of those. Classes that do not fit a route
(``id_string`` on balances, ``data_missing`` on a cancel, which has no ``data``) are never drawn
for it (``applicable``). No class ever answers a documented definitive rejection code: a venue
that carries an order out and then answers ``BALANCE_NOT_ENOUGH`` would make every client wrong.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Sequence
from typing import Any

from btcbot.sim.http.request import Response

#: class -> what the client receives (the request has been carried out in every case).
REPLY_CLASSES: dict[str, str] = {
    # envelope
    "ok_false_code0": "HTTP 200 {success: false, code: 0} (message null, empty or FAILED)",
    "ok_false_code": "HTTP 200 {success: false} with an undocumented code (1, 2, 999, 9999, -1 or \"0\")",
    "flip_success": "the real body with `success` inverted (true -> false, false -> true)",
    # fields
    "id_string": "`id`/`orderId` of every row sent as a JSON string",
    "id_null": "`id`/`orderId` of every row sent as null",
    "field_removed": "one member of one row removed (any member, ids included; or `field` in every row)",
    "field_null": "one non-id member of one row set to null (or `field` in every row)",
    "data_missing": "the `data` member removed",
    # status
    "status_4xx_unknown": "HTTP 400/404/409/422 with an unknown message and an unknown or missing code",
    "status_401_text": "HTTP 401 text/plain `Unauthorized`",
    "status_401_nonce": "HTTP 401 {success: true, message: 'Unauthorized - Invalid Nonce', code: 1037}",
    "status_429": "HTTP 429 TOO_MANY_REQUESTS with Retry-After: 1",
    "status_5xx_json": "HTTP 500/502/503 with a JSON error envelope (never the maintenance message)",
    "status_5xx_html": "HTTP 500/502/503/504 with a gateway's HTML page",
    "status_5xx_empty": "HTTP 500/502/503/504 with an empty body",
    # body
    "html_200": "HTTP 200 with an HTML page (a captive portal or a CDN challenge)",
    "empty_200": "HTTP 200 with an empty body",
    "truncated_json": "HTTP 200 with the first half of the real body (Content-Length matches)",
    "malformed_json": "HTTP 200 with a body that is not JSON (trailing comma, single quotes, garbage)",
    "short_body": "HTTP 200 announcing the full Content-Length, half the body sent, then the connection closed",
    # connection
    "reset": "the connection is reset (TCP RST) without an answer",
    "timeout": "no answer for `seconds` (default 12 s), then the connection is closed",
}

GROUPS: dict[str, tuple[str, ...]] = {
    "envelope": ("ok_false_code0", "ok_false_code", "flip_success"),
    "fields": ("id_string", "id_null", "field_removed", "field_null", "data_missing"),
    "status": (
        "status_4xx_unknown", "status_401_text", "status_401_nonce", "status_429",
        "status_5xx_json", "status_5xx_html", "status_5xx_empty",
    ),
    "body": ("html_200", "empty_200", "truncated_json", "malformed_json", "short_body"),
    "connection": ("reset", "timeout"),
}
RANDOM = "random"
#: Every private endpoint (what ``btcbot sim --reply-mutation`` and the soak cover).
PRIVATE_ROUTES = (
    "POST /api/v1/order",
    "DELETE /api/v1/order",
    "GET /api/v1/users/balances",
    "GET /api/v1/openorders",
    "GET /api/v1/allorders",
    "GET /api/v1/order/{id}",
    "GET /api/v1/users/transactions/trade",
)
#: Hang of the ``timeout`` class when the fault's ``seconds`` is 0 (above the bot's 10 s default).
DEFAULT_HANG_S = 12.0

#: Private routes whose rows carry an order or trade id.
_ID_ROUTES = frozenset({
    "post /api/v1/order",
    "get /api/v1/openorders",
    "get /api/v1/allorders",
    "get /api/v1/order/{id}",
    "get /api/v1/users/transactions/trade",
})
#: Enveloped routes without a ``data`` member.
_NO_DATA_ROUTES = frozenset({"delete /api/v1/order"})
_ID_KEYS = ("id", "orderId")

_HTML_TITLES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                504: "Gateway Time-out"}


def parse_replies(value: str | Sequence[str]) -> tuple[str, ...]:
    """Validate a reply selector (class, group, ``random`` or a list) into a tuple of classes."""
    items: Iterable[str]
    items = value.replace("|", ",").split(",") if isinstance(value, str) else value
    out: list[str] = []
    for raw in items:
        name = str(raw).strip().lower()
        if not name:
            continue
        if name == RANDOM:
            found: tuple[str, ...] = tuple(REPLY_CLASSES)
        elif name in GROUPS:
            found = GROUPS[name]
        elif name in REPLY_CLASSES:
            found = (name,)
        else:
            known = [RANDOM, *GROUPS, *REPLY_CLASSES]
            raise ValueError(f"unknown reply class {name!r}; known: {', '.join(known)}")
        out.extend(c for c in found if c not in out)
    if not out:
        raise ValueError("reply must name at least one reply class")
    return tuple(out)


def _enveloped(template: str) -> bool:
    return template.startswith("/api/") and template != "/api/v2/server/time"


def applicable(method: str, template: str, classes: Sequence[str]) -> tuple[str, ...]:
    """The subset of ``classes`` that makes sense for this route (order kept)."""
    key = f"{method} {template}".lower()
    enveloped = _enveloped(template.lower())
    has_data = enveloped and key not in _NO_DATA_ROUTES
    has_ids = key in _ID_ROUTES

    def fits(name: str) -> bool:
        if name in GROUPS["envelope"]:
            return enveloped
        if name in ("id_string", "id_null"):
            return has_ids
        if name in GROUPS["fields"]:
            return has_data
        return True

    return tuple(c for c in classes if fits(c))


# ------------------------------------------------------------------ mutators
def _rows(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict):
        if set(data) >= {"asks", "bids"}:
            return [r for side in ("asks", "bids") if isinstance(data[side], list) for r in data[side]
                    if isinstance(r, dict)]
        return [data]
    return []


def _json_body(resp: Response) -> dict[str, Any] | None:
    if resp.raw is not None or not isinstance(resp.body, dict):
        return None
    body: dict[str, Any] = copy.deepcopy(resp.body)
    return body


def _mutate_fields(reply: str, resp: Response, rng: random.Random, member: str | None) -> Response | None:
    """Field-level classes; None when the body has nothing to mutate (e.g. no rows). ``member``
    names the member ``field_removed``/``field_null`` change, in every row that has it."""
    body = _json_body(resp)
    if body is None:
        return None
    if reply == "flip_success":
        body["success"] = not bool(body.get("success", False))
        return Response(resp.status, body, dict(resp.headers), content_type=resp.content_type)
    if reply == "data_missing":
        if "data" not in body:
            return None
        del body["data"]
        return Response(resp.status, body, dict(resp.headers), content_type=resp.content_type)
    rows = _rows(body)
    if not rows:
        return None
    if reply in ("id_string", "id_null"):
        changed = False
        for row in rows:
            for key in _ID_KEYS:
                if key in row and row[key] is not None:
                    row[key] = str(row[key]) if reply == "id_string" else None
                    changed = True
        if not changed:
            return None
    elif member is not None:
        hits = [r for r in rows if member in r and (reply == "field_removed" or r[member] is not None)]
        if not hits:
            return None
        for row in hits:
            if reply == "field_removed":
                del row[member]
            else:
                row[member] = None
    else:
        row = rng.choice(rows)
        keys = sorted(row) if reply == "field_removed" else sorted(k for k in row if k not in _ID_KEYS)
        if not keys:
            return None
        key = rng.choice(keys)
        if reply == "field_removed":
            del row[key]
        else:
            row[key] = None
    return Response(resp.status, body, dict(resp.headers), content_type=resp.content_type)


def _html(status: int, title: str) -> bytes:
    return (f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} {title}</h1>"
            f"</center><hr><center>nginx</center></body></html>").encode()


def mutate(
    reply: str, resp: Response, rng: random.Random, hang_s: float = 0.0, member: str | None = None
) -> tuple[Response, str]:
    """The answer of reply class ``reply`` for a request whose real answer was ``resp``.

    Returns the new response and the class actually applied: ``"unchanged"`` when a field-level
    class found nothing to change (e.g. ``field_null`` on an empty list); the real answer is then
    sent as it was. ``member``: see ``_mutate_fields``.
    """
    if resp.drop:
        return resp, "unchanged"
    if reply in GROUPS["fields"] or reply == "flip_success":
        mutated = _mutate_fields(reply, resp, rng, member)
        return (mutated, reply) if mutated is not None else (resp, "unchanged")
    if reply == "ok_false_code0":
        return Response(200, {"success": False, "message": rng.choice([None, "", "FAILED"]), "code": 0}), reply
    if reply == "ok_false_code":
        codes: list[int | str] = [1, 2, 999, 9999, -1, "0"]
        code = rng.choice(codes)
        return Response(200, {"success": False, "message": "UNKNOWN_ERROR", "code": code, "data": None}), reply
    if reply == "status_4xx_unknown":
        status = rng.choice([400, 404, 409, 422])
        body: dict[str, Any] = {"success": False, "message": rng.choice(["UNKNOWN_ERROR", "An error has occurred."])}
        if rng.random() < 0.5:
            body["code"] = rng.choice([1, 9999])
        return Response(status, body), reply
    if reply == "status_401_text":
        return Response(401, raw=b"Unauthorized", content_type="text/plain"), reply
    if reply == "status_401_nonce":
        return Response(401, {"success": True, "message": "Unauthorized - Invalid Nonce", "code": 1037}), reply
    if reply == "status_429":
        body = {"message": "TOO_MANY_REQUESTS", "success": False, "code": 429,
                "details": "Quota exceeded. Please try again in 1 second(s).", "limit": "0", "period": "1m",
                "policy": "ip"}
        return Response(429, body, headers={"Retry-After": "1"}), reply
    if reply == "status_5xx_json":
        status = rng.choice([500, 502, 503])
        message = {500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE"}[status]
        return Response(status, {"success": False, "message": message, "code": status, "data": None}), reply
    if reply == "status_5xx_html":
        status = rng.choice([500, 502, 503, 504])
        return Response(status, raw=_html(status, _HTML_TITLES[status]), content_type="text/html"), reply
    if reply == "status_5xx_empty":
        return Response(rng.choice([500, 502, 503, 504]), raw=b"", content_type="text/html"), reply
    if reply == "html_200":
        page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
        return Response(200, raw=page, content_type="text/html; charset=UTF-8"), reply
    if reply == "empty_200":
        return Response(200, raw=b""), reply
    payload = resp.payload()
    if reply == "truncated_json":
        return Response(resp.status, raw=payload[: max(1, len(payload) // 2)]), reply
    if reply == "malformed_json":
        variants = [
            payload[:-1] + b",}" if payload.endswith(b"}") else payload + b",",
            payload.replace(b'"', b"'"),
            b"\x00\x1f" + payload[: len(payload) // 3],
        ]
        return Response(resp.status, raw=rng.choice(variants)), reply
    if reply == "short_body":
        cut = max(1, len(payload) // 2)
        return Response(resp.status, raw=payload[:cut], declared_length=len(payload) + (1 if cut == len(payload) else 0)), reply
    if reply == "reset":
        return Response(drop=True, reset=True), reply
    if reply == "timeout":
        return Response(drop=True, hang_s=hang_s if hang_s > 0 else DEFAULT_HANG_S), reply
    raise ValueError(f"unknown reply class {reply!r}")


def describe() -> str:
    """One line per class (for ``btcbot sim --help`` and docs)."""
    return "\n".join(f"{name}: {text}" for name, text in REPLY_CLASSES.items())

