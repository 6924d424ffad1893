"""database: where state lives."""

from __future__ import annotations

from pydantic import Field, field_validator

from btcbot.config.groups._base import Group


class DatabaseSettings(Group):
    url: str = Field("sqlite:///btcbot.db", description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.")
    busy_timeout_ms: int = Field(5000, ge=0, le=600000, description="SQLite busy timeout.")
    lease_ttl_s: float = Field(300.0, ge=5, le=86400, description="Instance lease expiry; renewed every cycle.")
    retention_days: int = Field(30, ge=1, le=3650, description="Journal, cycle and replay rows older than this are pruned.")

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value.startswith("postgresql://"):  # the one PostgreSQL driver we ship is psycopg 3
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("only sqlite:///PATH and postgresql+psycopg://USER@HOST/DB are supported")
        return value
