"""SQL-only behaviour: the journal row of a trading-state change, misuse outside the with-block."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from btcbot.domain.enums import TradingState
from btcbot.persistence.tables import OrderEventRow
from btcbot.persistence.unit_of_work import SqlUnitOfWork

from .factories import later


def test_trading_state_change_is_journaled(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.trading_state.set(TradingState.REDUCING, "daily loss limit", later(1), cycle_id=9)
        uow.trading_state.set(TradingState.ACTIVE, "new day", later(2), cycle_id=10)
        uow.commit()
    with engine.connect() as conn:
        rows = conn.execute(
            select(OrderEventRow.__table__).where(OrderEventRow.event == "trading_state").order_by(OrderEventRow.id)
        ).all()
    assert [(r.client_order_id, r.from_state, r.to_state, r.cycle_id) for r in rows] == [
        (None, "ACTIVE", "REDUCING", 9),
        (None, "REDUCING", "ACTIVE", 10),
    ]
    assert json.loads(rows[0].payload) == {"reason": "daily loss limit"}
    assert rows[1].at == later(2)


def test_unit_of_work_outside_its_block_is_an_error(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(RuntimeError):
        uow.commit()
    with uow:
        pass
    with pytest.raises(RuntimeError):
        uow.rollback()
