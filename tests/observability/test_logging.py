"""Logging: stable JSON fields, and no secret ever reaches the output (even via exceptions)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from loguru import logger

from btcbot.cli.main import main
from btcbot.observability.logging import configure_logging
from btcbot.observability.redaction import Redactor

SECRET = "c3VwZXItc2VjcmV0LXZhbHVlLTEyMzQ1Njc4OTA="


@pytest.fixture(autouse=True)
def _reset_logger() -> Iterator[None]:
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


# --- amounts: one helper, used for extras and for numbers inside messages -----------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("10000.000000000000000000", "10000"),  # NUMERIC(38,18) read back from the database
        ("0.333333333333333333333333333", "0.33333333"),  # a 28-digit division result
        ("0.000000015", "0.00000002"),  # half-even at the 8th place
        ("1E-18", "0"),
        ("-0E-18", "0"),
        ("1E+4", "10000"),
        ("-5.50", "-5.5"),
        ("18999.99", "18999.99"),
    ],
)
def test_fmt_amount(value: str, shown: str) -> None:
    from decimal import Decimal

    from btcbot.observability.logging import fmt_amount

    assert fmt_amount(Decimal(value)) == shown


def test_long_amounts_are_shortened_in_messages_and_extras_but_ids_are_not() -> None:
    from decimal import Decimal

    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    logger.bind(event="risk.reject", cap=Decimal("71768.276667157384000000"), caps={"BTCTRY": Decimal("1E+3")}).info(
        "gross 71878.2586 > cap 71768.276667157384; order 9007199254741992 at 18:28:27.306"
    )
    doc = json.loads(stream.getvalue())
    assert doc["message"] == "gross 71878.2586 > cap 71768.27666716; order 9007199254741992 at 18:28:27.306"
    assert doc["cap"] == "71768.27666716" and doc["caps"] == {"BTCTRY": "1000"}


def test_console_renders_decimal_extras_with_the_same_helper() -> None:
    from decimal import Decimal

    stream = io.StringIO()
    configure_logging(fmt="console", stream=stream)
    logger.bind(tradable=Decimal("500.000000000000000000"), caps={"BTCTRY": Decimal("0.5")}).info("policy")
    line = stream.getvalue().strip()
    assert line.endswith('policy caps={"BTCTRY":"0.5"} tradable=500'), line


# --- one format per stream ------------------------------------------------------------------------


def test_stdlib_logging_and_warnings_come_out_as_json() -> None:
    import logging
    import warnings

    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    logging.getLogger("urllib3.connectionpool").warning("Retrying after connection broken")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
    docs = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [d["event"] for d in docs] == ["lib.urllib3.connectionpool", "lib.py.warnings"]
    assert docs[0]["level"] == "WARNING" and "Retrying" in docs[0]["message"]
    assert "something is deprecated" in docs[1]["message"]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_report_is_a_record_with_json_and_a_stdout_line_with_console(fmt: str) -> None:
    from decimal import Decimal

    from btcbot.observability.logging import report

    log, out = io.StringIO(), io.StringIO()
    configure_logging(fmt=fmt, level="WARNING", secrets=[SECRET], stream=log, stdout=out)
    report(f"cycle 7: sent 1; equity 1234.500000000000000000 key {SECRET}", event="cycle.summary",
           cycle_id=7, equity=Decimal("1234.500000000000000000"))
    if fmt == "console":  # command output: shown whatever the log level, redacted and shortened
        assert out.getvalue() == "cycle 7: sent 1; equity 1234.5 key ***\n" and log.getvalue() == ""
    else:  # a log record at INFO: below WARNING it is filtered like any other record
        assert out.getvalue() == "" and log.getvalue() == ""
        configure_logging(fmt=fmt, level="INFO", secrets=[SECRET], stream=log, stdout=out)
        report("cycle 8", event="cycle.summary", cycle_id=8, equity=Decimal("1234.500000000000000000"))
        doc = json.loads(log.getvalue())
        assert doc["event"] == "cycle.summary" and doc["cycle_id"] == 8 and doc["equity"] == "1234.5"
        assert out.getvalue() == ""


def test_requested_format_before_the_settings_load(tmp_path: object) -> None:
    from pathlib import Path

    from btcbot.observability.logging import requested_format

    assert isinstance(tmp_path, Path)
    env_file = tmp_path / "bot.env"
    env_file.write_text("BTCBOT_OBSERVABILITY__LOG_FORMAT=json\n")
    assert requested_format("console", env_file, {}) == "console"  # --log-format wins
    assert requested_format(None, env_file, {"BTCBOT_OBSERVABILITY__LOG_FORMAT": "CONSOLE"}) == "console"
    assert requested_format(None, env_file, {}) == "json"
    assert requested_format(None, tmp_path / "missing.env", {}) is None
