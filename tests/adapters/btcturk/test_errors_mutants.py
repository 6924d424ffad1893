"""Error mapping, one signal at a time (btcbot.adapters.btcturk.errors).

Written against the survivors of ``scripts/mutation_test.py adapters/btcturk/errors``: an answer
that carries only ONE sign of a rate limit (the message, the code or the HTTP status) or only
one sign of an authentication problem (the 1037 code, a nonce/stamp word, an ``Unauthorized``
prefix) must be read as that, never as a final rejection of an order write.
"""

from __future__ import annotations

import json

import pytest

from btcbot.adapters.btcturk.errors import (
    CANCEL_ROUTE,
    SUBMIT_ROUTE,
    classify_response,
    definitive_rejection,
    map_error,
    retry_after_s,
)
from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    ExchangeError,
    ExchangeRejected,
    MalformedPayload,
    OrderNotFound,
    RateLimited,
    StampRejected,
    TransientError,
)

E = "ep"


def _body(message: object = "", code: object = None, success: object = False) -> bytes:
    return json.dumps({"success": success, "message": message, "code": code}).encode()


def _raise(status: int, body: bytes, *, write: bool, route: str = SUBMIT_ROUTE) -> ExchangeError:
    with pytest.raises(ExchangeError) as info:
        classify_response(E, status, body, {}, write=write, route=route)
    return info.value


# ----------------------------------------------------------------------------- rate limits


@pytest.mark.parametrize("write", [False, True])
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, _body("TOO_MANY_REQUESTS", 0)),  # only the message
        (400, _body("tooManyRequests")),  # only the message, camelCase
        (400, _body("", 429)),  # only the code
        (400, _body("", "429")),  # only the code, as text
        (429, _body("BALANCE_NOT_ENOUGH", 1055)),  # only the status, whatever the body says
        (200, _body("TOO_MANY_REQUESTS", 0)),  # a 2xx envelope with success:false
    ],
)
def test_any_one_sign_of_a_rate_limit_is_a_rate_limit(status: int, body: bytes, write: bool) -> None:
    if write and status == 200:
        # a write's 2xx is never an error it could act on: ambiguous, looked up, not resent
        assert type(_raise(status, body, write=write)) is AmbiguousOutcome
        return
    err = _raise(status, body, write=write)
    assert type(err) is RateLimited
    assert str(err) == f"{E}: TOO_MANY_REQUESTS"


def test_unreadable_429_is_a_rate_limit_with_the_default_wait() -> None:
    for write in (False, True):
        err = _raise(429, b"<html>slow down</html>", write=write)
        assert isinstance(err, RateLimited) and err.retry_after_s == 1.0


def test_retry_after_hints() -> None:
    assert retry_after_s({"Retry-After": " 0 "}, None) == 0.0  # 0 is a valid wait
    assert retry_after_s({"Retry-After": "2.5"}, {"details": "try again in 9 seconds"}) == 2.5
    assert retry_after_s({"Retry-After": "-3"}, {"details": "Try again in 9.5 seconds"}) == 9.5
    assert retry_after_s({}, {"details": "no hint"}) == 1.0
    assert retry_after_s({}, ["try again in 9 seconds"]) == 1.0  # only an object has details


# ----------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    ("status", "body", "read", "write"),
    [
        # only the auth code, no 401: resync and retry a read; a write may have run
        (400, _body("", 1037), StampRejected, AmbiguousOutcome),
        (500, _body("", 1037), StampRejected, AmbiguousOutcome),
        # only a stamp word
        (400, _body("Invalid nonce"), StampRejected, AmbiguousOutcome),
        (400, _body("timestamp out of range"), StampRejected, AmbiguousOutcome),
        # only an Unauthorized prefix without a cause
        (400, _body("Unauthorized"), StampRejected, AmbiguousOutcome),
        # a credential word AND Unauthorized: the key is bad, halt (also without a 401)
        (400, _body("Unauthorized - Invalid API key"), AuthError, AuthError),
        (403, _body("unauthorized: ip not in whitelist"), AuthError, AuthError),
        # a 401: BTC Turk authenticates first, nothing was done
        (401, _body("Invalid signature"), AuthError, AuthError),
        (401, _body("no permission for this endpoint"), AuthError, AuthError),
        (401, _body("", 0), StampRejected, StampRejected),
        (401, _body("Unauthorized - Invalid Nonce"), StampRejected, StampRejected),
    ],
)
def test_auth_signs_one_at_a_time(
    status: int, body: bytes, read: type[ExchangeError], write: type[ExchangeError]
) -> None:
    assert type(_raise(status, body, write=False)) is read
    assert type(_raise(status, body, write=True)) is write


def test_a_credential_word_alone_without_401_or_unauthorized_is_not_an_auth_error() -> None:
    # "Invalid Public key" in a 400 without the Unauthorized prefix: an ordinary rejection of a read
    read = _raise(400, _body("Invalid Public key", 0), write=False)
    assert type(read) is ExchangeRejected
    assert type(_raise(400, _body("Invalid Public key", 0), write=True)) is AmbiguousOutcome


def test_auth_texts() -> None:
    assert str(_raise(401, b"", write=False)) == f"{E}: HTTP 401"
    assert str(_raise(400, _body("", 1037), write=False)) == f"{E}: code 1037"
    ambiguous = _raise(400, _body("", 1037), write=True)
    assert str(ambiguous) == f"{E}: auth-like answer with HTTP 400: 1037"


# ----------------------------------------------------------------------------- reads


@pytest.mark.parametrize(
    ("status", "body", "expected", "text"),
    [
        (400, _body("", 1152), OrderNotFound, "Order not found (code 1152)"),  # only the code
        (400, _body("", 1052), OrderNotFound, "Order not found (code 1052)"),
        (
            404,
            _body("NO_ORDER_MATCHES_YOUR_REQUEST"),
            OrderNotFound,
            "NO_ORDER_MATCHES_YOUR_REQUEST (code None)",
        ),
        (499, _body("", 0), ExchangeRejected, "HTTP_499 (code 0)"),
        (500, _body("", 0), TransientError, "HTTP 500"),
        (503, _body("FAILED_MIN_TOTAL_AMOUNT", 1123), TransientError, "HTTP 503"),
    ],
)
def test_reads_by_code_then_status(
    status: int, body: bytes, expected: type[ExchangeError], text: str
) -> None:
    err = _raise(status, body, write=False)
    assert type(err) is expected
    assert str(err) == f"{E}: {text}"


def test_success_true_read_returns_the_document_and_other_2xx_too() -> None:
    doc = classify_response(E, 200, _body("SUCCESS", 0, success=True), {}, write=False)
    assert doc["message"] == "SUCCESS"
    assert classify_response(E, 299, b'{"data": 1}', {}, write=False) == {"data": 1}
    assert classify_response(E, 200, b'{"success": "yes"}', {}, write=False) == {"success": "yes"}


def test_unreadable_reads() -> None:
    assert type(_raise(300, b"<html>", write=False)) is MalformedPayload
    assert type(_raise(499, b"<html>", write=False)) is MalformedPayload
    assert type(_raise(500, b"<html>", write=False)) is TransientError


# ----------------------------------------------------------------------------- writes


def test_write_success_and_envelopes() -> None:
    ok = classify_response(E, 200, _body("SUCCESS", 0, success=True), {}, write=True, route=SUBMIT_ROUTE)
    assert ok["success"] is True
    no_code = classify_response(E, 201, _body("SUCCESS", None, success=True), {}, write=True)
    assert no_code["code"] is None
    # success present but odd: handed to the parser, whose envelope check decides
    odd = classify_response(E, 200, _body("SUCCESS", 0, success="maybe"), {}, write=True)
    assert odd["success"] == "maybe"
    with pytest.raises(AmbiguousOutcome, match="success:true but code 1055"):
        classify_response(E, 200, _body("SUCCESS", 1055, success=True), {}, write=True)
    with pytest.raises(AmbiguousOutcome, match=r"success:false \(no message, code None\)"):
        classify_response(E, 200, _body("", None), {}, write=True)


@pytest.mark.parametrize("status", [300, 399])
def test_a_non_answer_status_of_a_write_is_ambiguous(status: int) -> None:
    err = _raise(status, _body("BALANCE_NOT_ENOUGH", 1055), write=True)
    assert type(err) is AmbiguousOutcome and "is not an answer to an order write" in str(err)


@pytest.mark.parametrize("status", [400, 499])
def test_documented_rejection_at_both_ends_of_4xx(status: int) -> None:
    err = _raise(status, _body("BALANCE_NOT_ENOUGH", 1055), write=True)
    assert isinstance(err, ExchangeRejected) and (err.error_name, err.code) == ("BALANCE_NOT_ENOUGH", 1055)


def test_rejection_by_code_alone_takes_the_documented_name() -> None:
    err = _raise(400, _body("", 1055), write=True)
    assert isinstance(err, ExchangeRejected) and (err.error_name, err.code) == ("BALANCE_NOT_ENOUGH", 1055)
    # by name alone: the documented code is filled in
    named = _raise(400, _body("FAILED_MIN_TOTAL_AMOUNT"), write=True)
    assert isinstance(named, ExchangeRejected) and named.code == 1123
    # a cancel's not-found by code alone
    gone = _raise(400, _body("", 1052), write=True, route=CANCEL_ROUTE)
    assert isinstance(gone, OrderNotFound) and gone.code == 1052


def test_write_ambiguity_texts() -> None:
    assert (
        str(_raise(400, _body("", 4242), write=True))
        == f"{E}: HTTP 400 (code 4242) is not a documented rejection"
    )
    assert (
        str(_raise(400, _body("", None), write=True))
        == f"{E}: HTTP 400 (no message) is not a documented rejection"
    )


def test_definitive_rejection_rules() -> None:
    assert definitive_rejection(SUBMIT_ROUTE, "balance not enough", 9) is not None  # name normalized
    assert definitive_rejection(SUBMIT_ROUTE, "   ", 1055) is not None  # blank message: the code decides
    assert definitive_rejection(SUBMIT_ROUTE, "", None) is None
    assert definitive_rejection("GET /api/v1/order", "BALANCE_NOT_ENOUGH", 1055) is None


def test_map_error_of_a_non_object_document() -> None:
    assert type(map_error(E, 400, ["TOO_MANY_REQUESTS"], {}, write=False)) is ExchangeRejected
    assert type(map_error(E, 400, {"message": 429, "code": None}, {}, write=False)) is ExchangeRejected


def test_long_messages_are_capped_in_errors() -> None:
    err = _raise(400, _body("X" * 500 + "  tail"), write=False)
    assert isinstance(err, ExchangeRejected) and err.error_name == "X" * 120
    spaced = _raise(400, _body("A   lot\n of   space"), write=False)
    assert isinstance(spaced, ExchangeRejected) and spaced.error_name == "A lot of space"


#: Documented definitive rejections with their codes, copied by hand from btcturk_api.md section 8.
DOCUMENTED_CODES = [
    (SUBMIT_ROUTE, "BALANCE_NOT_ENOUGH", 1055),
    (SUBMIT_ROUTE, "FAILED_MARKET_ORDER", 1118),
    (SUBMIT_ROUTE, "FAILED_LIMIT_ORDER", 1120),
    (SUBMIT_ROUTE, "FAILED_ORDER_WITH_OPEN_ORDERS", 1122),
    (SUBMIT_ROUTE, "FAILED_MIN_TOTAL_AMOUNT", 1123),
    (SUBMIT_ROUTE, "FAILED_INVALID_PRICE_SCALE", 1126),
    (SUBMIT_ROUTE, "FAILED_INVALID_QUANTITY_SCALE", 1127),
    (SUBMIT_ROUTE, "ORDER_METHOD_NOT_SUPPORTED", 1134),
    (SUBMIT_ROUTE, "ORDER_TYPE_NOT_SUPPORTED", 1193),
    (SUBMIT_ROUTE, "PRICE_MUST_BE_LESS_THAN_MAXPRICE", 1226),
    (SUBMIT_ROUTE, "PRICE_MUST_BE_LESS_THAN_MINPRICE", 1227),
    (CANCEL_ROUTE, "NO_ORDER_MATCHES_YOUR_REQUEST", 1052),
]


@pytest.mark.parametrize(("route", "name", "code"), DOCUMENTED_CODES)
def test_each_documented_code_alone_is_its_rejection(route: str, name: str, code: int) -> None:
    by_code = _raise(400, _body("", code), write=True, route=route)
    assert isinstance(by_code, ExchangeRejected | OrderNotFound)
    assert str(by_code) == f"{E}: {name} (code {code})"
    by_name = _raise(400, _body(name), write=True, route=route)
    assert str(by_name) == f"{E}: {name} (code {code})"


def test_a_two_hundred_list_body_is_returned_as_is() -> None:
    assert classify_response(E, 200, b'["x"]', {}, write=False) == ["x"]
