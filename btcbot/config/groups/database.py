"""database: where state lives."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from btcbot.config.groups._base import Group


class DatabaseSettings(Group):
    url: str = Field("sqlite:///btcbot.db", description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.")
    busy_timeout_ms: int = Field(5000, ge=0, le=600000, description="SQLite busy timeout.")
    lease_ttl_s: float = Field(300.0, ge=5, le=86400, description="Instance lease expiry; renewed every cycle.")
    retention_days: int = Field(30, ge=1, le=3650, description="Journal events, cycle records and snapshots older than this many days are pruned (once a day, by `run` and `once`); orders, fills and the ledger never are.")
    outage_alert_s: float = Field(60.0, ge=0, le=86400, description="`btcbot run`: alert (and log an error) once the database has been unreachable this long.")
    outage_limit_s: float = Field(600.0, ge=1, le=86400, description="`btcbot run`: exit 4 when the database stays unreachable this long (retried with backoff until then; no cycle runs meanwhile).")

    @model_validator(mode="after")
    def _alert_before_limit(self) -> DatabaseSettings:
        if self.outage_alert_s >= self.outage_limit_s:
            raise ValueError("outage_alert_s must be smaller than outage_limit_s (else the bot exits before it alerts)")
        return self

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value.startswith("postgresql://"):  # the one PostgreSQL driver we ship is psycopg 3
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("only sqlite:///PATH and postgresql+psycopg://USER@HOST/DB are supported")
        return value
