"""loguru configuration: JSON lines (default) or a console format, both through one redacting sink.

Stable JSON fields (design document section 6): timestamp, level, service, cycle_id, symbol,
client_order_id, event, outcome, latency_ms, plus message and any other bound extras. Bind them
with ``logger.bind(...)`` or ``logger.contextualize(cycle_id=...)``; use semantic event names such
as ``risk.reject`` or ``order.submit.success``.

Every rendered line - including exception tracebacks - passes through the Redactor before it is
written, so a secret that ends up in an exception message never reaches the log.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC
from typing import Any, TextIO

from loguru import logger

from btcbot.observability.redaction import Redactor

STABLE_FIELDS = ("cycle_id", "symbol", "client_order_id", "event", "outcome", "latency_ms")


def _exception_text(record: Any) -> str | None:
    exc = record["exception"]
    if exc is None or exc.type is None:
        return None
    return "".join(traceback.format_exception(exc.type, exc.value, exc.traceback)).rstrip()


def _json_default(value: object) -> str:
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
        self._stream.write(self._redact(line) + "\n")
        self._stream.flush()

    def _render_json(self, record: Any) -> str:
        extra = dict(record["extra"])
        doc: dict[str, Any] = {
            "timestamp": record["time"].astimezone(UTC).isoformat(timespec="milliseconds"),
            "level": record["level"].name,
            "service": self._service,
        }
        for field in STABLE_FIELDS:
            doc[field] = extra.pop(field, None)
        doc["message"] = record["message"]
        for key in sorted(extra):
            doc[key] = extra[key]
        exc = _exception_text(record)
        if exc is not None:
            doc["exception"] = exc
        return json.dumps(doc, default=_json_default, ensure_ascii=False)

    def _render_console(self, record: Any) -> str:
        extra = dict(record["extra"])
        stamp = record["time"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        head = f"{stamp} {record['level'].name:<7}"
        context = " ".join(f"{k}={extra.pop(k)}" for k in STABLE_FIELDS if extra.get(k) is not None)
        rest = " ".join(f"{k}={extra[k]}" for k in sorted(extra))
        line = " ".join(part for part in (head, record["message"], context, rest) if part)
        exc = _exception_text(record)
        return f"{line}\n{exc}" if exc else line


def configure_logging(
    level: str = "INFO",
    fmt: str = "json",
    service: str = "btcbot",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> Redactor:
    """(Re)configure the global loguru logger. Returns the Redactor in use (for alerts, errors)."""
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
    return redactor
