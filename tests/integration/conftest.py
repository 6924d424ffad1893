"""Shared fixtures of the integration tests: the ONE simulator set-up.

``sim`` runs a simulator on 127.0.0.1 (ephemeral port) in a background thread for one test and
stops it afterwards. What market it simulates is the ``sim_config`` fixture: by default market
time = wall time from now and no rate limits, so a bot in a child process (which signs with its
own system clock) passes the X-Stamp check, sees fresh tickers and never trips a per-minute
budget. A module that needs another market overrides ``sim_config`` only, e.g.::

    @pytest.fixture
    def sim_config() -> SimConfig:
        return SimConfig(balances={"TRY": Decimal("1000000")})  # manual market clock

Tests that start several simulators in one test (or one per subprocess run) use
``running_simulator(cycle.harness.wall_sim_config())`` directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle, running_simulator


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(clock_mode="wall", start_time=datetime.now(UTC).replace(microsecond=0), rate_limits=False)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[SimHandle]:
    with running_simulator(sim_config) as handle:
        yield handle
