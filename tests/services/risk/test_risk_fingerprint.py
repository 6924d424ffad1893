"""The risk settings fingerprint detects a change that needs a restart, and nothing else."""

from __future__ import annotations

from btcbot.config.settings import load_settings
from btcbot.services.risk import risk_settings_fingerprint


def fp(**env: str) -> str:
    return risk_settings_fingerprint(load_settings(environ=env).settings)


def test_stable_and_prefixed() -> None:
    assert fp() == fp()
    assert fp().startswith("sha256:") and len(fp()) == len("sha256:") + 64


def test_changes_with_any_risk_or_capital_value() -> None:
    base = fp()
    assert fp(BTCBOT_RISK__MAX_CONCENTRATION="0.3") != base
    assert fp(BTCBOT_CAPITAL__RESERVE_RATIO="0.2") != base
    assert fp(BTCBOT_CAPITAL__DRAWDOWN_TIERS='["0.05","0.1","0.2"]') != base
    assert fp(BTCBOT_RISK__MAX_POSITION_PER_ASSET='{"BTCTRY": "0.5"}') != base
    assert fp(BTCBOT_RISK__MAX_POSITION_PER_ASSET='{"BTCTRY": "0.5"}') != fp(
        BTCBOT_RISK__MAX_POSITION_PER_ASSET='{"BTCTRY": "0.6"}'
    )


def test_ignores_other_groups_and_number_spelling() -> None:
    base = fp()
    assert fp(BTCBOT_TRADING__CYCLE_INTERVAL_S="30") == base
    assert fp(BTCBOT_OBSERVABILITY__LOG_LEVEL="DEBUG") == base
    assert fp(BTCBOT_CAPITAL__RESERVE_RATIO="0.1") == base  # default is 0.10
    assert fp(BTCBOT_RISK__MARKET_DATA_MAX_AGE_S="120") == base  # default 120.0
    two = '{"BTCTRY": "0.5", "ETHTRY": "2"}'
    swapped = '{"ETHTRY": "2.0", "btctry": "0.50"}'
    assert fp(BTCBOT_RISK__MAX_POSITION_PER_ASSET=two) == fp(BTCBOT_RISK__MAX_POSITION_PER_ASSET=swapped)
