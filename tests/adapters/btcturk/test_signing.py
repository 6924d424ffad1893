from __future__ import annotations

import base64

import pytest

from btcbot.adapters.btcturk.signing import auth_headers, sign
from btcbot.domain.errors import AuthError

from .payloads import API_KEY, API_SECRET

STAMP = 1736679125049
# Computed independently with:
#   printf '<key><stamp>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of decoded secret> -binary | base64
EXPECTED = "/ZAj6PJNy4rsqtpSC95Gv2jeFy0IX95XyOVFW5QMUsw="


def test_signature_matches_fixed_vector() -> None:
    assert sign(API_KEY, API_SECRET, STAMP) == EXPECTED


def test_signature_is_44_char_padded_base64_of_32_bytes() -> None:
    signature = sign(API_KEY, API_SECRET, STAMP)
    assert len(signature) == 44 and signature.endswith("=")
    assert len(base64.b64decode(signature)) == 32


def test_signature_depends_on_stamp_and_key() -> None:
    assert sign(API_KEY, API_SECRET, STAMP + 1) != EXPECTED
    assert sign(API_KEY + "x", API_SECRET, STAMP) != EXPECTED


def test_headers_carry_same_stamp_as_signature() -> None:
    headers = auth_headers(API_KEY, API_SECRET, STAMP)
    assert headers == {
        "X-PCK": API_KEY,
        "X-Stamp": str(STAMP),
        "X-Signature": EXPECTED,
        "Content-Type": "application/json",
    }


def test_bad_secret_raises_auth_error_without_echoing_it() -> None:
    secret = "not base64 !!! s3cr3t"
    with pytest.raises(AuthError) as info:
        sign(API_KEY, secret, STAMP)
    assert secret not in str(info.value)
    assert "s3cr3t" not in str(info.value)
