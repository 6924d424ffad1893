"""The services' plain parameters mirror the settings groups field for field (btcbot.config.params)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from decimal import Decimal as D

import pytest

from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.config.params import capital_params, risk_params
from btcbot.services.risk.params import CapitalParams, RiskParams


def test_risk_params_have_exactly_the_settings_fields() -> None:
    assert {f.name for f in fields(RiskParams)} == set(RiskSettings.model_fields)


def test_capital_params_have_exactly_the_settings_fields() -> None:
    assert {f.name for f in fields(CapitalParams)} == set(CapitalSettings.model_fields)


def test_values_and_per_symbol_lookups_carry_over() -> None:
    risk = risk_params(RiskSettings(max_notional_overrides={"ethtry": D("80000")},
                                    max_position_per_asset={"BTCTRY": D("0.5")}))
    capital = capital_params(CapitalSettings(asset_weights={"XRPTRY": D("0.2")}, harvest_ratio=D("0.5")))
    assert risk.notional_cap_for("ETHTRY") == D("80000")
    assert risk.notional_cap_for("BTCTRY") == RiskSettings().max_notional_per_asset
    assert risk.quantity_cap_for("BTCTRY") == D("0.5")
    assert risk.quantity_cap_for("ETHTRY") is None
    assert capital.weight_for("XRPTRY") == D("0.2")
    assert capital.weight_for("BTCTRY") == CapitalSettings().asset_weight
    assert capital.harvest_ratio == D("0.5")
    assert capital.drawdown_tiers == CapitalSettings().drawdown_tiers


def test_params_are_read_only() -> None:
    risk = risk_params(RiskSettings(max_position_per_asset={"BTCTRY": D("0.5")}))
    with pytest.raises(FrozenInstanceError):
        risk.max_gross_exposure = D(1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        risk.max_position_per_asset["BTCTRY"] = D(9)  # type: ignore[index]
