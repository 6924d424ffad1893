"""Issue 11 item 6: every numeric setting rejects non-finite and absurd numbers with one line naming it.

The cases are generated from the settings model itself, so a numeric field added later is covered
without touching this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from btcbot.cli.main import main
from btcbot.config.groups._base import MAX_MAGNITUDE, holds_number
from btcbot.config.settings import Settings, load_settings
from btcbot.domain.errors import ConfigError

BAD_NUMBERS = ("inf", "-inf", "Infinity", "nan", "NaN", "1e309", "-1e309", "1e16", "1" + "0" * 40, "1e-300")
DURATION_SUFFIXES = ("_s", "_ms", "_days")


def numeric_fields() -> Iterator[tuple[str, str, Any]]:
    """(env var, group.field, annotation) of every field that holds a number, in any group."""
    for group_name, group_info in Settings.model_fields.items():
        model = group_info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, info in model.model_fields.items():
            if holds_number(info.annotation):
                yield f"BTCBOT_{group_name.upper()}__{name.upper()}", f"{group_name}.{name}", info.annotation


def _container(annotation: Any) -> type | None:
    """dict or tuple when the number sits inside one (Optional unwrapped), else None."""
    origin = get_origin(annotation)
    if origin in (dict, tuple, list):
        return origin  # type: ignore[no-any-return]
    for arg in get_args(annotation):
        found = _container(arg)
        if found is not None:
            return found
    return None


def env_value(annotation: Any, number: str) -> str:
    container = _container(annotation)
    if container is dict:
        return json.dumps({"BTCTRY": number})
    if container in (tuple, list):
        return json.dumps([number])
    return number


FIELDS = list(numeric_fields())


def test_the_model_has_numeric_fields_in_every_group_that_should() -> None:
    groups = {dotted.split(".")[0] for _, dotted, _ in FIELDS}
    assert {"exchange", "trading", "risk", "capital", "resilience", "observability", "database"} <= groups
    dotted = {d for _, d, _ in FIELDS}
    # the cases from the issue and the container kinds are all found by the walk
    assert {"trading.unknown_grace_s", "risk.max_notional_overrides", "capital.drawdown_tiers",
            "risk.max_daily_loss_abs", "database.busy_timeout_ms"} <= dotted
    assert "trading.dry_run" not in dotted  # bool is not a number here


@pytest.mark.parametrize("env,dotted,annotation", FIELDS, ids=[d for _, d, _ in FIELDS])
@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_non_finite_and_absurd_numbers_are_refused_naming_the_setting(
    env: str, dotted: str, annotation: Any, number: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={env: env_value(annotation, number)})
    message = str(info.value)
    assert "\n" not in message
    assert f"invalid setting {env}:" in message
    assert "finite" in message or "absurd magnitude" in message, message


CONTAINER_FIELDS = [f for f in FIELDS if _container(f[2]) is not None]


@pytest.mark.parametrize("env,dotted,annotation", CONTAINER_FIELDS, ids=[d for _, d, _ in CONTAINER_FIELDS])
def test_json_infinity_literal_is_refused(env: str, dotted: str, annotation: Any) -> None:
    """A JSON value (dict/list settings) can carry Infinity/NaN or an overflowing 1e999 literal."""
    container = _container(annotation)
    raw = '{"BTCTRY": 1e999}' if container is dict else "[0.1, Infinity]"
    with pytest.raises(ConfigError, match="finite"):
        load_settings(environ={env: raw})


def test_every_duration_has_an_upper_bound_datetime_arithmetic_survives() -> None:
    """A duration is added to a datetime somewhere; 1e15 s would overflow it, so each needs a
    bound of its own (at most 10 years)."""
    ten_years_s = Decimal(10 * 366 * 86400)
    for _env, dotted, _annotation in FIELDS:
        group, name = dotted.split(".")
        if not name.endswith(DURATION_SUFFIXES):
            continue
        info = Settings.model_fields[group].annotation.model_fields[name]  # type: ignore[union-attr]
        bounds = [getattr(m, "le", None) or getattr(m, "lt", None) for m in info.metadata]
        limit = next((Decimal(str(b)) for b in bounds if b is not None), None)
        scale = {"_s": Decimal(1), "_ms": Decimal("0.001"), "_days": Decimal(86400)}[next(s for s in DURATION_SUFFIXES
                                                                         if name.endswith(s))]
        assert limit is not None, f"{dotted} has no upper bound"
        assert limit * scale <= ten_years_s, f"{dotted} upper bound {limit} is too large"


def test_sane_values_still_pass() -> None:
    s = load_settings(environ={
        "BTCBOT_TRADING__UNKNOWN_GRACE_S": "0", "BTCBOT_RISK__MAX_NOTIONAL_PER_ASSET": "1e9",
        "BTCBOT_RISK__MAX_NOTIONAL_OVERRIDES": '{"BTCTRY": "250000.5"}',
        "BTCBOT_CAPITAL__DRAWDOWN_TIERS": "[0.05, 0.1, 0.2]",
    }).settings
    assert s.trading.unknown_grace_s == 0
    assert s.risk.max_notional_per_asset == Decimal("1e9") <= MAX_MAGNITUDE
    assert s.risk.max_notional_overrides == {"BTCTRY": Decimal("250000.5")}


def test_unknown_grace_inf_is_exit_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--set", "trading.unknown_grace_s=inf", "config", "check"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "BTCBOT_TRADING__UNKNOWN_GRACE_S" in err and "finite" in err
