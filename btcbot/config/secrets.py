"""Secret loading behind a small provider protocol (a vault adapter can be added later).

Sources, in order: the ``auth.api_secret`` setting (environment or .env), else the file named by
``auth.api_secret_file`` which must have mode 0600 or stricter. The secret must be valid base64
(BTC Turk issues it that way and the signature needs the decoded bytes).
"""

from __future__ import annotations

import base64
import binascii
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from btcbot.config.settings import Settings
from btcbot.domain.errors import ConfigError


class SecretProvider(Protocol):
    def api_secret(self) -> SecretStr | None: ...


@dataclass(frozen=True)
class SettingsSecretProvider:
    settings: Settings

    def api_secret(self) -> SecretStr | None:
        return self.settings.auth.api_secret


@dataclass(frozen=True)
class FileSecretProvider:
    path: Path

    def api_secret(self) -> SecretStr | None:
        try:
            mode = self.path.stat().st_mode
        except OSError:
            raise ConfigError(f"BTCBOT_AUTH__API_SECRET_FILE: cannot read {self.path}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"BTCBOT_AUTH__API_SECRET_FILE: {self.path} has mode {stat.S_IMODE(mode):04o}; "
                "it must be 0600 or stricter (chmod 600)"
            )
        text = self.path.read_text(encoding="utf-8").strip()
        return SecretStr(text) if text else None


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: SecretStr

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key[:4]}..., api_secret=**********)"


def provider_for(settings: Settings) -> SecretProvider:
    if settings.auth.api_secret is None and settings.auth.api_secret_file is not None:
        return FileSecretProvider(settings.auth.api_secret_file)
    return SettingsSecretProvider(settings)


def validate_secret(secret: SecretStr) -> None:
    try:
        decoded = base64.b64decode(secret.get_secret_value().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ConfigError("BTCBOT_AUTH__API_SECRET: not valid base64 (copy it exactly as BTC Turk issued it)") from None
    if not decoded:
        raise ConfigError("BTCBOT_AUTH__API_SECRET: decodes to nothing")


def load_credentials(settings: Settings, required: bool) -> Credentials | None:
    """Resolve and check the API credentials. ConfigError naming what is missing or malformed."""
    secret = provider_for(settings).api_secret()
    key = settings.auth.api_key
    if secret is None or not key:
        if required:
            missing = "BTCBOT_AUTH__API_KEY" if not key else "BTCBOT_AUTH__API_SECRET"
            raise ConfigError(f"{missing} is required for live trading")
        return None
    validate_secret(secret)
    return Credentials(api_key=key, api_secret=secret)


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret string, for the log redaction filter. Never log this list."""
    values: list[str] = []
    try:
        secret = provider_for(settings).api_secret()
    except ConfigError:
        secret = None
    if secret is not None and secret.get_secret_value():
        values.append(secret.get_secret_value())
    return values
