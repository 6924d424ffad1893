"""Fixtures for the simulator's HTTP tests: a running simulator and a signed requests helper."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from btcbot.sim.testing import SimConfig, SimHandle, running_simulator


def sign(key: str, secret: str, stamp: int) -> str:
    """Independent re-implementation of the documented recipe (not the simulator's own code)."""
    mac = hmac.new(base64.b64decode(secret), f"{key}{stamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class Api:
    """Minimal BTC Turk caller for tests: signs with the simulator's market clock."""

    def __init__(self, sim: SimHandle) -> None:
        self.sim = sim
        self.session = requests.Session()

    def headers(self, stamp_offset_ms: int = 0) -> dict[str, str]:
        stamp = self.sim.clock.now_ms() + stamp_offset_ms
        return {
            "X-PCK": self.sim.api_key,
            "X-Stamp": str(stamp),
            "X-Signature": sign(self.sim.api_key, self.sim.api_secret, stamp),
        }

    def get(
        self, path: str, signed: bool = False, query: dict[str, Any] | None = None, **params: Any
    ) -> requests.Response:
        """GET with ``params`` (plus ``query`` for names that are Python keywords, like ``from``)."""
        return self.session.get(
            self.sim.base_url + path,
            params={**params, **(query or {})},
            headers=self.headers() if signed else {},
            timeout=10,
        )

    def post_order(self, body: dict[str, Any], timeout: float = 10) -> requests.Response:
        return self.session.post(
            self.sim.base_url + "/api/v1/order", json=body, headers=self.headers(), timeout=timeout
        )

    def cancel(self, order_id: int) -> requests.Response:
        return self.session.delete(
            self.sim.base_url + "/api/v1/order", params={"id": order_id}, headers=self.headers(), timeout=10
        )


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(balances={"TRY": Decimal("1000000")}, history_minutes=300)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[SimHandle]:
    with running_simulator(sim_config) as handle:
        yield handle


@pytest.fixture
def api(sim: SimHandle) -> Api:
    return Api(sim)
