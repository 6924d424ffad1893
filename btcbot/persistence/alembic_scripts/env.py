"""Alembic environment: used by ``btcbot.persistence.migrations`` and by the alembic CLI.

The database URL comes from (first match): a connection passed in ``config.attributes``,
``config.get_main_option("sqlalchemy.url")``, or the env var ``BTCBOT_DATABASE__URL``.
SQLite uses batch mode so that ALTERs work.
"""

from __future__ import annotations

import os

from sqlalchemy import Connection

from alembic import context
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("BTCBOT_DATABASE__URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or BTCBOT_DATABASE__URL")
    return url


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine_for(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
