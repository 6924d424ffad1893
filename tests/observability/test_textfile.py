"""Textfile export: parseable by prometheus_client, atomic, no temp files left behind."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from btcbot.observability.metrics import Metrics
from btcbot.observability.textfile import write_textfile


def test_written_file_parses_and_carries_values(tmp_path: Path) -> None:
    m = Metrics.create()
    m.set_portfolio(Decimal("500.25"), Decimal("100"), Decimal("0"))
    m.cycle_finished(80.0, datetime(2026, 1, 1, tzinfo=UTC))
    target = tmp_path / "btcbot.prom"
    write_textfile(m, target)
    fams = {f.name: f for f in text_string_to_metric_families(target.read_text())}
    assert fams["portfolio_equity"].samples[0].value == 500.25
    assert fams["last_cycle_timestamp"].samples[0].value == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["btcbot.prom"]


def test_rewrite_replaces_the_previous_content(tmp_path: Path) -> None:
    m = Metrics.create()
    target = tmp_path / "btcbot.prom"
    m.order_submitted()
    write_textfile(m, target)
    m.order_submitted()
    write_textfile(m, str(target))
    fams = {f.name: f for f in text_string_to_metric_families(target.read_text())}
    assert fams["orders_submitted"].samples[0].value == 2
    assert [p.name for p in tmp_path.iterdir()] == ["btcbot.prom"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    class Exploding(Metrics):
        def render(self) -> bytes:
            raise RuntimeError("boom")

    target = tmp_path / "btcbot.prom"
    target.write_text("old 1\n")
    with pytest.raises(RuntimeError):
        write_textfile(Exploding(None), target)
    assert target.read_text() == "old 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["btcbot.prom"]


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_textfile(Metrics.create(), tmp_path / "nope" / "btcbot.prom")
