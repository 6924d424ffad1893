"""``btcbot db upgrade``: apply alembic migrations programmatically."""

from __future__ import annotations

import click

from btcbot.cli.context import CliContext


@click.group("db")
def db_group() -> None:
    """Database schema management."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def upgrade(obj: CliContext, revision: str) -> None:
    """Create or migrate the database schema (safe to run repeatedly)."""
    from btcbot.persistence.migrations import upgrade as do_upgrade

    settings = obj.load().settings
    do_upgrade(settings.database.url, revision)
    click.echo(f"database at {revision}")
