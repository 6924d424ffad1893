"""The root settings model and how it is loaded.

Precedence, decided here in code: defaults < ``.env`` file < process environment < CLI overrides.
Every key must be known: a mistyped ``BTCBOT_`` variable (in the environment or the .env file) is
an error naming it, never silently ignored. Loading errors are ConfigError with one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from btcbot.config.dotenv_file import read_env_file
from btcbot.config.groups.auth import AuthSettings
from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.database import DatabaseSettings
from btcbot.config.groups.exchange import ExchangeSettings
from btcbot.config.groups.observability import ObservabilitySettings
from btcbot.config.groups.resilience import ResilienceSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.groups.trading import TradingSettings
from btcbot.domain.errors import ConfigError

PREFIX = "BTCBOT_"
DELIMITER = "__"

#: BTCBOT_ variables that are not settings (tooling and tests); documented in the README.
NON_SETTING_VARIABLES = frozenset(
    {"BTCBOT_TEST_POSTGRES_URL", "BTCBOT_FAILPOINTS", "BTCBOT_HOME", "BTCBOT_SKIP_INSTALL", "BTCBOT_CREATE_DB"}
)


#: Settings that existed once and are read by nothing any more: still accepted (so an old .env keeps
#: working) but ignored, with a notice naming them (``LoadedSettings.notices``, logged at start).
#: The migration for each is in docs/operations.md ("Removed settings").
REMOVED_SETTINGS: dict[str, str] = {
    "BTCBOT_EXCHANGE__RECV_WINDOW": "no code ever read it: BTC Turk's stamp window is fixed (+-5 s) and the "
                                    "bot keeps its clock offset in sync instead",
}


class Settings(BaseSettings):
    """All settings. Frozen; build with :func:`load_settings`."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    trading: TradingSettings = Field(default_factory=TradingSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    capital: CapitalSettings = Field(default_factory=CapitalSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() merges the layers itself (so it can name the source of every value);
        # the model only ever validates what it is given.
        return (init_settings,)

    @model_validator(mode="after")
    def _per_symbol_maps_name_the_universe(self) -> Settings:
        universe = set(self.trading.symbols)
        for name, keys in (
            ("BTCBOT_RISK__MAX_POSITION_PER_ASSET", self.risk.max_position_per_asset),
            ("BTCBOT_RISK__MAX_NOTIONAL_OVERRIDES", self.risk.max_notional_overrides),
            ("BTCBOT_CAPITAL__ASSET_WEIGHTS", self.capital.asset_weights),
        ):
            outside = sorted(set(keys) - universe)
            if outside:
                raise ValueError(f"{name} names symbols outside trading.symbols: {', '.join(outside)}")
        return self

    @model_validator(mode="after")
    def _one_secret_source(self) -> Settings:
        """Both secret sources set is ambiguous (which one signs?): refused for every command."""
        if self.auth.api_secret is not None and self.auth.api_secret_file is not None:
            empty = " (BTCBOT_AUTH__API_SECRET is set but empty: delete that line)" \
                if not self.auth.api_secret.get_secret_value() else ""
            raise ValueError(
                "BTCBOT_AUTH__API_SECRET and BTCBOT_AUTH__API_SECRET_FILE are both set: set only one"
                f" (the file keeps the secret out of the environment){empty}"
            )
        return self

    @model_validator(mode="after")
    def _live_needs_credentials(self) -> Settings:
        if not self.trading.dry_run:
            missing = []
            if not self.auth.api_key:
                missing.append("BTCBOT_AUTH__API_KEY")
            if self.auth.api_secret is None and self.auth.api_secret_file is None:
                missing.append("BTCBOT_AUTH__API_SECRET (or BTCBOT_AUTH__API_SECRET_FILE)")
            if missing:
                raise ValueError(
                    "live trading (trading.dry_run=false) needs credentials; missing " + ", ".join(missing)
                )
        return self


@dataclass(frozen=True)
class LoadedSettings:
    """Validated settings plus where each non-default value came from (for ``config check``)."""

    settings: Settings
    sources: Mapping[str, str] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    """One line per removed setting that is still set (ignored); the CLI logs them as warnings."""


def _env_name(path: tuple[str, ...]) -> str:
    return PREFIX + DELIMITER.join(p.upper() for p in path)


def _path_of(name: str) -> tuple[str, ...]:
    return tuple(part.lower() for part in name[len(PREFIX):].split(DELIMITER))


def _decode(value: str) -> Any:
    text = value.strip()
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any, name: str) -> None:
    node = tree
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{name}: conflicts with another setting of the same group")
        node = child
    node[path[-1]] = value


def _collect(
    layer: Mapping[str, str], origin: str, tree: dict[str, Any], sources: dict[str, str], notices: list[str]
) -> None:
    for name, value in layer.items():
        if not name.upper().startswith(PREFIX) or name.upper() in NON_SETTING_VARIABLES:
            continue
        upper = name.upper()
        if upper in REMOVED_SETTINGS:
            notices.append(f"setting {upper} ({origin}) was removed and is ignored: {REMOVED_SETTINGS[upper]}; "
                           "delete it (docs/operations.md, Removed settings)")
            continue
        path = _path_of(upper)
        if len(path) < 2 or any(not part for part in path):
            raise ConfigError(f"unknown setting {upper} ({origin}): expected BTCBOT_<GROUP>__<NAME>")
        _set(tree, path, _decode(value), upper)
        sources[".".join(path)] = f"{origin} ({upper})"


def _format_error(error: ValidationError, sources: Mapping[str, str]) -> str:
    first = error.errors()[0]
    loc = tuple(str(p) for p in first["loc"] if not isinstance(p, int))
    dotted = ".".join(loc)
    where = sources.get(dotted)
    name = _env_name(loc) if loc else "settings"
    if first["type"] == "extra_forbidden":
        if where is None:  # an unknown group: name the first variable that used it
            for key in sorted(sources):
                if key.startswith(dotted + "."):
                    where = sources[key]
                    name = where.rsplit("(", 1)[-1].rstrip(")")
                    break
        origin = f" ({where.split(' (')[0]})" if where else ""
        return f"unknown setting {name}{origin}: no such setting; check the spelling"
    message = str(first["msg"]).removeprefix("Value error, ")
    if not loc:
        return f"invalid settings: {message}"
    origin = f" [from {where}]" if where else ""
    return f"invalid setting {name}: {message}{origin}"


def load_settings(
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Build the settings from the layers. Raises ConfigError with one line on any problem.

    ``env_file``: path given with ``--env-file``; None means ``./.env`` if it exists.
    ``overrides``: CLI overrides as ``BTCBOT_...`` names (highest precedence).
    """
    environ = os.environ if environ is None else environ
    tree: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if env_file is None:
        default = Path(".env")
        dotenv_values = read_env_file(default) if default.is_file() else {}
        dotenv_label = ".env"
    else:
        if not env_file.is_file():
            raise ConfigError(f"--env-file {env_file}: no such file")
        dotenv_values = read_env_file(env_file)
        dotenv_label = str(env_file)
    notices: list[str] = []
    _collect(dotenv_values, dotenv_label, tree, sources, notices)
    _collect(environ, "environment", tree, sources, notices)
    _collect(overrides or {}, "command line", tree, sources, notices)
    try:
        settings = Settings(**tree)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, sources)) from None
    except ValueError as exc:  # e.g. json in a value pydantic could not coerce
        raise ConfigError(f"invalid settings: {exc}") from None
    return LoadedSettings(settings=settings, sources=sources, notices=tuple(notices))
