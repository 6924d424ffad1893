"""``btcbot config check``: validate and print the effective settings, secrets redacted."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from pydantic import BaseModel, SecretStr

from btcbot.app.venue_check import NOT_VERIFIED_OFFLINE, Check
from btcbot.cli.context import CliContext
from btcbot.cli.errors import CommandExit
from btcbot.cli.exit_codes import ExitCode
from btcbot.config.settings import Settings

MASK = "**********"

#: Settings printed fully masked: the API key is the X-PCK header value, which never leaves the
#: process in clear (logs mask it too).
_MASKED = frozenset({"auth.api_key"})

#: URLs whose path or query carries a token (Slack/Telegram/generic webhooks): only scheme://host
#: is shown.
_URL_WITH_TOKEN = frozenset({"observability.alert_webhook_url"})


def _mask_url(text: str, *, hide_path: bool) -> str:
    """Hide the password of ``scheme://user:password@host`` (database URLs) and, for webhook URLs,
    everything after the host."""
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return MASK if hide_path else text
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    if hide_path:
        tail = "/" + MASK if (parts.path.strip("/") or parts.query) else ""
        return f"{parts.scheme}://{netloc}{tail}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _flatten(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            rows.update(_flatten(value, key + "."))
        elif isinstance(value, SecretStr):
            rows[key] = MASK if value.get_secret_value() else ""
        elif key in _MASKED and value is not None:
            rows[key] = MASK if str(value) else ""
        elif isinstance(value, str) and "://" in value:
            rows[key] = _mask_url(value, hide_path=key in _URL_WITH_TOKEN)
        elif key in _URL_WITH_TOKEN and value is not None:
            rows[key] = _mask_url(str(value), hide_path=True)
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
@click.option("--online", is_flag=True,
              help="Also check against the exchange (read-only calls): symbols listed and TRADING, "
                   "credentials accepted, clock skew.")
@click.pass_obj
def check(obj: CliContext, as_json: bool, online: bool) -> None:
    """Validate settings (and credentials for live mode); print them with secrets redacted.

    Exit 0 when valid, 2 with one line naming the problem otherwise. Offline it cannot know
    whether the symbols exist, the credentials work or the clock is right: --online checks
    them with read-only calls (one OK/WARN/FAIL/SKIP line each; exit 2 when one FAILs).
    """
    from btcbot.config.secrets import load_credentials
    from btcbot.observability.extras import require_tracing_packages
    from btcbot.strategies.registry import load_strategy

    loaded = obj.load()
    settings: Settings = loaded.settings
    load_credentials(settings, required=not settings.trading.dry_run)
    # A strategy that cannot be built would stop `once`/`run` with exit 2: say so here already.
    load_strategy(settings.trading.strategy, settings.trading.strategy_id)
    # What is configured must be installed: an OTLP endpoint needs the otel extra.
    require_tracing_packages(settings.observability.otel_exporter_endpoint)
    rows = _flatten(settings)
    checks = _online(settings) if online else None
    if as_json:
        doc: dict[str, Any] = {"settings": rows, "sources": dict(loaded.sources)}
        if checks is None:
            doc["not_verified"] = list(NOT_VERIFIED_OFFLINE)
        else:
            doc["online"] = [c.to_json() for c in checks]
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        _exit_on_failure(checks)
        return
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        source = loaded.sources.get(key)
        shown = json.dumps(value) if isinstance(value, (list, dict)) else ("" if value is None else value)
        suffix = f"    <- {source}" if source else ""
        click.echo(f"{key:<{width}} = {shown}{suffix}")
    mode = "PAPER (dry run)" if settings.trading.dry_run else "LIVE"
    click.echo(f"settings OK; mode: {mode}; universe: {', '.join(settings.trading.symbols)}")
    if checks is None:
        click.echo(f"not verified offline: {'; '.join(NOT_VERIFIED_OFFLINE)}; "
                   "run `btcbot config check --online` (read-only calls to the exchange)")
        return
    for c in checks:
        click.echo(f"{c.status:<5} {c.name:<12} {c.detail}")
    _exit_on_failure(checks)


def _online(settings: Settings) -> list[Check]:
    from btcbot.app.venue_check import online_checks

    return online_checks(settings)


def _exit_on_failure(checks: list[Check] | None) -> None:
    """Exit 2 when an online check failed (its line already names the problem)."""
    if checks is not None and any(c.status == "FAIL" for c in checks):
        raise CommandExit(ExitCode.CONFIG)
