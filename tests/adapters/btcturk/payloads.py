"""Test payloads: the copied BTC Turk examples and our crafted ones (tests/fixtures/btcturk)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "btcturk"
SHARED_EXAMPLES = REPO_ROOT / ".." / "shared" / "btcturk_examples"

API_KEY = "a1b2c3d4-0000-4000-8000-1234567890ab"
#: base64 of b"btcbot-test-secret-key-0123456789" (a made-up test secret).
API_SECRET = "YnRjYm90LXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg5"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def doc(name: str) -> Any:
    """Decoded like the client does: floats as Decimal."""
    return json.loads(raw(name), parse_float=Decimal)


def body(name: str) -> str:
    return raw(name).decode("utf-8")
