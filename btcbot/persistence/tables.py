"""ORM tables (SQLAlchemy 2 typed mappings). Rows never leave ``persistence``: mappers turn
them into domain values (``btcbot.persistence.mappers``).

A MetaData naming convention makes every constraint and index name deterministic, so alembic
migrations are identical on SQLite and PostgreSQL and batch mode (SQLite) can find them.
No foreign keys point at ``cycles`` or ``order_events``: retention prunes those.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from btcbot.persistence.types import ExactDecimal, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(50), unique=True)
    exchange_order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    cycle_id: Mapped[int] = mapped_column(BigInteger)
    strategy_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    type: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    quote_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    filled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    filled_quote: Mapped[Decimal] = mapped_column(ExactDecimal)
    fees_paid: Mapped[Decimal] = mapped_column(ExactDecimal)
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    reject_code: Mapped[int | None] = mapped_column(Integer)
    risk_increasing: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrderEventRow(Base):
    """Append-only journal. ``client_order_id`` is NULL for trading-state changes."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str | None] = mapped_column(String(50), index=True)
    cycle_id: Mapped[int | None] = mapped_column(BigInteger)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FillRow(Base):
    __tablename__ = "fills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    exchange_order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    client_order_id: Mapped[str | None] = mapped_column(String(50), index=True)
    symbol: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    tax: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee_asset: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    cycle_id: Mapped[int | None] = mapped_column(BigInteger)


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(BigInteger, index=True)
    asset: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    ref: Mapped[str] = mapped_column(String(100), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    cycle_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class LedgerBalanceRow(Base):
    """Running balance per (account, asset), updated in the same transaction as the entries.

    Makes balance look-ups O(1) whatever the history; ``check_invariants`` recomputes it.
    """

    __tablename__ = "ledger_balances"

    account: Mapped[str] = mapped_column(String(16), primary_key=True)
    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)


class CycleRow(Base):
    __tablename__ = "cycles"

    cycle_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    safe_mode: Mapped[bool] = mapped_column(Boolean)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(Integer)
    decision_inputs: Mapped[str | None] = mapped_column(Text)
    settings_hash: Mapped[str | None] = mapped_column(String(64))


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    high_water_mark: Mapped[Decimal] = mapped_column(ExactDecimal)
    day_start_equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    day_key: Mapped[str] = mapped_column(String(10))
    reserve_bucket: Mapped[Decimal] = mapped_column(ExactDecimal)
    rolling_notional_30d: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized_pnl_mtd: Mapped[Decimal] = mapped_column(ExactDecimal)
    month_key: Mapped[str] = mapped_column(String(7))
    harvested_mtd: Mapped[Decimal] = mapped_column(ExactDecimal)


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)


class TradingStateRow(Base):
    """Single row (``id`` = 1)."""

    __tablename__ = "trading_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    since: Mapped[datetime] = mapped_column(UtcDateTime)


class BreakerRow(Base):
    __tablename__ = "breakers"

    group: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    probes_ok: Mapped[int] = mapped_column(Integer)


class LeaseRow(Base):
    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_host: Mapped[str] = mapped_column(String(255))
    owner_pid: Mapped[int] = mapped_column(Integer)
    token: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MetaRow(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CandleRow(Base):
    """One closed bar (``btcbot.persistence.candles.SqlCandleStore``); prices and volume exact."""

    __tablename__ = "candles"

    symbol: Mapped[str] = mapped_column(String(20), primary_key=True)
    interval_s: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    open_time: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    open: Mapped[Decimal] = mapped_column(ExactDecimal)
    high: Mapped[Decimal] = mapped_column(ExactDecimal)
    low: Mapped[Decimal] = mapped_column(ExactDecimal)
    close: Mapped[Decimal] = mapped_column(ExactDecimal)
    volume: Mapped[Decimal] = mapped_column(ExactDecimal)
