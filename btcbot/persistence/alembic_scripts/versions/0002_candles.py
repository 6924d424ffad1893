"""candles table

Revision ID: 0002_candles
Revises: 0001_initial
Create Date: 2026-11-25 13:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0002_candles'
down_revision: str | None = '0001_initial'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Prices and volume are VARCHAR(80) exact decimal strings (see btcbot.persistence.types).
    op.create_table('candles',
    sa.Column('symbol', sa.String(length=20), nullable=False),
    sa.Column('interval_s', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('open_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('open', sa.String(length=80), nullable=False),
    sa.Column('high', sa.String(length=80), nullable=False),
    sa.Column('low', sa.String(length=80), nullable=False),
    sa.Column('close', sa.String(length=80), nullable=False),
    sa.Column('volume', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('symbol', 'interval_s', 'open_time', name=op.f('pk_candles'))
    )


def downgrade() -> None:
    op.drop_table('candles')
