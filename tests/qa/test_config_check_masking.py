"""QA regressions for `btcbot config check`: no credential in clear (README: "secrets masked"), and
an unbuildable strategy is reported here, not only by `once`."""

from __future__ import annotations

import json

import pytest

from btcbot.cli.main import main

pytestmark = pytest.mark.usefixtures("tmp_cwd")

API_KEY = "QA-PUBLIC-KEY-0123456789"
SECRET = "UUEtU0VDUkVULWRvLW5vdC1sZWFrLTEyMzQ1Ng=="
WEBHOOK = "https://api.telegram.org/bot123456:TELEGRAMTOKEN/sendMessage"
DB_URL = "postgresql+psycopg://trader:DBPASSWORD@db.example:5432/btcbot"


@pytest.fixture
def credentials_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCBOT_AUTH__API_KEY", API_KEY)
    monkeypatch.setenv("BTCBOT_AUTH__API_SECRET", SECRET)
    monkeypatch.setenv("BTCBOT_OBSERVABILITY__ALERT_WEBHOOK_URL", WEBHOOK)
    monkeypatch.setenv("BTCBOT_DATABASE__URL", DB_URL)


@pytest.mark.usefixtures("credentials_everywhere")
@pytest.mark.parametrize("as_json", [False, True])
def test_config_check_masks_key_secret_webhook_token_and_db_password(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", *(["--json"] if as_json else [])]) == 0
    out = capsys.readouterr().out
    for leaked in (API_KEY, SECRET, "TELEGRAMTOKEN", "DBPASSWORD"):
        assert leaked not in out
    # ...while still showing enough to check the setup.
    assert "api.telegram.org" in out
    assert "trader:" in out and "db.example:5432/btcbot" in out
    if as_json:
        rows = json.loads(out)["settings"]
        assert rows["auth.api_key"] == "**********"
        assert rows["database.url"] == "postgresql+psycopg://trader:**********@db.example:5432/btcbot"


def test_config_check_keeps_plain_sqlite_urls(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BTCBOT_DATABASE__URL", "sqlite:////var/lib/btcbot/btcbot.db")
    assert main(["config", "check", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["settings"]
    assert rows["database.url"] == "sqlite:////var/lib/btcbot/btcbot.db"
    assert rows["auth.api_key"] is None


@pytest.mark.parametrize(
    ("strategy", "needle"),
    [("nosuch", "neither a built-in strategy"), ("os:path", "'path' is not a class"),
     ("no_such_package_qa.mod:Cls", "cannot import module")],
)
def test_config_check_rejects_a_strategy_that_cannot_be_built(
    strategy: str, needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # It said "settings OK" and `once` then stopped with exit 2 (after writing the genesis).
    monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", strategy)
    assert main(["config", "check"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "BTCBOT_TRADING__STRATEGY" in lines[0], lines


def test_config_check_accepts_builtin_strategies(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("trend", "rebalance"):
        monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", name)
        assert main(["config", "check"]) == 0
        assert "settings OK" in capsys.readouterr().out
