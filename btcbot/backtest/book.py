"""The backtest's books: an in-memory double-entry ledger, fill accounting and trading state.

It applies exactly what the live path applies, with the same pure functions:
:func:`btcbot.domain.ledger.postings_for_fill` / :func:`~btcbot.domain.ledger.check_batch` /
:func:`~btcbot.domain.ledger.check_balances` for every fill, :func:`btcbot.services.accounting.record_fill`
for cost basis, realized PnL and rolling notional (over an in-memory ``meta``), the capital policy's
harvest, and the same REDUCING/ACTIVE rule as ``StateService.apply_post_trade``. Only the storage
differs (dicts instead of tables), because a database round trip per bar would dominate a backtest.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from btcbot.domain.enums import TradingState
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ledger import (
    Account,
    BalanceKey,
    PortfolioSnapshot,
    Posting,
    apply_postings,
    check_balances,
    check_batch,
    genesis_postings,
    harvest_transfer,
    postings_for_fill,
)
from btcbot.domain.symbols import parse_pair
from btcbot.services.accounting import realized_pnl_mtd, record_fill, rolling_notional
from btcbot.services.risk.calendar import risk_day
from btcbot.services.risk.capital_policy import MonthToDate, apply_harvest
from btcbot.services.risk.engine import PostTradeResult

ZERO = Decimal(0)


class MemoryMeta:
    """``MetaRepository`` over a dict (what accounting keeps in the ``meta`` table live).

    Accounting's JSON documents are kept parsed (``load_document``/``store_document``, see
    ``services.accounting``) and serialized only when read as text (``get``), exactly as
    accounting would have written them.
    """

    def __init__(self) -> None:
        self._data: dict[str, object] = {}

    def get(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def set(self, key: str, value: str) -> None:
        self._data[key] = value

    def load_document(self, key: str) -> object:
        """The stored document (parsed once if it was set as text); None when absent."""
        value = self._data.get(key)
        if isinstance(value, str):
            value = self._data[key] = json.loads(value) if value else None
        return value

    def store_document(self, key: str, doc: object) -> None:
        self._data[key] = doc


class BacktestBook:
    """Ledger balances, accounting and state of one backtest run."""

    def __init__(self, quote: str, starting_cash: Decimal, tz: str) -> None:
        self.quote = quote
        self.tz = tz
        self.balances: dict[BalanceKey, Decimal] = {}
        self.meta = MemoryMeta()
        self.state = TradingState.ACTIVE
        self.snapshot: PortfolioSnapshot | None = None
        self._fills = 0
        self._cache_key: tuple[int, str] | None = None
        self._cache: tuple[Decimal, Decimal] = (ZERO, ZERO)
        #: Bumped by every posting: balances (wallet, reserve) changed.
        self.version = 0
        self.post(genesis_postings(quote, starting_cash, "backtest starting capital"))

    def post(self, postings: list[Posting]) -> None:
        check_batch(postings)
        after = apply_postings(self.balances, postings)
        check_balances(after)
        self.balances.update(after)
        self.version += 1

    def wallet(self) -> dict[str, Decimal]:
        return {asset: amount for (account, asset), amount in self.balances.items()
                if account is Account.WALLET and amount != 0}

    def balance(self, account: Account, asset: str) -> Decimal:
        return self.balances.get((account, asset), ZERO)

    def book_fill(self, fill: Fill, now: datetime) -> Decimal:
        """Post the fill's legs and update accounting; returns the realized PnL."""
        pair = parse_pair(fill.symbol)
        self.post(postings_for_fill(fill, pair.base, pair.quote))
        self._fills += 1
        return record_fill(self.meta, fill, pair.base, now, self.tz)

    def accounting(self, now: datetime, day: str | None = None) -> tuple[Decimal, Decimal]:
        """(realized PnL month-to-date, rolling 30-day notional); re-read only when it can change.

        ``day``: the risk day of ``now`` (``risk_day(now, tz).isoformat()``) when the caller knows it.
        """
        # Both figures change only with a fill or when the risk day (in ``tz``) rolls over.
        key = (self._fills, day if day is not None else risk_day(now, self.tz).isoformat())
        if key != self._cache_key:
            self._cache = (realized_pnl_mtd(self.meta, now, self.tz), rolling_notional(self.meta, now, self.tz))
            self._cache_key = key
        return self._cache

    def apply_post_trade(self, post: PostTradeResult) -> TradingState:
        """``StateService.apply_post_trade`` without the operator/reconcile holds a backtest lacks."""
        if self.state is not TradingState.HALTED:
            self.state = TradingState.REDUCING if post.state is TradingState.REDUCING else TradingState.ACTIVE
        return self.state

    def harvest(self, realized_mtd: Decimal, month: str, reserve: Decimal, now: datetime,
                threshold: Decimal, ratio: Decimal, ref: str, harvested: Decimal | None = None) -> Decimal:
        """``StateService.harvest``: sweep the due profit to the reserve; returns harvested MTD.

        ``harvested``: what was harvested this month so far; None reads it from ``snapshot``.
        """
        if harvested is None:
            snap = self.snapshot
            harvested = snap.harvested_mtd if snap and snap.month_key == month else ZERO
        result = apply_harvest(MonthToDate(month, realized_mtd, harvested), reserve, now, self.tz, threshold, ratio)
        if result.amount > 0 and self.balance(Account.WALLET, self.quote) >= result.amount:
            self.post(harvest_transfer(self.quote, result.amount, ref))
            return result.mtd.harvested
        return harvested

