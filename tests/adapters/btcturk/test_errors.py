"""Error mapping: message first, then code, then HTTP status; writes never become rejections when unsure."""

from __future__ import annotations

import json

import pytest
import requests

from btcbot.adapters.btcturk.errors import classify_response, classify_transport_error, retry_after_s
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

from .payloads import raw

E = "ep"


def _body(message: str, code: object = 0, success: bool = False) -> bytes:
    return json.dumps({"success": success, "message": message, "code": code}).encode()


def _raise(status: int, body: bytes, *, write: bool, headers: dict[str, str] | None = None) -> ExchangeError:
    with pytest.raises(ExchangeError) as info:
        classify_response(E, status, body, headers or {}, write=write)
    return info.value


@pytest.mark.parametrize("write", [False, True])
@pytest.mark.parametrize(
    "status,body,expected",
    [
        (401, _body("Unauthorized - Invalid Nonce", 1037, success=True), AuthError),
        (401, b"", AuthError),
        (400, _body("Unauthorized - Invalid Signature"), AuthError),
        (429, raw("rest_429_ip_block_docs.json"), RateLimited),
        (429, b"<html>slow down</html>", RateLimited),
        (400, _body("SYSTEM_UNDER_MAINTENANCE", 9999), MaintenanceError),
        (400, _body("systemUnderMaintenance"), MaintenanceError),
        (400, _body("ORDER_INSERT_BLOCKED"), MaintenanceError),
        (503, _body("ORDER_CANCEL_BLOCKED"), MaintenanceError),
        (400, raw("rest_get_single_order_not_found_docs.json"), OrderNotFound),
        (400, raw("rest_400_order_error_docs.json"), OrderNotFound),
        (400, _body("some new wording", 1152), OrderNotFound),
        (400, _body("BALANCE_NOT_ENOUGH", 1055), ExchangeRejected),
        (400, _body("FAILED_MIN_TOTAL_AMOUNT", "1123"), ExchangeRejected),
        (415, _body("", ""), ExchangeRejected),
        (200, _body("FAILED_LIMIT_ORDER", 1120), ExchangeRejected),
    ],
)
def test_definitive_answers_map_the_same_for_reads_and_writes(
    status: int, body: bytes, expected: type[ExchangeError], write: bool
) -> None:
    err = _raise(status, body, write=write)
    assert type(err) is expected


def test_rejection_carries_name_and_int_code() -> None:
    err = _raise(400, _body("FAILED_MIN_TOTAL_AMOUNT", "1123"), write=True)
    assert isinstance(err, ExchangeRejected)
    assert (err.error_name, err.code) == ("FAILED_MIN_TOTAL_AMOUNT", 1123)


@pytest.mark.parametrize(
    "status,body,read_error",
    [
        (500, _body("INTERNAL"), TransientError),
        (502, b"<html>bad gateway</html>", TransientError),
        (503, b"", MaintenanceError),
        (503, _body("Service Unavailable"), MaintenanceError),
        (200, b"<html>captive portal</html>", MalformedPayload),
        (200, b"", MalformedPayload),
        (400, b"<html>bad request</html>", MalformedPayload),
    ],
)
def test_unclear_answers_are_transient_on_reads_and_ambiguous_on_writes(
    status: int, body: bytes, read_error: type[ExchangeError]
) -> None:
    assert type(_raise(status, body, write=False)) is read_error
    err = _raise(status, body, write=True)
    assert type(err) is AmbiguousOutcome
    assert not isinstance(err, ExchangeRejected)


def test_success_returns_document() -> None:
    doc = classify_response(E, 200, raw("rest_cancel_order_response_docs.json"), {}, write=True)
    assert doc["message"] == "SUCCESS"
    bare = classify_response(E, 200, raw("rest_server_time_response_outlier1_docs.json"), {}, write=False)
    assert bare["serverTime"] == 1613313462021


def test_retry_after_header_then_body_hint_then_default() -> None:
    assert retry_after_s({"Retry-After": "7"}, None) == 7.0
    account = json.loads(raw("rest_429_account_block_docs.json"))
    assert retry_after_s({}, account) == 53.0
    assert retry_after_s({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, account) == 53.0
    assert retry_after_s({}, None) == 1.0
    err = _raise(429, raw("rest_429_ip_block_docs.json"), write=False, headers={"Retry-After": "12"})
    assert isinstance(err, RateLimited) and err.retry_after_s == 12.0


@pytest.mark.parametrize(
    "exc",
    [requests.Timeout(), requests.ConnectionError(), requests.exceptions.ChunkedEncodingError()],
)
def test_transport_errors(exc: Exception) -> None:
    assert type(classify_transport_error(E, exc, write=False)) is TransientError
    assert type(classify_transport_error(E, exc, write=True)) is AmbiguousOutcome


def test_transport_error_text_has_no_url() -> None:
    exc = requests.ConnectionError("HTTPSConnectionPool(host='api.btcturk.com'): /api/v1/order?secret")
    assert "secret" not in str(classify_transport_error(E, exc, write=True))
