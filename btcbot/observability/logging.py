"""loguru configuration: JSON lines (default) or a console format, both through one redacting sink.

Stable JSON fields (design document section 6): timestamp, level, service, cycle_id, symbol,
client_order_id, event, outcome, latency_ms, plus message and any other bound extras. Bind them
with ``logger.bind(...)`` or ``logger.contextualize(cycle_id=...)``; use semantic event names such
as ``risk.reject`` or ``order.submit.success``.

Every rendered line - including exception tracebacks - passes through the Redactor before it is
written, so a secret that ends up in an exception message never reaches the log.

One format per stream: with ``json`` every line the bot writes under ``run``/``once`` is one JSON
document (log records, the per-cycle summary, library warnings routed in from the standard
``logging`` module and ``warnings``, and the one-line error before an exit); with ``console``
every line is for people. Command output that belongs in the log goes through :func:`report`.

Amounts: :func:`fmt_amount` is the one place that turns a Decimal into log text (at most
``AMOUNT_PLACES`` decimals, trailing zeros dropped, never an exponent). Decimal extras are
rendered with it, and long decimals inside messages are shortened the same way, so no line carries
an 18- or 26-digit fraction. Logs show display values; exact amounts stay in the database
(``btcbot status --json``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from loguru import logger

from btcbot.observability.redaction import Redactor

STABLE_FIELDS = ("cycle_id", "symbol", "client_order_id", "event", "outcome", "latency_ms")
FORMATS = ("json", "console")
#: Where the format can be chosen before the settings are loaded (see :func:`requested_format`).
FORMAT_ENV = "BTCBOT_OBSERVABILITY__LOG_FORMAT"

#: Decimal places an amount keeps in a log line (satoshi precision; BTC Turk's finest scale).
AMOUNT_PLACES = 8
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(0, 19)}
#: A decimal literal with more than AMOUNT_PLACES fraction digits, or in exponent notation, that
#: is not part of a longer token (ids, versions, words).
_LONG_NUMBER_RE = re.compile(
    r"(?<![\w.])-?(?:\d+\.\d{" + str(AMOUNT_PLACES + 1) + r",}|\d+(?:\.\d+)?E[-+]?\d+)(?![\w.])"
)


def fmt_amount(value: Decimal | int | str, places: int = AMOUNT_PLACES) -> str:
    """A money amount as log text: rounded half-even to ``places`` decimals when it has more,
    trailing zeros dropped, plain notation (``Decimal("10000.000000000000000000")`` -> ``10000``,
    ``Decimal("0.333333333333333333333333333")`` -> ``0.33333333``, ``Decimal("1E-18")`` -> ``0``).
    Display only: never feed the result back into a computation."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(number)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        number = number.quantize(_QUANTA.get(places, Decimal(1).scaleb(-places)), rounding=ROUND_HALF_EVEN)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def normalize_numbers(text: str) -> str:
    """Shorten every long decimal literal in ``text`` with :func:`fmt_amount` (messages built by
    f-strings from Decimals); short numbers, ids and timestamps are left as they are."""
    return _LONG_NUMBER_RE.sub(lambda m: fmt_amount(m.group(0)), text)


def plain(value: Any) -> Any:
    """``value`` with every Decimal inside (mappings, lists, tuples) rendered by :func:`fmt_amount`."""
    if isinstance(value, Decimal):
        return fmt_amount(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _exception_text(record: Any) -> str | None:
    exc = record["exception"]
    if exc is None or exc.type is None:
        return None
    return "".join(traceback.format_exception(exc.type, exc.value, exc.traceback)).rstrip()


def _json_default(value: object) -> str:
    return str(value)


def _console_value(value: Any) -> str:
    value = plain(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class RedactingSink:
    """A loguru sink that renders a record itself and masks secrets in the whole output."""

    def __init__(self, stream: TextIO, fmt: str, service: str, redactor: Redactor) -> None:
        self._stream = stream
        self._fmt = fmt
        self._service = service
        self._redact = redactor

    def __call__(self, message: Any) -> None:
        record = message.record
        line = self._render_json(record) if self._fmt == "json" else self._render_console(record)
        # Redact first: a secret must be matched before anything rewrites the text around it.
        self._stream.write(normalize_numbers(self._redact(line)) + "\n")
        self._stream.flush()

    def _render_json(self, record: Any) -> str:
        extra = dict(record["extra"])
        doc: dict[str, Any] = {
            "timestamp": record["time"].astimezone(UTC).isoformat(timespec="milliseconds"),
            "level": record["level"].name,
            "service": self._service,
        }
        for field in STABLE_FIELDS:
            doc[field] = plain(extra.pop(field, None))
        doc["message"] = record["message"]
        for key in sorted(extra):
            doc[key] = plain(extra[key])
        exc = _exception_text(record)
        if exc is not None:
            doc["exception"] = exc
        return json.dumps(doc, default=_json_default, ensure_ascii=False)

    def _render_console(self, record: Any) -> str:
        extra = dict(record["extra"])
        stamp = record["time"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        head = f"{stamp} {record['level'].name:<7}"
        context = " ".join(f"{k}={_console_value(extra.pop(k))}" for k in STABLE_FIELDS if extra.get(k) is not None)
        rest = " ".join(f"{k}={_console_value(extra[k])}" for k in sorted(extra))
        line = " ".join(part for part in (head, record["message"], context, rest) if part)
        exc = _exception_text(record)
        return f"{line}\n{exc}" if exc else line


class _StdlibIntercept(logging.Handler):
    """Routes records of the standard ``logging`` module (urllib3, SQLAlchemy, OpenTelemetry's
    exporter, ``warnings`` via ``py.warnings``) into loguru, so they are rendered, redacted and
    formatted like every other line instead of appearing as plain text on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.bind(event="lib." + record.name).opt(depth=0, exception=record.exc_info).log(level, record.getMessage())


class _State:
    fmt: str | None = None
    redactor: Redactor = Redactor()
    stdout: TextIO | None = None


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """``warnings.showwarning`` replacement: a warning becomes a WARNING record, not stderr text."""
    text = warnings.formatwarning(message, category, filename, lineno, line).strip()
    logger.bind(event="lib.py.warnings").warning(text)


def _install_stdlib_intercept() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, _StdlibIntercept) for h in root.handlers):
        root.addHandler(_StdlibIntercept())
    warnings.showwarning = _show_warning


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    service: str = "btcbot",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    stdout: TextIO | None = None,
) -> Redactor:
    """(Re)configure the global loguru logger. Returns the Redactor in use (for alerts, errors).

    ``stream`` receives the log (default stderr); ``stdout`` receives :func:`report` lines in the
    console format (default: ``sys.stdout`` at the time of the call to ``report``).
    """
    redactor = Redactor(secrets)
    logger.remove()
    logger.add(
        RedactingSink(stream or sys.stderr, fmt, service, redactor),
        level=level,
        format="{message}",
        backtrace=False,
        diagnose=False,  # diagnose would print local variables - possibly secrets
        catch=True,
    )
    _State.fmt = fmt
    _State.redactor = redactor
    _State.stdout = stdout
    _install_stdlib_intercept()
    return redactor


def current_format() -> str | None:
    """The format :func:`configure_logging` set last (None before the first call)."""
    return _State.fmt


def report(message: str, *, event: str, **fields: Any) -> None:
    """Command output that belongs in the log (the per-cycle summary of ``run``/``once``).

    ``json``: one INFO record with ``event`` and ``fields`` (the log stream, nothing on stdout).
    ``console`` (or logging not configured): ``message`` as a human line on stdout, redacted and
    with amounts shortened, whatever the log level (it is the command's own output).
    """
    if _State.fmt == "json":
        logger.bind(event=event, **fields).info(message)
        return
    out = _State.stdout or sys.stdout
    out.write(normalize_numbers(_State.redactor(message)) + "\n")
    out.flush()


def requested_format(explicit: str | None = None, env_file: Path | None = None,
                     environ: Mapping[str, str] | None = None) -> str | None:
    """The log format asked for when the settings could not be loaded (or were not needed):
    ``--log-format``, else ``BTCBOT_OBSERVABILITY__LOG_FORMAT`` in the environment, else the same
    line in the env file (``--env-file`` or ``./.env``). None when nothing says."""
    env = os.environ if environ is None else environ
    candidates: list[str | None] = [explicit, env.get(FORMAT_ENV)]
    path = env_file if env_file is not None else Path(".env")
    try:
        if path.is_file():
            from dotenv import dotenv_values

            candidates.append(dotenv_values(path).get(FORMAT_ENV))
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    for value in candidates:
        if value and value.strip().lower() in FORMATS:
            return value.strip().lower()
    return None


def log_exit(text: str, exit_code: int, *, warning: bool = False, configured: bool = False) -> None:
    """The one line a command prints before exiting with an error, as a JSON record
    (``event=cli.exit``, ``outcome=<exit code>``). Unless ``configured`` (the command loaded its
    settings, so the JSON sink is in place), a JSON sink on stderr is set up first. ``text`` must
    already be redacted."""
    if not configured or _State.fmt != "json":
        configure_logging(fmt="json")
    log = logger.bind(event="cli.exit", outcome=str(exit_code))
    if warning:
        log.warning(text)
    else:
        log.error(text)
