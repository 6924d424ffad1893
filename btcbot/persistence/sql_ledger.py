"""SQL ledger: append-only entries plus running balances updated in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
from btcbot.persistence.tables import LedgerBalanceRow, LedgerEntryRow


class SqlLedger:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _balance_row(self, account: Account, asset: str) -> LedgerBalanceRow | None:
        return self._s.get(LedgerBalanceRow, (account.value, asset))

    def balance(self, account: Account, asset: str) -> Decimal:
        row = self._balance_row(account, asset)
        return ZERO if row is None else row.amount

    def post(self, batch: Sequence[Posting], at: datetime, cycle_id: int | None = None) -> int:
        check_batch(batch)
        keys = {(p.account, p.asset) for p in batch}
        before: dict[BalanceKey, Decimal] = {k: self.balance(*k) for k in keys}
        after = apply_postings(before, batch)
        check_balances(after)
        last = self._s.scalar(select(func.max(LedgerEntryRow.batch_id)))
        batch_id = (last or 0) + 1
        self._s.add_all(
            LedgerEntryRow(
                batch_id=batch_id,
                asset=p.asset,
                account=p.account.value,
                amount=p.amount,
                ref=p.ref,
                reason=p.reason,
                cycle_id=cycle_id,
                at=at,
            )
            for p in batch
        )
        for (account, asset), amount in after.items():
            row = self._balance_row(account, asset)
            if row is None:
                self._s.add(LedgerBalanceRow(account=account.value, asset=asset, amount=amount))
            else:
                row.amount = amount
        return batch_id

    def wallet_balances(self) -> dict[str, Decimal]:
        rows = self._s.scalars(select(LedgerBalanceRow).where(LedgerBalanceRow.account == Account.WALLET.value))
        return {r.asset: r.amount for r in rows if r.amount != ZERO}

    def entries(self, ref: str) -> list[LedgerEntry]:
        rows = self._s.scalars(select(LedgerEntryRow).where(LedgerEntryRow.ref == ref).order_by(LedgerEntryRow.id))
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
        stored = {(Account(r.account), r.asset): r.amount for r in self._s.scalars(select(LedgerBalanceRow))}
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
