"""BTC Turk request signing (Authentication V1): pure functions, no clock, no I/O.

The signature covers only ``<api_key><stamp_ms>`` (not the method, path or body): HMAC-SHA256
keyed with the base64-DECODED secret, output standard base64 with padding (44 characters).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from btcbot.domain.errors import AuthError


def sign(api_key: str, secret_b64: str, stamp_ms: int) -> str:
    """Return the ``X-Signature`` value for ``stamp_ms``.

    Raises AuthError (without echoing the secret) when the secret is not valid base64.
    """
    try:
        key = base64.b64decode(secret_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        # Never include the secret (or a fragment of it) in the message.
        raise AuthError("API secret is not valid base64") from None
    message = f"{api_key}{stamp_ms}".encode()
    mac = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def auth_headers(api_key: str, secret_b64: str, stamp_ms: int) -> dict[str, str]:
    """Headers for one private request; X-Stamp and X-Signature use the same stamp."""
    return {
        "X-PCK": api_key,
        "X-Stamp": str(stamp_ms),
        "X-Signature": sign(api_key, secret_b64, stamp_ms),
        "Content-Type": "application/json",
    }
