"""What the top-level CLI options hand to every command (the core never imports click)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from btcbot.observability.redaction import Redactor

if TYPE_CHECKING:  # the settings (pydantic) are imported when a command loads them, not by --help
    from btcbot.config.settings import LoadedSettings, Settings


@dataclass
class CliContext:
    env_file: Path | None = None
    log_format: str | None = None
    log_level: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    _loaded: LoadedSettings | None = None
    redactor: Redactor = field(default_factory=Redactor)
    telemetry: Any = None

    def load(self) -> LoadedSettings:
        """Load and validate settings once, then configure logging from them."""
        if self._loaded is None:
            from btcbot.config.settings import load_settings

            overrides = dict(self.overrides)
            if self.log_format:
                overrides["BTCBOT_OBSERVABILITY__LOG_FORMAT"] = self.log_format
            if self.log_level:
                overrides["BTCBOT_OBSERVABILITY__LOG_LEVEL"] = self.log_level.upper()
            self._loaded = load_settings(env_file=self.env_file, overrides=overrides)
            self._configure_logging()
            if self._loaded.notices:
                from loguru import logger

                for notice in self._loaded.notices:
                    logger.bind(event="settings.removed", outcome="ignored").warning(notice)
        return self._loaded

    def reload(self) -> Settings:
        """Settings as they are on disk/in the environment now (for change detection only)."""
        from btcbot.config.settings import load_settings

        return load_settings(env_file=self.env_file, overrides=self.overrides).settings

    def _configure_logging(self) -> None:
        from btcbot.config.secrets import secret_values
        from btcbot.observability.logging import configure_logging

        assert self._loaded is not None
        settings = self._loaded.settings
        secrets = secret_values(settings)
        if settings.auth.api_key:
            secrets.append(settings.auth.api_key)
        self.redactor = configure_logging(
            level=settings.observability.log_level,
            fmt=settings.observability.log_format,
            service=settings.observability.service_name,
            secrets=secrets,
        )
