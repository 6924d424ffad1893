"""What is configured is installed: optional packages that a setting needs.

``observability.otel_exporter_endpoint`` needs the ``otel`` extra (``opentelemetry-sdk`` and
``opentelemetry-exporter-otlp-proto-http``); the base install has only ``opentelemetry-api``.
Without them tracing would silently be off, so ``config check`` and the start of ``run``/``once``
fail instead (ConfigError, exit 2) with the command that installs them into this interpreter.

Only module specs are looked up (``importlib.util.find_spec``): nothing is imported, so the check
costs well under a millisecond and does not start the SDK.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
from pathlib import Path

from btcbot.domain.errors import ConfigError

EXTRA = "otel"
#: distribution name -> the module it must provide.
OTEL_PACKAGES: dict[str, str] = {
    "opentelemetry-sdk": "opentelemetry.sdk.trace",
    "opentelemetry-exporter-otlp-proto-http": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or a blocked import
        return False


def missing_otel_packages() -> list[str]:
    """Distribution names of the ``otel`` extra that are not importable here (empty when complete)."""
    return [dist for dist, module in OTEL_PACKAGES.items() if not _importable(module)]


def _checkout_root() -> Path | None:
    """The source checkout btcbot runs from (editable install, ``./run.sh``), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "setup.cfg").is_file() and (root / "btcbot").is_dir() else None


def install_command(extra: str = EXTRA) -> str:
    """The exact command that installs ``extra`` into the running interpreter's environment:
    ``<venv>/bin/python -m pip install -e '<checkout>[otel]'`` for a checkout (what ``./run.sh``
    set up), ``... -m pip install 'btcbot[otel]'`` for a wheel install."""
    root = _checkout_root()
    target = f"-e {shlex.quote(f'{root}[{extra}]')}" if root is not None else shlex.quote(f"btcbot[{extra}]")
    return f"{shlex.quote(sys.executable)} -m pip install {target}"


def require_tracing_packages(endpoint: str | None) -> None:
    """Raise ConfigError (exit 2) when ``endpoint`` is set but the ``otel`` extra is missing."""
    if not endpoint:
        return
    missing = missing_otel_packages()
    if missing:
        raise ConfigError(
            f"observability.otel_exporter_endpoint is set but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed; install the otel extra with: "
            f"{install_command()}  (or unset BTCBOT_OBSERVABILITY__OTEL_EXPORTER_ENDPOINT)"
        )
