"""Strict ``.env`` reading: a malformed line is an error naming the file and line, not a warning."""

from __future__ import annotations

import io
from pathlib import Path

from dotenv.parser import parse_stream

from btcbot.domain.errors import ConfigError


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read env file {path}: {exc.__class__.__name__}") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            raise ConfigError(f"malformed line {line} in {path}: expected NAME=value")
        if binding.key is None:
            continue  # blank line or comment
        if binding.value is None:
            raise ConfigError(f"malformed line {binding.original.line} in {path}: {binding.key} has no value")
        values[binding.key] = binding.value
    return values
