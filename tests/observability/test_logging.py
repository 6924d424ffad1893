"""Logging: stable JSON fields, and no secret ever reaches the output (even via exceptions)."""

from __future__ import annotations

import io
import json

import pytest
from loguru import logger

from btcbot.cli.main import main
from btcbot.observability.logging import configure_logging
from btcbot.observability.redaction import Redactor

SECRET = "c3VwZXItc2VjcmV0LXZhbHVlLTEyMzQ1Njc4OTA="


@pytest.fixture(autouse=True)
def _reset_logger() -> None:
    yield
    logger.remove()


def test_json_lines_have_stable_fields() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", service="svc", stream=stream)
    with logger.contextualize(cycle_id=42):
        logger.bind(symbol="BTCTRY", event="order.submit.success", outcome="ok", latency_ms=12).info("sent")
    doc = json.loads(stream.getvalue().splitlines()[0])
    for field in (
        "timestamp",
        "level",
        "service",
        "cycle_id",
        "symbol",
        "client_order_id",
        "event",
        "outcome",
        "latency_ms",
        "message",
    ):
        assert field in doc
    assert doc["cycle_id"] == 42 and doc["service"] == "svc" and doc["event"] == "order.submit.success"
    assert doc["timestamp"].endswith("+00:00")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secret_never_in_output_including_exceptions(fmt: str) -> None:
    stream = io.StringIO()
    configure_logging(fmt=fmt, secrets=[SECRET], stream=stream)
    logger.info(f"configured with secret {SECRET}")
    logger.bind(headers={"X-PCK": "pubkey-123", "X-Signature": "c2lnbmF0dXJl"}).info("request headers")
    try:
        raise RuntimeError(f"exchange said no for key {SECRET}; X-Signature: abcdef123456")
    except RuntimeError:
        logger.exception("boom")
    out = stream.getvalue()
    assert "boom" in out and "RuntimeError" in out  # the exception itself is logged
    assert SECRET not in out
    assert "abcdef123456" not in out and "c2lnbmF0dXJl" not in out and "pubkey-123" not in out


def test_redactor_masks_longest_first_and_headers() -> None:
    r = Redactor(["abcd", "abcdefgh"])
    assert r("x abcdefgh y abcd") == "x *** y ***"
    assert "zzz" not in r('{"X-Signature": "zzz"}')


def test_command_with_configured_secret_keeps_it_out_of_logs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_cwd: object
) -> None:
    monkeypatch.setenv("BTCBOT_AUTH__API_KEY", "public-key-value")
    monkeypatch.setenv("BTCBOT_AUTH__API_SECRET", SECRET)
    monkeypatch.setenv("BTCBOT_OBSERVABILITY__LOG_LEVEL", "DEBUG")
    # A command that fails inside with the secret in the exception text: --set an invalid DB URL
    # whose text contains the secret, then run `db upgrade` (the error text is logged and printed).
    code = main(["--set", f"database.url=notadb://{SECRET}", "db", "upgrade"])
    captured = capsys.readouterr()
    assert code != 0
    assert SECRET not in captured.err and SECRET not in captured.out
