"""Re-arming the drawdown de-risking (pure; the operator command is ``btcbot risk rearm``).

The high-water mark is the running maximum of equity, so after a drawdown reaches the last tier
(``m_dd = 0``) only a recovery of equity lifts it; with a flat book (no open risk) that recovery
can never come and the bot would never buy again. A re-arm is the operator's explicit decision
to accept the loss: the high-water mark becomes the current equity (drawdown 0 from there on).
Nothing else changes: the day-start equity (daily loss limit), the month's realized PnL and the
reserve bucket stay as they are, and so does the trading state (the next cycle re-derives it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.domain.ledger import PortfolioSnapshot
from btcbot.services.risk.capital_policy import drawdown


@dataclass(frozen=True, slots=True)
class RearmRecord:
    """One re-arm: when, why, and the high-water mark before and after (= equity then)."""

    at: datetime
    reason: str
    old_high_water: Decimal
    new_high_water: Decimal

    @property
    def drawdown_before(self) -> Decimal:
        """``1 - Equity / HighWater`` just before the re-arm (the equity is the new mark)."""
        return drawdown(self.new_high_water, self.old_high_water)

    def to_json(self) -> dict[str, str]:
        return {
            "at": self.at.isoformat(),
            "reason": self.reason,
            "old_high_water": str(self.old_high_water),
            "new_high_water": str(self.new_high_water),
            "drawdown_before": str(self.drawdown_before),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RearmRecord:
        return cls(
            at=datetime.fromisoformat(str(doc["at"])),
            reason=str(doc["reason"]),
            old_high_water=Decimal(str(doc["old_high_water"])),
            new_high_water=Decimal(str(doc["new_high_water"])),
        )


def rearmed_snapshot(latest: PortfolioSnapshot, equity: Decimal, now: datetime) -> PortfolioSnapshot:
    """The checkpoint after a re-arm: equity and high-water mark := ``equity``; the rest kept."""
    return replace(latest, at=now, equity=equity, high_water_mark=equity)
