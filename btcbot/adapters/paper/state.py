"""The paper account's state (balances, orders, fills, id counters) and where it is kept.

A cron ``btcbot once`` is a new process every minute, so the paper account must outlive the
process: the whole state is one JSON document in the ``meta`` table (key ``paper.state``),
written in its own short transaction after every change (:class:`MetaPaperStateStore`). Tests use
:class:`MemoryPaperStateStore`. Decimals are stored as exact strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from btcbot.contracts.persistence import UnitOfWork
from btcbot.sim.engine.accounts import Accounts
from btcbot.sim.engine.orders import SimOrder, SimTrade

META_KEY = "paper.state"
#: Ids start high and distinct from the simulator's so a mixed-up database is obvious.
ORDER_ID_START = 7_000_000_000
TRADE_ID_START = 9_000_000_000
SCHEMA_VERSION = 1

T = TypeVar("T", SimOrder, SimTrade)


class PaperStateStore(Protocol):
    def load(self) -> str | None:
        """The saved JSON document, or None before the first save."""
        ...

    def save(self, document: str) -> None:
        """Persist ``document`` durably (its own transaction)."""
        ...


class MemoryPaperStateStore:
    """In-process store (tests; a fresh instance is a fresh account)."""

    def __init__(self, document: str | None = None) -> None:
        self.document = document
        self.saves = 0

    def load(self) -> str | None:
        return self.document

    def save(self, document: str) -> None:
        self.document = document
        self.saves += 1


class MetaPaperStateStore:
    """The ``meta`` row ``paper.state`` through a unit of work of its own (any ``UnitOfWork``:
    the wiring passes the SQL one; the adapter depends on the persistence port only)."""

    def __init__(self, uow: Callable[[], UnitOfWork], key: str = META_KEY) -> None:
        self._uow = uow
        self._key = key

    def load(self) -> str | None:
        with self._uow() as uow:
            return uow.meta.get(self._key)

    def save(self, document: str) -> None:
        with self._uow() as uow:
            uow.meta.set(self._key, document)
            uow.commit()


@dataclass
class PaperState:
    accounts: Accounts
    orders: dict[int, SimOrder] = field(default_factory=dict)
    trades: list[SimTrade] = field(default_factory=list)
    next_order_id: int = ORDER_ID_START
    next_trade_id: int = TRADE_ID_START

    @classmethod
    def fresh(cls, quote: str, starting_balance: Decimal) -> PaperState:
        return cls(Accounts({quote: starting_balance}))

    def prune(self, before_ms: int) -> None:
        """Forget finished orders last updated before ``before_ms``, and their fills (bounded size)."""
        old = {i for i, o in self.orders.items() if not o.is_open and o.updated_ms < before_ms}
        if old:
            self.orders = {i: o for i, o in self.orders.items() if i not in old}
            self.trades = [t for t in self.trades if t.order_id not in old]

    # ---- JSON --------------------------------------------------------------------------

    def to_json(self) -> str:
        doc = {
            "version": SCHEMA_VERSION,
            "balances": {
                a: [str(self.accounts.free(a)), str(self.accounts.locked(a))] for a in self.accounts.assets()
            },
            "orders": [_dump(o) for _, o in sorted(self.orders.items())],
            "trades": [_dump(t) for t in self.trades],
            "next_order_id": self.next_order_id,
            "next_trade_id": self.next_trade_id,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PaperState:
        doc = json.loads(text)
        if doc.get("version") != SCHEMA_VERSION:
            raise ValueError(f"unsupported paper state version {doc.get('version')!r}")
        accounts = Accounts()
        for asset, (free, locked) in doc["balances"].items():
            accounts.set_free(asset, Decimal(free) + Decimal(locked))
            if Decimal(locked) > 0:
                accounts.lock(asset, Decimal(locked))
        orders = {o.id: o for o in (_load(SimOrder, d) for d in doc["orders"])}
        trades = [_load(SimTrade, d) for d in doc["trades"]]
        return cls(accounts, orders, trades, int(doc["next_order_id"]), int(doc["next_trade_id"]))


def _dump(value: SimOrder | SimTrade) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(value):
        item = getattr(value, f.name)
        out[f.name] = str(item) if isinstance(item, Decimal) else item
    return out


def _load(kind: type[T], doc: dict[str, Any]) -> T:
    values: dict[str, Any] = {}
    for f in fields(kind):
        raw = doc.get(f.name)
        values[f.name] = Decimal(raw) if f.type in ("Decimal", Decimal) and raw is not None else raw
    return kind(**values)
