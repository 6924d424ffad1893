"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25 13:21:44.718017
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0001_initial'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Money columns are VARCHAR(80) holding exact decimal strings (see btcbot.persistence.types).
    op.create_table('breakers',
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('probes_ok', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('group', name=op.f('pk_breakers'))
    )
    op.create_table('cycles',
    sa.Column('cycle_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('safe_mode', sa.Boolean(), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('decision_inputs', sa.Text(), nullable=True),
    sa.Column('settings_hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_cycles'))
    )
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycles_started_at'), ['started_at'], unique=False)

    op.create_table('fills',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('trade_id', sa.BigInteger(), nullable=False),
    sa.Column('exchange_order_id', sa.BigInteger(), nullable=False),
    sa.Column('client_order_id', sa.String(length=50), nullable=True),
    sa.Column('symbol', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('price', sa.String(length=80), nullable=False),
    sa.Column('quantity', sa.String(length=80), nullable=False),
    sa.Column('fee', sa.String(length=80), nullable=False),
    sa.Column('tax', sa.String(length=80), nullable=False),
    sa.Column('fee_asset', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cycle_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fills')),
    sa.UniqueConstraint('trade_id', name=op.f('uq_fills_trade_id'))
    )
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fills_client_order_id'), ['client_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fills_exchange_order_id'), ['exchange_order_id'], unique=False)

    op.create_table('lease',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('owner_host', sa.String(length=255), nullable=False),
    sa.Column('owner_pid', sa.Integer(), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_lease'))
    )
    op.create_table('ledger_balances',
    sa.Column('account', sa.String(length=16), nullable=False),
    sa.Column('asset', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('account', 'asset', name=op.f('pk_ledger_balances'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger(), nullable=False),
    sa.Column('asset', sa.String(length=16), nullable=False),
    sa.Column('account', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.String(length=80), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('cycle_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_ref'), ['ref'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('order_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client_order_id', sa.String(length=50), nullable=True),
    sa.Column('cycle_id', sa.BigInteger(), nullable=True),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_events_client_order_id'), ['client_order_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client_order_id', sa.String(length=50), nullable=False),
    sa.Column('exchange_order_id', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('cycle_id', sa.BigInteger(), nullable=False),
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('quantity', sa.String(length=80), nullable=False),
    sa.Column('price', sa.String(length=80), nullable=True),
    sa.Column('quote_amount', sa.String(length=80), nullable=True),
    sa.Column('filled_quantity', sa.String(length=80), nullable=False),
    sa.Column('filled_quote', sa.String(length=80), nullable=False),
    sa.Column('fees_paid', sa.String(length=80), nullable=False),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('reject_code', sa.Integer(), nullable=True),
    sa.Column('risk_increasing', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('client_order_id', name=op.f('uq_orders_client_order_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_exchange_order_id'), ['exchange_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_state'), ['state'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_id', ['status', 'id'], unique=False)

    op.create_table('snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('cycle_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('equity', sa.String(length=80), nullable=False),
    sa.Column('high_water_mark', sa.String(length=80), nullable=False),
    sa.Column('day_start_equity', sa.String(length=80), nullable=False),
    sa.Column('day_key', sa.String(length=10), nullable=False),
    sa.Column('reserve_bucket', sa.String(length=80), nullable=False),
    sa.Column('rolling_notional_30d', sa.String(length=80), nullable=False),
    sa.Column('realized_pnl_mtd', sa.String(length=80), nullable=False),
    sa.Column('month_key', sa.String(length=7), nullable=False),
    sa.Column('harvested_mtd', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshots'))
    )
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshots_at'), ['at'], unique=False)

    op.create_table('trading_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trading_state'))
    )


def downgrade() -> None:
    op.drop_table('trading_state')
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshots_at'))

    op.drop_table('snapshots')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_id')

    op.drop_table('outbox')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_state'))
        batch_op.drop_index(batch_op.f('ix_orders_exchange_order_id'))

    op.drop_table('orders')
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_events_client_order_id'))
        batch_op.drop_index(batch_op.f('ix_order_events_at'))

    op.drop_table('order_events')
    op.drop_table('meta')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_ref'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_batch_id'))

    op.drop_table('ledger_entries')
    op.drop_table('ledger_balances')
    op.drop_table('lease')
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fills_exchange_order_id'))
        batch_op.drop_index(batch_op.f('ix_fills_client_order_id'))

    op.drop_table('fills')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycles_started_at'))

    op.drop_table('cycles')
    op.drop_table('breakers')
