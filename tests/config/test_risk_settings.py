"""risk.* and capital.* settings: defaults, bounds, and one-line ConfigErrors for bad values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.config.settings import load_settings
from btcbot.domain.errors import ConfigError

D = Decimal


def error_for(**environ: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=environ)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_defaults_match_the_design_document() -> None:
    s = load_settings(environ={}).settings
    assert s.capital.drawdown_tiers == (D("0.05"), D("0.10"), D("0.15"))
    assert s.capital.drawdown_multipliers == (D("1.0"), D("0.7"), D("0.4"), D("0.0"))
    assert s.risk.day_boundary_tz == "Europe/Istanbul"
    assert s.risk.notional_cap_for("BTCTRY") == D("50000")
    assert s.risk.quantity_cap_for("BTCTRY") is None
    assert s.capital.weight_for("BTCTRY") == D("0.30")


def test_per_symbol_maps_are_normalized() -> None:
    s = load_settings(
        environ={
            "BTCBOT_RISK__MAX_POSITION_PER_ASSET": '{"btc_try": "0.5"}',
            "BTCBOT_RISK__MAX_NOTIONAL_OVERRIDES": '{"ethtry": "80000"}',
            "BTCBOT_CAPITAL__ASSET_WEIGHTS": '{"XRP_TRY": "0.2"}',
        }
    ).settings
    assert s.risk.quantity_cap_for("BTCTRY") == D("0.5")
    assert s.risk.notional_cap_for("ETHTRY") == D("80000")
    assert s.risk.notional_cap_for("BTCTRY") == D("50000")
    assert s.capital.weight_for("XRPTRY") == D("0.2")


def test_custom_tiers_of_another_length() -> None:
    s = load_settings(
        environ={
            "BTCBOT_CAPITAL__DRAWDOWN_TIERS": '["0.1", "0.2"]',
            "BTCBOT_CAPITAL__DRAWDOWN_MULTIPLIERS": '["1", "0.5", "0"]',
        }
    ).settings
    assert s.capital.drawdown_tiers == (D("0.1"), D("0.2"))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BTCBOT_CAPITAL__RESERVE_RATIO", "1.5", "BTCBOT_CAPITAL__RESERVE_RATIO"),
        ("BTCBOT_CAPITAL__RESERVE_RATIO", "-0.1", "BTCBOT_CAPITAL__RESERVE_RATIO"),
        ("BTCBOT_CAPITAL__RESERVE_ABS", "-1", "BTCBOT_CAPITAL__RESERVE_ABS"),
        ("BTCBOT_CAPITAL__REINVEST_RATIO", "0", "BTCBOT_CAPITAL__REINVEST_RATIO"),
        ("BTCBOT_CAPITAL__REINVEST_RATIO", "1.01", "BTCBOT_CAPITAL__REINVEST_RATIO"),
        ("BTCBOT_CAPITAL__FEE_MIN_ABS", "-5", "BTCBOT_CAPITAL__FEE_MIN_ABS"),
        ("BTCBOT_CAPITAL__FEE_ALPHA_BPS", "1001", "BTCBOT_CAPITAL__FEE_ALPHA_BPS"),
        ("BTCBOT_CAPITAL__ASSET_WEIGHT", "0", "BTCBOT_CAPITAL__ASSET_WEIGHT"),
        ("BTCBOT_CAPITAL__ASSET_WEIGHT", "1.2", "BTCBOT_CAPITAL__ASSET_WEIGHT"),
        ("BTCBOT_CAPITAL__GROSS_BETA", "0", "BTCBOT_CAPITAL__GROSS_BETA"),
        ("BTCBOT_CAPITAL__GROSS_BETA", "3.5", "BTCBOT_CAPITAL__GROSS_BETA"),
        ("BTCBOT_CAPITAL__HARVEST_RATIO", "1.1", "BTCBOT_CAPITAL__HARVEST_RATIO"),
        ("BTCBOT_CAPITAL__HARVEST_THRESHOLD", "-1", "BTCBOT_CAPITAL__HARVEST_THRESHOLD"),
        ("BTCBOT_CAPITAL__EDGE_MIN_BPS", "-1", "BTCBOT_CAPITAL__EDGE_MIN_BPS"),
        ("BTCBOT_CAPITAL__NOISE_MARGIN_BPS", "-1", "BTCBOT_CAPITAL__NOISE_MARGIN_BPS"),
        ("BTCBOT_CAPITAL__TAKER_FEE_BPS", "1001", "BTCBOT_CAPITAL__TAKER_FEE_BPS"),
        ("BTCBOT_CAPITAL__MAKER_FEE_BPS", "-1", "BTCBOT_CAPITAL__MAKER_FEE_BPS"),
        ("BTCBOT_CAPITAL__FEE_TAX_RATIO", "2", "BTCBOT_CAPITAL__FEE_TAX_RATIO"),
        ("BTCBOT_CAPITAL__SLIPPAGE_BPS", "-3", "BTCBOT_CAPITAL__SLIPPAGE_BPS"),
        ("BTCBOT_CAPITAL__ASSET_WEIGHTS", '{"BTCTRY": "0"}', "asset_weights[BTCTRY] must lie in (0, 1]"),
        ("BTCBOT_CAPITAL__ASSET_WEIGHTS", '{"NOTAPAIR": "0.2"}', "asset_weights"),
        ("BTCBOT_RISK__MAX_NOTIONAL_PER_ASSET", "0", "BTCBOT_RISK__MAX_NOTIONAL_PER_ASSET"),
        ("BTCBOT_RISK__MAX_GROSS_EXPOSURE", "-1", "BTCBOT_RISK__MAX_GROSS_EXPOSURE"),
        ("BTCBOT_RISK__MAX_CONCENTRATION", "0", "BTCBOT_RISK__MAX_CONCENTRATION"),
        ("BTCBOT_RISK__MAX_CONCENTRATION", "1.5", "BTCBOT_RISK__MAX_CONCENTRATION"),
        ("BTCBOT_RISK__MAX_DAILY_LOSS_PCT", "0", "BTCBOT_RISK__MAX_DAILY_LOSS_PCT"),
        ("BTCBOT_RISK__MAX_DAILY_LOSS_PCT", "1.5", "BTCBOT_RISK__MAX_DAILY_LOSS_PCT"),
        ("BTCBOT_RISK__MAX_DAILY_LOSS_ABS", "0", "BTCBOT_RISK__MAX_DAILY_LOSS_ABS"),
        ("BTCBOT_RISK__MARKET_DATA_MAX_AGE_S", "0", "BTCBOT_RISK__MARKET_DATA_MAX_AGE_S"),
        ("BTCBOT_RISK__MARKET_DATA_MAX_AGE_S", "7200", "BTCBOT_RISK__MARKET_DATA_MAX_AGE_S"),
        ("BTCBOT_RISK__DAY_BOUNDARY_TZ", "Mars/Olympus", "unknown time zone"),
        ("BTCBOT_RISK__DRIFT_TOLERANCE_QUOTE", "-1", "BTCBOT_RISK__DRIFT_TOLERANCE_QUOTE"),
        (
            "BTCBOT_RISK__MAX_POSITION_PER_ASSET",
            '{"BTCTRY": "-1"}',
            "max_position_per_asset[BTCTRY] must be positive",
        ),
        ("BTCBOT_RISK__MAX_POSITION_PER_ASSET", '{"???": "1"}', "max_position_per_asset"),
        (
            "BTCBOT_RISK__MAX_NOTIONAL_OVERRIDES",
            '{"ETHTRY": "0"}',
            "max_notional_overrides[ETHTRY] must be positive",
        ),
        ("BTCBOT_RISK__MAX_CONCENTRATION", "lots", "BTCBOT_RISK__MAX_CONCENTRATION"),
    ],
)
def test_bad_value_is_one_config_error_line(name: str, value: str, expected: str) -> None:
    assert expected in error_for(**{name: value})


@pytest.mark.parametrize(
    ("tiers", "multipliers", "expected"),
    [
        ('["0.10", "0.05", "0.15"]', None, "strictly increasing"),
        ('["0.05", "0.05", "0.15"]', None, "strictly increasing"),
        ('["0", "0.1", "0.15"]', None, "strictly between 0 and 1"),
        ('["0.05", "0.1", "1"]', None, "strictly between 0 and 1"),
        ("[]", None, "need 1 to 10 drawdown tiers"),
        (None, '["1.0", "0.7", "0.8", "0.0"]', "must not increase"),
        (None, '["1.2", "0.7", "0.4", "0.0"]', "must lie in [0, 1]"),
        (None, '["1.0", "0.7", "0.0"]', "one more entry than drawdown_tiers"),
        ('["0.05", "0.1"]', None, "one more entry than drawdown_tiers"),
    ],
)
def test_bad_drawdown_tiers(tiers: str | None, multipliers: str | None, expected: str) -> None:
    env = {}
    if tiers is not None:
        env["BTCBOT_CAPITAL__DRAWDOWN_TIERS"] = tiers
    if multipliers is not None:
        env["BTCBOT_CAPITAL__DRAWDOWN_MULTIPLIERS"] = multipliers
    assert expected in error_for(**env)


def test_unknown_risk_key_is_named() -> None:
    assert "BTCBOT_RISK__MAX_DAILY_LOS_PCT" in error_for(BTCBOT_RISK__MAX_DAILY_LOS_PCT="0.02")
