"""Markdown reference of every setting, generated from the models (``python -m btcbot.config.reference``).

The README's configuration table is this output; a test fails when a setting is missing there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from btcbot.config.settings import DELIMITER, PREFIX, Settings


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "(required)"
    else:
        value = info.default
    if value is None:
        return "unset"
    if isinstance(value, tuple):  # shown as the JSON the variable accepts
        return json.dumps([str(v) for v in value], separators=(",", ":"))
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)


def iter_settings() -> Iterator[tuple[str, str, str, str]]:
    """(group, env var, default, description) for every leaf setting, in model order."""
    for group_name, group_info in Settings.model_fields.items():
        model = group_info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, info in model.model_fields.items():
            env = f"{PREFIX}{group_name.upper()}{DELIMITER}{name.upper()}"
            yield group_name, env, _default(info), info.description or ""


def markdown_table() -> str:
    lines = ["| setting (environment variable) | default | meaning |", "|---|---|---|"]
    for _group, env, default, description in iter_settings():
        lines.append(f"| `{env}` | `{default}` | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
