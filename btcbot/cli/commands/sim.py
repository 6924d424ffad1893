"""``btcbot sim``: the bundled BTC Turk-compatible simulator (implemented in btcbot.sim)."""

from __future__ import annotations

from btcbot.sim.cli import sim_command

__all__ = ["sim_command"]
