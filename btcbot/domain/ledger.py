"""Double-entry ledger: accounts, postings and their invariants (pure, exact Decimal, no rounding).

Every money movement is a batch of postings that sums to zero per asset. Accounts, per asset:

    wallet    what the bot owns and may trade (the exchange's free + locked balance minus ``reserve``)
    reserve   harvested profit set aside; never traded. Exchange balance == wallet + reserve.
    market    the counterparty of trades (the other side of every fill)
    fees      trading fees paid (positive = paid)
    taxes     taxes on fees paid (positive = paid)
    external  the outside world: starting capital (genesis), deposits and withdrawals

Only ``external`` postings bring money in or take it out, and only with a non-empty reason. Signs:
a positive amount increases the account's balance. ``wallet`` and ``reserve`` may never go
negative; the others may (``market`` and ``external`` are usually negative).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from btcbot.domain.enums import Side
from btcbot.domain.errors import InvariantViolation
from btcbot.domain.exchange_models import Fill

ZERO = Decimal(0)


class Account(StrEnum):
    WALLET = "wallet"
    RESERVE = "reserve"
    MARKET = "market"
    FEES = "fees"
    TAXES = "taxes"
    EXTERNAL = "external"


#: Accounts whose balance may never be negative (they are real holdings).
NON_NEGATIVE_ACCOUNTS = frozenset({Account.WALLET, Account.RESERVE})


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of a batch: ``amount`` (signed, exact) of ``asset`` booked to ``account``.

    ``ref`` ties the posting to its cause (``trade:<id>``, ``genesis``, ``harvest:<month>``);
    ``reason`` says why in words and is mandatory for ``external`` postings.
    """

    asset: str
    account: Account
    amount: Decimal
    ref: str
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Posting.amount must be a Decimal")
        if not self.amount.is_finite() or self.amount == ZERO:
            raise ValueError("Posting.amount must be finite and non-zero")
        if not self.asset or self.asset != self.asset.upper():
            raise ValueError("Posting.asset must be a non-empty upper-case code")
        if not isinstance(self.account, Account):
            raise TypeError("Posting.account must be an Account")


def _pair(asset: str, debit: Account, credit: Account, amount: Decimal, ref: str, reason: str) -> list[Posting]:
    """``amount`` moves into ``debit`` out of ``credit``; no postings for a zero amount."""
    if amount == ZERO:
        return []
    return [Posting(asset, debit, amount, ref, reason), Posting(asset, credit, -amount, ref, reason)]


def postings_for_fill(fill: Fill, base: str, quote: str) -> list[Posting]:
    """The legs of one trade: asset, quote, fee and tax (fee and tax in ``fill.fee_asset``).

    BUY q at p:  wallet:BASE +q / market:BASE -q ;  wallet:QUOTE -p*q / market:QUOTE +p*q
    SELL: the asset and quote legs mirrored.  fee: wallet -fee / fees +fee ; tax: wallet -tax / taxes +tax
    """
    if fill.quantity <= ZERO or fill.price <= ZERO:
        raise InvariantViolation(f"trade {fill.trade_id}: price and quantity must be positive")
    if fill.fee < ZERO or fill.tax < ZERO:
        raise InvariantViolation(f"trade {fill.trade_id}: fee and tax must not be negative")
    ref = f"trade:{fill.trade_id}"
    reason = f"fill {fill.side.value} {fill.symbol}"
    value = fill.price * fill.quantity
    out: list[Posting] = []
    if fill.side is Side.BUY:
        out += _pair(base, Account.WALLET, Account.MARKET, fill.quantity, ref, reason)
        out += _pair(quote, Account.MARKET, Account.WALLET, value, ref, reason)
    else:
        out += _pair(base, Account.MARKET, Account.WALLET, fill.quantity, ref, reason)
        out += _pair(quote, Account.WALLET, Account.MARKET, value, ref, reason)
    out += _pair(fill.fee_asset, Account.FEES, Account.WALLET, fill.fee, ref, "trading fee")
    out += _pair(fill.fee_asset, Account.TAXES, Account.WALLET, fill.tax, ref, "tax on fee")
    return out


def _require_reason(reason: str) -> str:
    if not reason.strip():
        raise InvariantViolation("an external posting needs a non-empty reason")
    return reason


def genesis_postings(asset: str, amount: Decimal, reason: str) -> list[Posting]:
    """Starting capital: ``amount`` moves from ``external`` into ``wallet`` (amount > 0)."""
    if amount <= ZERO:
        raise InvariantViolation("genesis amount must be positive")
    return _pair(asset, Account.WALLET, Account.EXTERNAL, amount, "genesis", _require_reason(reason))


def external_adjustment(asset: str, amount: Decimal, reason: str) -> list[Posting]:
    """A deposit (amount > 0) or withdrawal (amount < 0) found by ``reconcile --apply``."""
    if amount == ZERO:
        raise InvariantViolation("an external adjustment must be non-zero")
    return _pair(asset, Account.WALLET, Account.EXTERNAL, amount, "external", _require_reason(reason))


def harvest_transfer(quote: str, amount: Decimal, ref: str = "harvest") -> list[Posting]:
    """Move harvested profit from ``wallet`` to ``reserve``.

    The exchange holds both: exchange balance of ``quote`` == wallet + reserve. Only the
    wallet part is tradable.
    """
    if amount <= ZERO:
        raise InvariantViolation("harvest amount must be positive")
    return _pair(quote, Account.RESERVE, Account.WALLET, amount, ref, "profit harvest to reserve")


def check_batch(postings: Sequence[Posting]) -> None:
    """Structural invariants of one batch; raises InvariantViolation.

    Non-empty; sums to zero per asset; every ``external`` posting carries a reason.
    """
    if not postings:
        raise InvariantViolation("empty ledger batch")
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for p in postings:
        sums[p.asset] += p.amount
        if p.account is Account.EXTERNAL and not p.reason.strip():
            raise InvariantViolation(f"external posting of {p.asset} without a reason (ref {p.ref})")
    unbalanced = {asset: total for asset, total in sums.items() if total != ZERO}
    if unbalanced:
        detail = ", ".join(f"{a} {t}" for a, t in sorted(unbalanced.items()))
        raise InvariantViolation(f"ledger batch does not balance: {detail}")


BalanceKey = tuple[Account, str]


def apply_postings(
    balances: Mapping[BalanceKey, Decimal], postings: Iterable[Posting]
) -> dict[BalanceKey, Decimal]:
    """Balances after ``postings`` (only the touched keys are returned)."""
    after: dict[BalanceKey, Decimal] = {}
    for p in postings:
        key = (p.account, p.asset)
        after[key] = after.get(key, balances.get(key, ZERO)) + p.amount
    return after


def check_balances(after: Mapping[BalanceKey, Decimal]) -> None:
    """Wallet and reserve balances may never be negative; raises InvariantViolation."""
    negative = [
        f"{account.value}:{asset} {amount}"
        for (account, asset), amount in sorted(after.items())
        if account in NON_NEGATIVE_ACCOUNTS and amount < ZERO
    ]
    if negative:
        raise InvariantViolation("negative balance after posting: " + ", ".join(negative))


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """The per-cycle checkpoint of portfolio figures the risk and capital policy carry forward.

    ``day_key`` is ``YYYY-MM-DD`` (UTC) of ``day_start_equity``; ``month_key`` is ``YYYY-MM`` of
    the month-to-date figures. ``rolling_notional_30d`` is traded notional over 30 days (quote).
    """

    at: datetime
    cycle_id: int
    equity: Decimal
    high_water_mark: Decimal
    day_start_equity: Decimal
    day_key: str
    reserve_bucket: Decimal
    rolling_notional_30d: Decimal
    realized_pnl_mtd: Decimal
    month_key: str
    harvested_mtd: Decimal
