"""Builders shared by the engine tests."""

from __future__ import annotations

from decimal import Decimal

from btcbot.sim.engine.config import EngineConfig
from btcbot.sim.engine.exchange import SimExchange

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
D = Decimal


def make_engine(**overrides: object) -> SimExchange:
    params: dict[str, object] = {"balances": {"TRY": D("1000000"), "BTC": D("1")}, "history_minutes": 60}
    params.update(overrides)
    return SimExchange(EngineConfig(**params), START_MS)  # type: ignore[arg-type]


def assert_lock_invariant(engine: SimExchange) -> None:
    """locked == sum of open orders' lock_remaining per asset; nothing negative."""
    for asset in engine.accounts.assets():
        assert engine.accounts.free(asset) >= 0, asset
        assert engine.accounts.locked(asset) >= 0, asset
        held = sum(
            (o.lock_remaining for o in engine.orders.values() if o.lock_asset == asset and o.is_open),
            Decimal(0),
        )
        assert engine.accounts.locked(asset) == held, asset


def assert_open_index(engine: SimExchange) -> None:
    """The engine's open-order index holds exactly the open orders."""
    assert {o.id for o in engine.orders.values() if o.is_open} == set(engine._open)
