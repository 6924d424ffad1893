"""The soak's invariant checks can fail: with a risk engine that approves every buy at full size
(no resizing, no cap denials) a short fault-free run must report cap violations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from btcbot.domain.enums import Side
from btcbot.domain.intents import Approved, OrderIntent, RiskDecision
from btcbot.domain.portfolio import PortfolioView
from cycle.chaos import RecordingRisk
from cycle.soak import run_soak


class RecklessRisk(RecordingRisk):
    """Approves every BUY inside the universe as the strategy asked (what a broken engine does)."""

    def pre_trade(self, intents: Sequence[OrderIntent], view: PortfolioView, now: datetime) -> list[RiskDecision]:
        decisions = super().pre_trade(intents, view, now)
        reckless: list[RiskDecision] = []
        for decision in decisions:
            original = decision.original if isinstance(decision, Approved) else decision.intent
            if original.side is Side.BUY and original.symbol in self.inner.universe:
                reckless.append(Approved(original, original, risk_increasing=True))
            else:
                reckless.append(decision)
        approval = self.approvals[max(self.approvals)]
        self.approvals[approval.cycle_id] = type(approval)(approval.cycle_id, approval.now, approval.view,
                                                           approval.policy, approval.intents, tuple(reckless))
        return reckless


def test_a_reckless_engine_is_caught_by_the_soak_checks(tmp_path: Path) -> None:
    report = run_soak(tmp_path, 40, faults=False, risk=RecklessRisk)
    assert any("cap" in v or "reserve" in v for v in report.violations), report.violations
