"""HMAC verification of private requests exactly as BTC Turk does it (reference §2).

signature = base64(HMAC-SHA256(key=base64decode(secret), msg=f"{X-PCK}{X-Stamp}")); the stamp is
Unix ms and must be within the window of the server's time. Failures map to the documented 401s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping

HEADERS_MISSING = "Unauthorized - Headers are missing"
INVALID_PUBLIC_KEY = "Unauthorized - Invalid Public key"
INVALID_NONCE = "Unauthorized - Invalid Nonce"
INVALID_SIGNATURE = "Unauthorized - Invalid Signature"


def sign(api_key: str, api_secret: str, stamp_ms: int | str) -> str:
    """The X-Signature value for ``stamp_ms`` (shared by the admin client and tests)."""
    key = base64.b64decode(api_secret)
    mac = hmac.new(key, f"{api_key}{stamp_ms}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def signed_headers(api_key: str, api_secret: str, stamp_ms: int) -> dict[str, str]:
    """The three auth headers for one request."""
    return {"X-PCK": api_key, "X-Stamp": str(stamp_ms), "X-Signature": sign(api_key, api_secret, stamp_ms)}


def verify(
    headers: Mapping[str, str],
    *,
    api_key: str,
    api_secret: str,
    now_ms_candidates: Callable[[], tuple[int, ...]],
    window_s: float,
) -> str | None:
    """None if authentic, else the 401 message. ``headers`` keys must be lower-case."""
    pck = headers.get("x-pck")
    stamp = headers.get("x-stamp")
    signature = headers.get("x-signature")
    if not pck or not stamp or not signature:
        return HEADERS_MISSING
    if not hmac.compare_digest(pck.encode(), api_key.encode()):
        return INVALID_PUBLIC_KEY
    if not stamp.isdigit():
        return INVALID_NONCE
    stamp_ms = int(stamp)
    window_ms = window_s * 1000
    if not any(abs(stamp_ms - now) <= window_ms for now in now_ms_candidates()):
        return INVALID_NONCE
    if not hmac.compare_digest(signature.encode(), sign(api_key, api_secret, stamp).encode()):
        return INVALID_SIGNATURE
    return None
