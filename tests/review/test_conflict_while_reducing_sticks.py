"""Regression: a reconciliation finding that needs an operator (order conflict, unknown order of
ours, balance drift) must make REDUCING sticky even when trading is already REDUCING for a risk
reason that lifts by itself (daily loss, drawdown, caps).

The cycle recorded the finding only when the state was ACTIVE. Already REDUCING for, say, the
daily loss limit, the finding was dropped and the post-trade check of the same cycle then
lifted REDUCING ("risk conditions cleared") as soon as the risk condition cleared: a finding
that is not seen again (the conflicting order left the lists) was forgotten for good."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cycle.harness import LIMIT_BUY
from cycle.test_cycle_commands import Bot, bot  # noqa: F401  (the in-process bot fixture)
from sqlalchemy import text

from btcbot.domain.enums import TradingState
from btcbot.persistence.engine import create_engine_for
from btcbot.persistence.unit_of_work import SqlUnitOfWork


def test_order_conflict_found_while_reducing_for_daily_loss_is_kept(
    bot: Bot, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("BTCBOT_TRADING__STRATEGY", LIMIT_BUY)
    assert bot.cli("once")[0] == 0
    resting = sorted(o["client_id"] for o in bot.sim.state()["orders"] if o["status"] == "Untouched")
    assert resting
    engine = create_engine_for(bot.url, 5000)
    try:
        with SqlUnitOfWork(engine) as uow:
            # A risk reason that lifts by itself, as the post-trade check writes it.
            uow.trading_state.set(TradingState.REDUCING, "daily loss limit reached", datetime.now(UTC))
            uow.commit()
        with engine.begin() as conn:
            # The local record contradicts the exchange's row of the same order (a NOT_PLACED
            # order found on the exchange was the conflict here before issue 11; it is now
            # corrected from the exchange, so a side that does not match plays the conflict).
            conn.execute(text("UPDATE orders SET side = 'SELL' WHERE client_order_id = :c"), {"c": resting[0]})
    finally:
        engine.dispose()

    bot.cli("once")

    status = bot.status()
    assert status["trading_state"] == "REDUCING", status
    assert status["trading_state_reason"].startswith("order conflict"), status
