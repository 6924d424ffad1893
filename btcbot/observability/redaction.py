"""Masking of secrets in any text that leaves the process (logs, exception text, alerts).

Two rules: every configured secret value (API secret and key) is replaced wherever it appears,
and the values of the X-PCK / X-Signature headers are masked in any ``name: value`` /
``name=value`` / JSON rendering. Names such as ``BTCBOT_AUTH__API_SECRET`` in an error message are
left readable: only values are secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_HEADER_RE = re.compile(
    r"""(?P<name>X-PCK|X-Signature)(?P<sep>["']?\s*[:=]\s*["']?)(?P<value>[^\s"',;}\]]+)""",
    re.IGNORECASE,
)


class Redactor:
    """Immutable set of secret strings to mask. Short strings (< 4 chars) are ignored: masking
    them would shred ordinary text and they are not credible secrets."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if s and len(s) >= 4}
        # Longest first so a secret containing another is masked whole.
        self._secrets: tuple[str, ...] = tuple(sorted(unique, key=len, reverse=True))

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        return Redactor((*self._secrets, *secrets))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _HEADER_RE.sub(lambda m: f"{m.group('name')}{m.group('sep')}{MASK}", text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"
