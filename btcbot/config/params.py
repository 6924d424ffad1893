"""The settings groups mapped onto the services' plain parameter types.

Services take frozen dataclasses (``btcbot.services.risk.params``), never pydantic groups, so the
services layer does not depend on the configuration library (docs/architecture.md). The mapping
is field for field by name: a setting added to ``RiskSettings``/``CapitalSettings`` without its
parameter (or the reverse) fails ``tests/config/test_params.py``. Callers: ``app/wiring.py`` and
the backtester (the two places that build a risk engine from settings).
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from btcbot.config.groups.capital import CapitalSettings
    from btcbot.config.groups.risk import RiskSettings
    from btcbot.services.risk.params import CapitalParams, RiskParams


def risk_params(group: RiskSettings) -> RiskParams:
    """``settings.risk`` as the risk engine's :class:`RiskParams`."""
    from btcbot.services.risk.params import RiskParams

    return RiskParams(**{f.name: getattr(group, f.name) for f in fields(RiskParams)})


def capital_params(group: CapitalSettings) -> CapitalParams:
    """``settings.capital`` as the capital policy's :class:`CapitalParams`."""
    from btcbot.services.risk.params import CapitalParams

    return CapitalParams(**{f.name: getattr(group, f.name) for f in fields(CapitalParams)})


__all__ = ["capital_params", "risk_params"]
