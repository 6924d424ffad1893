"""Programmatic alembic: ``upgrade``, ``downgrade``, ``current``, independent of the CWD.

The scripts ship inside the package (``btcbot/persistence/alembic_scripts``); the top-level
``alembic.ini`` points the CLI at the same directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from alembic import command
from btcbot.persistence.engine import create_engine_for

SCRIPT_LOCATION = Path(__file__).resolve().parent / "alembic_scripts"


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at the packaged scripts (``url`` optional)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _with_engine(url: str, action: str, revision: str) -> None:
    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            if action == "upgrade":
                command.upgrade(cfg, revision)
            else:
                command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the latest)."""
    _with_engine(url, "upgrade", revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"`` drops every table)."""
    _with_engine(url, "downgrade", revision)


def current_for_engine(engine: Engine) -> str | None:
    with engine.connect() as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
    return rev if rev is None else str(rev)


def current(url: str) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    engine = create_engine_for(url)
    try:
        return current_for_engine(engine)
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one alembic head, found {heads}")
    return str(heads[0])
