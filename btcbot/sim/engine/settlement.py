"""Applying one fill to the account: base/quote movements, fee and tax in the quote asset.

Buy: the account pays ``price*amount + fee + tax`` in quote, taken first from the order's lock,
then from free funds, and receives ``amount`` base. Sell: the account gives ``amount`` base (from the
lock for limit orders) and receives ``price*amount - fee - tax`` quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from btcbot.sim.engine.accounts import Accounts
from btcbot.sim.engine.instruments import PairSpec
from btcbot.sim.engine.money import fee_amount
from btcbot.sim.engine.orders import BUY, SimOrder


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Commission rates; tax is charged on the commission."""

    maker_rate: Decimal
    taker_rate: Decimal
    tax_rate: Decimal

    def fee_and_tax(self, notional: Decimal, maker: bool) -> tuple[Decimal, Decimal]:
        fee = fee_amount(notional, self.maker_rate if maker else self.taker_rate)
        return fee, fee_amount(fee, self.tax_rate)

    @property
    def reserve_rate(self) -> Decimal:
        """Worst-case commission+tax rate, used to lock funds for a buy."""
        return max(self.maker_rate, self.taker_rate) * (1 + self.tax_rate)


def _take(accounts: Accounts, order: SimOrder, asset: str, amount: Decimal) -> None:
    """Pay ``amount`` of ``asset`` using the order's lock first, then free funds."""
    from_lock = min(amount, order.lock_remaining) if order.lock_asset == asset else Decimal(0)
    if from_lock > 0:
        accounts.spend_locked(asset, from_lock)
        order.lock_remaining -= from_lock
    rest = amount - from_lock
    if rest > 0:
        accounts.debit(asset, rest)


def settle_fill(
    accounts: Accounts,
    spec: PairSpec,
    fees: FeeSchedule,
    order: SimOrder,
    amount: Decimal,
    price: Decimal,
    maker: bool,
) -> tuple[Decimal, Decimal]:
    """Move balances for one fill; returns (fee, tax), both positive."""
    notional = amount * price
    fee, tax = fees.fee_and_tax(notional, maker)
    if order.side == BUY:
        _take(accounts, order, spec.quote, notional + fee + tax)
        accounts.credit(spec.base, amount)
    else:
        _take(accounts, order, spec.base, amount)
        accounts.credit(spec.quote, notional - fee - tax)
    return fee, tax


def release_lock(accounts: Accounts, order: SimOrder) -> None:
    """Give back whatever the order still holds (on Closed or Canceled)."""
    if order.lock_remaining > 0:
        accounts.release(order.lock_asset, order.lock_remaining)
        order.lock_remaining = Decimal(0)
