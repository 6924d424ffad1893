"""Secret loading: env / .env / file with strict mode, base64 validation, never printed."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from btcbot.config.secrets import load_credentials
from btcbot.config.settings import load_settings
from btcbot.domain.errors import ConfigError

SECRET = base64.b64encode(b"super-secret-key-material-123456").decode()


def test_secret_from_environment() -> None:
    s = load_settings(environ={"BTCBOT_AUTH__API_KEY": "pub", "BTCBOT_AUTH__API_SECRET": SECRET}).settings
    creds = load_credentials(s, required=True)
    assert creds is not None and creds.api_secret.get_secret_value() == SECRET
    assert SECRET not in repr(creds) and SECRET not in repr(s) and SECRET not in str(s)


def test_secret_file_must_be_0600(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    os.chmod(path, 0o644)
    s = load_settings(environ={"BTCBOT_AUTH__API_KEY": "pub", "BTCBOT_AUTH__API_SECRET_FILE": str(path)}).settings
    with pytest.raises(ConfigError, match="0600"):
        load_credentials(s, required=True)
    os.chmod(path, 0o600)
    creds = load_credentials(s, required=True)
    assert creds is not None and creds.api_secret.get_secret_value() == SECRET


def test_malformed_base64_secret_is_named_without_echoing_it() -> None:
    bad = "not*base64*at*all"
    s = load_settings(environ={"BTCBOT_AUTH__API_KEY": "pub", "BTCBOT_AUTH__API_SECRET": bad}).settings
    with pytest.raises(ConfigError) as info:
        load_credentials(s, required=True)
    assert "base64" in str(info.value) and bad not in str(info.value)


def test_missing_key_in_live_mode_is_named() -> None:
    s = load_settings(environ={}).settings
    with pytest.raises(ConfigError, match="BTCBOT_AUTH__API_KEY"):
        load_credentials(s, required=True)
    assert load_credentials(s, required=False) is None
