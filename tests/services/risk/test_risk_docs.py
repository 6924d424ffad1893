"""docs/risk.md lists every risk/capital setting (with its env var) and every decision code."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcbot.config.groups.capital import CapitalSettings
from btcbot.config.groups.risk import RiskSettings
from btcbot.domain.intents import DecisionCode

DOC = Path(__file__).resolve().parents[3] / "docs" / "risk.md"
FIELDS = [("risk", n) for n in RiskSettings.model_fields] + [("capital", n) for n in CapitalSettings.model_fields]


@pytest.mark.parametrize(("group", "name"), FIELDS)
def test_every_setting_has_a_row(group: str, name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    row = f"| `{group}.{name}` | `BTCBOT_{group.upper()}__{name.upper()}` |"
    assert row in text


@pytest.mark.parametrize("code", list(DecisionCode))
def test_every_decision_code_has_a_row(code: DecisionCode) -> None:
    assert f"| `{code.value}` |" in DOC.read_text(encoding="utf-8")
