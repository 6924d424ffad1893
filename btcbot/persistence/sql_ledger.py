"""SQL ledger: append-only entries plus running balances updated in the same transaction.

Core only (prebuilt statements, no ORM objects): the balances are read every cycle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update

from btcbot.contracts.records import LedgerEntry
from btcbot.domain.ledger import (
    ZERO,
    Account,
    BalanceKey,
    Posting,
    apply_postings,
    check_balances,
    check_batch,
)
from btcbot.persistence.sql_handle import SqlHandle
from btcbot.persistence.tables import LedgerBalanceRow, LedgerEntryRow

_BALANCES = cast(Table, LedgerBalanceRow.__table__)
_ENTRIES = cast(Table, LedgerEntryRow.__table__)
_KEY = (_BALANCES.c.account == bindparam("acc")) & (_BALANCES.c.asset == bindparam("a"))
_BALANCE = select(_BALANCES.c.amount).where(_KEY)
_BALANCE_UPDATE = update(_BALANCES).where(_KEY).values(amount=bindparam("amt"))
_BALANCE_INSERT = insert(_BALANCES).values(account=bindparam("acc"), asset=bindparam("a"), amount=bindparam("amt"))
_WALLET = select(_BALANCES.c.asset, _BALANCES.c.amount).where(_BALANCES.c.account == Account.WALLET.value)
_ALL_BALANCES = select(_BALANCES.c.account, _BALANCES.c.asset, _BALANCES.c.amount)
_LAST_BATCH = select(func.max(_ENTRIES.c.batch_id))
_ENTRY_INSERT = insert(_ENTRIES)
_ENTRIES_BY_REF = select(_ENTRIES).where(_ENTRIES.c.ref == bindparam("ref")).order_by(_ENTRIES.c.id)


class SqlLedger:
    def __init__(self, db: SqlHandle) -> None:
        self._s = db

    def _stored(self, account: Account, asset: str) -> Decimal | None:
        amount: Decimal | None = self._s.execute(_BALANCE, {"acc": account.value, "a": asset}).scalar()
        return amount

    def balance(self, account: Account, asset: str) -> Decimal:
        amount = self._stored(account, asset)
        return ZERO if amount is None else amount

    def post(self, batch: Sequence[Posting], at: datetime, cycle_id: int | None = None) -> int:
        check_batch(batch)
        keys = {(p.account, p.asset) for p in batch}
        before: dict[BalanceKey, Decimal] = {k: self.balance(*k) for k in keys}
        after = apply_postings(before, batch)
        check_balances(after)
        last = self._s.execute(_LAST_BATCH).scalar()
        batch_id = (last or 0) + 1
        self._s.execute(_ENTRY_INSERT, [
            {"batch_id": batch_id, "asset": p.asset, "account": p.account.value, "amount": p.amount, "ref": p.ref,
             "reason": p.reason, "cycle_id": cycle_id, "at": at}
            for p in batch
        ])
        for (account, asset), amount in after.items():
            params = {"acc": account.value, "a": asset, "amt": amount}
            if getattr(self._s.execute(_BALANCE_UPDATE, params), "rowcount", 1) == 0:
                self._s.execute(_BALANCE_INSERT, params)
        return batch_id

    def wallet_balances(self) -> dict[str, Decimal]:
        return {asset: amount for asset, amount in self._s.execute(_WALLET) if amount != ZERO}

    def entries(self, ref: str) -> list[LedgerEntry]:
        rows = self._s.execute(_ENTRIES_BY_REF, {"ref": ref})
        return [
            LedgerEntry(r.id, r.batch_id, r.asset, r.account, r.amount, r.ref, r.reason, r.cycle_id, r.at)
            for r in rows
        ]

    def check_invariants(self) -> list[str]:
        """Recompute everything from the entries (a full scan: reconcile and tests only)."""
        sums: dict[BalanceKey, Decimal] = defaultdict(Decimal)
        per_batch: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        problems: list[str] = []
        query = select(
            LedgerEntryRow.batch_id, LedgerEntryRow.account, LedgerEntryRow.asset, LedgerEntryRow.amount
        ).execution_options(yield_per=10_000)
        for batch_id, account, asset, amount in self._s.execute(query):
            try:
                key = (Account(account), asset)
            except ValueError:
                problems.append(f"unknown account {account!r} in batch {batch_id}")
                continue
            sums[key] += amount
            per_batch[(batch_id, asset)] += amount
        problems += [f"batch {b} does not balance in {a}: {t}" for (b, a), t in sorted(per_batch.items()) if t]
        stored = {(Account(account), asset): amount for account, asset, amount in self._s.execute(_ALL_BALANCES)}
        for key in sorted(set(sums) | set(stored)):
            if sums.get(key, ZERO) != stored.get(key, ZERO):
                problems.append(
                    f"running balance {key[0].value}:{key[1]} is {stored.get(key, ZERO)}, entries sum to {sums.get(key, ZERO)}"
                )
        problems += [
            f"negative {a.value}:{asset} {v}"
            for (a, asset), v in sorted(sums.items())
            if a in (Account.WALLET, Account.RESERVE) and v < ZERO
        ]
        return problems
