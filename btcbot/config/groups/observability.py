"""observability: logs, metrics, traces, alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from btcbot.config.groups._base import Group


class ObservabilitySettings(Group):
    log_level: Literal["TRACE", "DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Minimum log level.")
    log_format: Literal["json", "console"] = Field("json", description="JSON lines (default) or human console output.")
    service_name: str = Field("btcbot", description="`service` field of every log line and trace.")
    metrics_port: int = Field(0, ge=0, le=65535, description="Port for /metrics and /healthz in `btcbot run` (0 = off).")
    metrics_host: str = Field("127.0.0.1", description="Address the metrics server binds.")
    metrics_textfile: Path | None = Field(None, description="File `btcbot once` writes metrics to (node_exporter textfile).")
    healthz_max_age_s: float = Field(300.0, gt=0, le=604800, description="/healthz fails when the last cycle is older than this.")
    otel_exporter_endpoint: str | None = Field(None, description="OTLP/HTTP endpoint; unset = tracing is a no-op.")
    alert_webhook_url: str | None = Field(None, description="Generic JSON webhook for alerts; unset = alerts only logged.")
    alert_payload_format: Literal["generic", "slack", "telegram"] = Field("generic", description="Shape of the webhook body.")
    alert_telegram_chat_id: str | None = Field(None, description="chat_id for the telegram payload format.")
    alert_min_interval_s: float = Field(300.0, ge=0, le=604800, description="Same-kind alerts closer than this are suppressed.")

    @field_validator("alert_webhook_url", "otel_exporter_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("metrics_textfile")
    @classmethod
    def _writable_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.parent.is_dir():
            raise ValueError(f"directory {value.parent} does not exist")
        return value

    @model_validator(mode="after")
    def _telegram_needs_chat(self) -> ObservabilitySettings:
        if self.alert_payload_format == "telegram" and self.alert_webhook_url and not self.alert_telegram_chat_id:
            raise ValueError("alert_payload_format=telegram needs BTCBOT_OBSERVABILITY__ALERT_TELEGRAM_CHAT_ID")
        return self
