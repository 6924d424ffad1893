"""`btcbot reconcile` next to another instance (issue 13 item 2), in-process and in paper mode:
the plan needs no lease and writes nothing (not even the paper account it reads); `--apply` exits 75
with the commands that stop the service, whose names are those shipped in deploy/.

The other instance is a lease row of a live-looking holder on another host (it never expires
during the test); the real `btcbot run` subprocess version is tests/integration/test_reconcile_alongside_run.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cycle.harness import EXIT_LEASE_HELD, MARKET_BUY, sqlite_url, wall_sim_config
from cycle.harness import dump_tables as dump

from btcbot.app.reconcile_plan import SUPERVISOR_PROGRAM, SYSTEMD_UNIT, stop_service_lines
from btcbot.cli.main import main
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.lease import acquire
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import running_simulator

REPO = Path(__file__).resolve().parents[2]



@pytest.fixture
def paper_bot(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    db = tmp_cwd / "bot.db"
    upgrade(sqlite_url(db))
    with running_simulator(wall_sim_config()) as sim:
        for name, value in {
            "BTCBOT_EXCHANGE__BASE_URL": sim.base_url, "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
            "BTCBOT_TRADING__DRY_RUN": "true", "BTCBOT_TRADING__STRATEGY": MARKET_BUY,
            "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60", "BTCBOT_DATABASE__URL": sqlite_url(db),
            "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console",
        }.items():
            monkeypatch.setenv(name, value)
        yield db


def hold_lease_elsewhere(db: Path) -> None:
    engine = create_engine_for(sqlite_url(db), 5000)
    try:
        acquire(engine, "other-host", 4242, 3600, datetime.now(UTC) + timedelta(minutes=10))  # past our expiry
    finally:
        engine.dispose()


def test_plan_writes_nothing_and_apply_says_how_to_stop_the_service(
    paper_bot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["once"]) == 0  # the paper bot trades: orders, fills and a paper account exist
    hold_lease_elsewhere(paper_bot)
    before = dump(paper_bot)
    capsys.readouterr()

    assert main(["reconcile"]) == 0
    out = capsys.readouterr().out
    assert "local state matches the exchange: nothing to repair" in out
    assert "plan only" in out
    assert dump(paper_bot) == before

    assert main(["reconcile", "--apply"]) == EXIT_LEASE_HELD
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0].startswith("btcbot: lease 'btcbot' held by host other-host pid 4242")
    assert "`reconcile --apply` changes the books and needs the lease" in lines[0]
    assert lines[1:3] == [f"  {line}" for line in stop_service_lines()[:2]]
    assert "sudo supervisorctl start btcbot / sudo systemctl start btcbot" in lines[-1]
    assert dump(paper_bot) == before


def test_stop_lines_name_the_shipped_supervisor_program_and_systemd_unit() -> None:
    conf = (REPO / "deploy" / "supervisord.conf").read_text(encoding="utf-8")
    programs = re.findall(r"^\[program:([^\]]+)\]", conf, flags=re.MULTILINE)
    assert programs == [SUPERVISOR_PROGRAM]
    assert (REPO / "deploy" / f"{SYSTEMD_UNIT}.service").is_file()
    lines = stop_service_lines()
    assert lines[0].startswith(f"sudo supervisorctl stop {programs[0]} ")
    assert lines[1].startswith(f"sudo systemctl stop {SYSTEMD_UNIT} ")
