"""A tiny client for the simulator's ``/__sim/`` admin routes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests


class SimAdminError(RuntimeError):
    """The admin route refused the call (bad input); the message is the simulator's."""


class SimAdmin:
    """Drive a running simulator: clock, balances, prices, faults, state."""

    def __init__(
        self, base_url: str, timeout_s: float = 10.0, session: requests.Session | None = None
    ) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s
        self._session = session or requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self._session.request(method, f"{self._base}/__sim/{path}", json=body, timeout=self._timeout)
        if resp.status_code != 200:
            raise SimAdminError(f"{method} /__sim/{path}: HTTP {resp.status_code} {resp.text[:300]}")
        return resp.json()

    def advance(self, seconds: float) -> int:
        """Move market time forward; returns the new market time (ms)."""
        return int(self._call("POST", "advance", {"seconds": seconds})["now_ms"])

    def set_balance(self, asset: str, amount: Decimal) -> None:
        self._call("POST", "balance", {"asset": asset, "amount": str(amount)})

    def set_price(self, symbol: str, price: Decimal) -> None:
        self._call("POST", "price", {"symbol": symbol, "price": str(price)})

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "state")
        return data

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "faults")["faults"])

    def set_fault(self, route: str, **spec: Any) -> None:
        """Add a fault, e.g. ``set_fault("POST /api/v1/order", kind="ghost", count=1)``."""
        self._call("POST", "faults", {"route": route, **spec})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def counters(self) -> dict[str, Any]:
        """Requests, faulted requests, fault kinds and reply classes since start or the last reset."""
        data: dict[str, Any] = self._call("GET", "counters")
        return data

    def reset_counters(self) -> None:
        self._call("DELETE", "counters")
