"""Settings validation: every bad input is one ConfigError line naming the problem."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.config.settings import load_settings
from btcbot.domain.errors import ConfigError

FIVE = "BTCTRY,ETHTRY,XRPTRY,AVAXTRY,SOLTRY"


def error_for(environ: dict[str, str], env_file: Path | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=env_file, environ=environ)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_defaults_are_paper_sqlite_and_real_hosts() -> None:
    s = load_settings(environ={}).settings
    assert s.trading.dry_run is True
    assert s.database.url == "sqlite:///btcbot.db"
    assert str(s.exchange.base_url).startswith("https://api.btcturk.com")
    assert str(s.exchange.graph_url).startswith("https://graph-api.btcturk.com")
    assert len(s.trading.symbols) == 5


def test_symbols_accept_comma_string_and_json_list() -> None:
    a = load_settings(environ={"BTCBOT_TRADING__SYMBOLS": "btctry, ethtry,XRPTRY,AVAX_TRY,SOLTRY"})
    b = load_settings(environ={"BTCBOT_TRADING__SYMBOLS": '["BTCTRY","ETHTRY","XRPTRY","AVAXTRY","SOLTRY"]'})
    assert a.settings.trading.symbols == b.settings.trading.symbols == tuple(FIVE.split(","))
    assert a.settings.trading.quote_asset == "TRY"


def test_four_symbols_is_an_error() -> None:
    msg = error_for({"BTCBOT_TRADING__SYMBOLS": "BTCTRY,ETHTRY,XRPTRY,AVAXTRY"})
    assert "exactly 5 symbols are required" in msg


def test_duplicate_symbol_is_an_error() -> None:
    msg = error_for({"BTCBOT_TRADING__SYMBOLS": "BTCTRY,ETHTRY,XRPTRY,AVAXTRY,BTC_TRY"})
    assert "distinct" in msg and "BTCTRY" in msg


def test_mixed_quote_assets_is_an_error() -> None:
    msg = error_for({"BTCBOT_TRADING__SYMBOLS": "BTCTRY,ETHTRY,XRPTRY,AVAXTRY,BTCUSDT"})
    assert "one quote asset" in msg


def test_negative_risk_limit_is_an_error() -> None:
    msg = error_for({"BTCBOT_RISK__MAX_NOTIONAL_PER_ASSET": "-5"})
    assert "BTCBOT_RISK__MAX_NOTIONAL_PER_ASSET" in msg


def test_unknown_variable_is_named() -> None:
    msg = error_for({"BTCBOT_RISK__MAX_DAILY_LOS": "0.1"})
    assert "BTCBOT_RISK__MAX_DAILY_LOS" in msg and "unknown setting" in msg


def test_unknown_group_is_named() -> None:
    msg = error_for({"BTCBOT_RISKY__MAX_DAILY_LOSS_PCT": "0.1"})
    assert "BTCBOT_RISKY__MAX_DAILY_LOSS_PCT" in msg


def test_malformed_env_file_line(tmp_path: Path) -> None:
    env = tmp_path / "bot.env"
    env.write_text("BTCBOT_TRADING__DRY_RUN=true\nthis line is not an assignment\n")
    msg = error_for({}, env_file=env)
    assert "malformed line 2" in msg and "bot.env" in msg


def test_unknown_key_in_env_file_is_named(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("BTCBOT_TRADING__DRY_RUNN=true\n")
    msg = error_for({}, env_file=env)
    assert "BTCBOT_TRADING__DRY_RUNN" in msg


def test_live_mode_without_secrets() -> None:
    msg = error_for({"BTCBOT_TRADING__DRY_RUN": "false"})
    assert "live trading" in msg and "BTCBOT_AUTH__API_KEY" in msg


def test_precedence_defaults_dotenv_environment_cli(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("BTCBOT_TRADING__CYCLE_INTERVAL_S=30\nBTCBOT_RISK__MAX_NOTIONAL_PER_ASSET=1000\n"
                   "BTCBOT_CAPITAL__RESERVE_ABS=7\n")
    loaded = load_settings(
        env_file=env,
        environ={"BTCBOT_TRADING__CYCLE_INTERVAL_S": "45", "BTCBOT_CAPITAL__RESERVE_ABS": "8"},
        overrides={"BTCBOT_CAPITAL__RESERVE_ABS": "9"},
    )
    s = loaded.settings
    assert s.risk.max_notional_per_asset == Decimal("1000")  # .env over default
    assert s.trading.cycle_interval_s == 45  # environment over .env
    assert s.capital.reserve_abs == Decimal("9")  # CLI over environment
    assert loaded.sources["capital.reserve_abs"].startswith("command line")
    assert loaded.sources["trading.cycle_interval_s"].startswith("environment")
    assert "risk.max_daily_loss_pct" not in loaded.sources


def test_default_dotenv_is_read_from_working_directory(tmp_cwd: Path) -> None:
    tmp_path = tmp_cwd
    (tmp_path / ".env").write_text("BTCBOT_TRADING__CYCLE_INTERVAL_S=31\n")
    assert load_settings(environ={}).settings.trading.cycle_interval_s == 31


def test_settings_are_frozen() -> None:
    s = load_settings(environ={}).settings
    with pytest.raises(Exception, match="frozen"):
        s.trading.dry_run = False  # type: ignore[misc]


def test_non_setting_variables_are_allowed() -> None:
    load_settings(environ={"BTCBOT_TEST_POSTGRES_URL": "postgresql://x", "BTCBOT_FAILPOINTS": ""})


def test_per_symbol_maps_must_name_the_universe() -> None:
    msg = error_for({"BTCBOT_RISK__MAX_POSITION_PER_ASSET": '{"DOGETRY": "1"}'})
    assert "DOGETRY" in msg and "outside trading.symbols" in msg


def test_urls_are_checked_before_use(tmp_path: Path) -> None:
    assert "http" in error_for({"BTCBOT_OBSERVABILITY__ALERT_WEBHOOK_URL": "ftp://x"})
    assert "http" in error_for({"BTCBOT_OBSERVABILITY__OTEL_EXPORTER_ENDPOINT": "garbage"})
    assert "sqlite" in error_for({"BTCBOT_DATABASE__URL": "mysql://u@h/db"})
    assert "does not exist" in error_for({"BTCBOT_OBSERVABILITY__METRICS_TEXTFILE": str(tmp_path / "no" / "x.prom")})
    assert "CHAT_ID" in error_for({"BTCBOT_OBSERVABILITY__ALERT_WEBHOOK_URL": "https://api.telegram.org/botX/sendMessage",
                                   "BTCBOT_OBSERVABILITY__ALERT_PAYLOAD_FORMAT": "telegram"})


def test_plain_postgresql_url_uses_psycopg() -> None:
    s = load_settings(environ={"BTCBOT_DATABASE__URL": "postgresql://postgres@127.0.0.1/test"}).settings
    assert s.database.url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_removed_setting_is_ignored_with_a_notice_naming_it(tmp_path: Path) -> None:
    """Issue 11 item 13: exchange.recv_window was read by nothing; an old .env still loads."""
    env = tmp_path / ".env"
    env.write_text("BTCBOT_EXCHANGE__RECV_WINDOW=5\n")
    loaded = load_settings(env_file=env, environ={})
    assert len(loaded.notices) == 1
    assert "BTCBOT_EXCHANGE__RECV_WINDOW" in loaded.notices[0] and "removed" in loaded.notices[0]
    assert str(env) in loaded.notices[0] and "\n" not in loaded.notices[0]
    assert "recv_window" not in type(loaded.settings.exchange).model_fields
    assert load_settings(environ={}).notices == ()


def test_removed_setting_warning_is_logged_by_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from btcbot.cli.main import main

    assert main(["--log-format", "console", "--set", "exchange.recv_window=5", "config", "check"]) == 0
    captured = capsys.readouterr()
    assert "BTCBOT_EXCHANGE__RECV_WINDOW" in captured.err and "removed and is ignored" in captured.err


def test_every_setting_is_read_by_some_code() -> None:
    """A setting nobody reads is a lie to the operator: each field name must appear as an
    attribute access somewhere in btcbot/ outside the settings models."""
    import re

    from btcbot.config.reference import iter_settings

    root = Path(__file__).resolve().parents[2] / "btcbot"
    sources = "\n".join(p.read_text() for p in root.rglob("*.py") if "config/groups" not in str(p))
    models = "\n".join(p.read_text() for p in (root / "config" / "groups").glob("*.py"))
    unread = []
    for _group, env, _default, _desc in iter_settings():
        name = env.split("__", 1)[1].lower()
        pattern = re.compile(rf"\.{name}\b")
        if not pattern.search(sources) and not re.search(rf"self\.{name}\b", models):
            unread.append(env)
    assert unread == []
