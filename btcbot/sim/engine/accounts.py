"""The simulated account's balances: free and locked per asset.

Invariant (tested): ``free >= 0`` and ``locked >= 0`` for every asset, and ``locked`` equals the sum
of ``lock_remaining`` of the open orders holding that asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from btcbot.sim.engine.money import ZERO


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """One asset's balance; ``total = free + locked``."""

    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class Accounts:
    """Free/locked balances of the single simulated account."""

    def __init__(self, initial: Mapping[str, Decimal] | None = None) -> None:
        self._free: dict[str, Decimal] = {}
        self._locked: dict[str, Decimal] = {}
        for asset, amount in (initial or {}).items():
            self.set_free(asset, amount)

    def free(self, asset: str) -> Decimal:
        return self._free.get(asset, ZERO)

    def locked(self, asset: str) -> Decimal:
        return self._locked.get(asset, ZERO)

    def set_free(self, asset: str, amount: Decimal) -> None:
        """Admin: set the free balance (locked funds are untouched)."""
        if amount < 0:
            raise ValueError("balance cannot be negative")
        self._free[asset.upper()] = amount

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked; the caller has checked availability."""
        if amount < 0 or amount > self.free(asset):
            raise ValueError(f"cannot lock {amount} {asset}: free {self.free(asset)}")
        self._free[asset] = self.free(asset) - amount
        self._locked[asset] = self.locked(asset) + amount

    def release(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        self.spend_locked(asset, amount)
        self.credit(asset, amount)

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        """Remove ``amount`` from locked (it leaves the account: paid to a counterparty or fee)."""
        if amount < 0 or amount > self.locked(asset):
            raise ValueError(f"cannot spend {amount} locked {asset}: locked {self.locked(asset)}")
        self._locked[asset] = self.locked(asset) - amount

    def debit(self, asset: str, amount: Decimal) -> None:
        """Remove ``amount`` from free."""
        if amount < 0 or amount > self.free(asset):
            raise ValueError(f"cannot debit {amount} {asset}: free {self.free(asset)}")
        self._free[asset] = self.free(asset) - amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` to free."""
        if amount < 0:
            raise ValueError("credit must be >= 0")
        self._free[asset] = self.free(asset) + amount

    def assets(self) -> list[str]:
        return sorted(set(self._free) | set(self._locked))

    def balance(self, asset: str) -> AssetBalance:
        return AssetBalance(asset, self.free(asset), self.locked(asset))
