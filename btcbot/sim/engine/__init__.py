"""Pure simulated-venue engine: price path, synthetic book, accounts, matching, candles (no I/O)."""

from btcbot.sim.engine.config import EngineConfig
from btcbot.sim.engine.exchange import SimExchange
from btcbot.sim.engine.orders import SimOrder, SimReject, SimTrade

__all__ = ["EngineConfig", "SimExchange", "SimOrder", "SimReject", "SimTrade"]
