"""auth: API credentials. The secret is a SecretStr and never printed."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from btcbot.config.groups._base import Group


class AuthSettings(Group):
    api_key: str | None = Field(None, description="BTC Turk public key (X-PCK).")
    api_secret: SecretStr | None = Field(None, description="BTC Turk private key, base64 as issued.")
    api_secret_file: Path | None = Field(None, description="File holding the private key instead (mode 0600 or stricter).")
