"""``btcbot config check``: validate and print the effective settings, secrets redacted."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import BaseModel, SecretStr

from btcbot.cli.context import CliContext
from btcbot.config.settings import Settings


def _flatten(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            rows.update(_flatten(value, key + "."))
        elif isinstance(value, SecretStr):
            rows[key] = "**********" if value.get_secret_value() else ""
        elif isinstance(value, (tuple, list)):
            rows[key] = [str(v) for v in value]
        elif isinstance(value, dict):
            rows[key] = {str(k): str(v) for k, v in value.items()}
        else:
            rows[key] = None if value is None else str(value)
    return rows


@click.group("config")
def config_group() -> None:
    """Settings: validate and show."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def check(obj: CliContext, as_json: bool) -> None:
    """Validate settings (and credentials for live mode); print them with secrets redacted.

    Exit 0 when valid, 2 with one line naming the problem otherwise.
    """
    from btcbot.config.secrets import load_credentials

    loaded = obj.load()
    settings: Settings = loaded.settings
    load_credentials(settings, required=not settings.trading.dry_run)
    rows = _flatten(settings)
    if as_json:
        click.echo(json.dumps({"settings": rows, "sources": dict(loaded.sources)}, indent=2, sort_keys=True))
        return
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        source = loaded.sources.get(key)
        shown = json.dumps(value) if isinstance(value, (list, dict)) else ("" if value is None else value)
        suffix = f"    <- {source}" if source else ""
        click.echo(f"{key:<{width}} = {shown}{suffix}")
    mode = "PAPER (dry run)" if settings.trading.dry_run else "LIVE"
    click.echo(f"settings OK; mode: {mode}; universe: {', '.join(settings.trading.symbols)}")
