"""QA regression: the human `btcbot status` view says "no cycle yet" instead of "None" and does not
print 28-digit averages; --json keeps the stored values untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from btcbot.cli.commands.status_view import amount as _amount
from btcbot.cli.main import main

pytestmark = pytest.mark.usefixtures("tmp_cwd")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (None, "-"),
        ("100000", "100000"),
        ("62100.3691980286", "62100.36919803"),
        ("67136.60919360", "67136.60919360"),
        ("130067.3415382240153604408557", "130067.34153822"),
        ("0.000000015", "0.00000002"),
        ("1E+5", "100000"),
        ("not a number", "not a number"),
    ],
)
def test_amount_is_shown_with_at_most_8_decimals(stored: str | None, shown: str) -> None:
    assert _amount(stored) == shown


def test_status_of_a_fresh_database(tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_DATABASE__URL", f"sqlite:///{tmp_cwd / 's.db'}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out
    assert "equity          unknown (no cycle has run yet)" in out
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["equity"] is None
