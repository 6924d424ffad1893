"""The cycle's handle on metrics and tracing: one object, no-op when disabled.

After each cycle (``cycle_finished``) it also publishes the capital-policy figures the risk engine
computes for the post-trade view and the profit figures of the books, as gauges and as one
``capital.policy`` log record, when the wiring attached a :class:`BooksSource`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from loguru import logger

from btcbot.contracts.persistence import UnitOfWork
from btcbot.domain.enums import TradingState
from btcbot.domain.ledger import Account
from btcbot.domain.portfolio import PortfolioView
from btcbot.domain.symbols import parse_pair
from btcbot.observability.logging import fmt_amount
from btcbot.observability.metrics import Metrics
from btcbot.services.risk.capital_policy import CapitalPolicySnapshot

ZERO = Decimal(0)
#: Meta key of the month-start baseline of the cumulative fee and tax ledger accounts.
META_FEE_MONTH = "telemetry.fee_month"


@dataclass(frozen=True, slots=True)
class BooksSource:
    """What publishing the capital and profit figures needs (attached by ``build_cycle``)."""

    policy: Callable[[PortfolioView, datetime], CapitalPolicySnapshot]
    uow: Callable[[], UnitOfWork]
    quote: str
    tz: str


@dataclass(frozen=True, slots=True)
class ProfitFigures:
    """Profit of the books in the quote asset: realized, fees and taxes of ``month`` so far, and
    the unrealized profit of the coins held now."""

    month: str
    realized_mtd: Decimal
    unrealized: Decimal
    fees_mtd: Decimal
    taxes_mtd: Decimal


def roll_fee_month(doc: dict[str, str] | None, month: str, fees: Decimal, taxes: Decimal,
                   genesis_this_month: bool) -> dict[str, str]:
    """The month-start baseline of the cumulative ``fees``/``taxes`` ledger balances (pure).

    ``*_start`` is the cumulative balance when ``month`` began, ``*_last`` the latest one seen. In
    a new month the start is the last balance seen in the old one, so fees booked since then count
    in the new month (booking time; realized profit counts by fill time, so a fill at 23:59 booked
    after midnight differs between the two by that one fill). Without a baseline yet (first run of
    this version) the start is 0 when the bot started this month (everything is this month's), and
    the current balance otherwise (the month is then counted from this run on).
    """
    if doc is None or "month" not in doc:
        start_fees, start_taxes = (ZERO, ZERO) if genesis_this_month else (fees, taxes)
    elif doc["month"] != month:
        start_fees, start_taxes = Decimal(doc["fees_last"]), Decimal(doc["taxes_last"])
    else:
        start_fees, start_taxes = Decimal(doc["fees_start"]), Decimal(doc["taxes_start"])
    return {"month": month, "fees_start": str(start_fees), "taxes_start": str(start_taxes),
            "fees_last": str(fees), "taxes_last": str(taxes)}


def unrealized_profit(view: PortfolioView, basis: dict[str, tuple[Decimal, Decimal]]) -> Decimal:
    """Coins with a recorded cost, at the view's price, minus that cost. Coins without a recorded
    cost (adopted or deposited with no price) are left out, as a sale would realize nothing on them."""
    total = ZERO
    for symbol, price in view.prices.items():
        base = parse_pair(symbol).base
        qty, cost = basis.get(base, (ZERO, ZERO))
        if qty > 0 and price > 0:
            total += qty * price - cost
    return total


@dataclass(frozen=True, slots=True)
class BooksRead:
    """What the database says: fees and taxes booked in ``month`` so far, and the recorded
    (quantity, cost) per coin."""

    month: str
    fees_mtd: Decimal
    taxes_mtd: Decimal
    basis: Mapping[str, tuple[Decimal, Decimal]]


def read_books(uow: UnitOfWork, bases: Iterable[str], month: str, quote: str, tz: str) -> BooksRead:
    """Fees and taxes of ``month`` from the ledger, cost basis from the accounting documents; writes
    the fee baseline (in ``uow``, the caller commits) only when the month or the fees changed."""
    from btcbot.persistence.genesis import GENESIS_KEY
    from btcbot.services.accounting import cost_basis
    from btcbot.services.risk.calendar import month_key

    fees = uow.ledger.balance(Account.FEES, quote)
    taxes = uow.ledger.balance(Account.TAXES, quote)
    raw = uow.meta.get(META_FEE_MONTH)
    doc = json.loads(raw) if raw else None
    genesis = uow.meta.get(GENESIS_KEY) if doc is None else None
    genesis_this_month = genesis is None or month_key(datetime.fromisoformat(genesis), tz) == month
    new_doc = roll_fee_month(doc, month, fees, taxes, genesis_this_month)
    if new_doc != doc:
        uow.meta.set(META_FEE_MONTH, json.dumps(new_doc, sort_keys=True))
    basis = {}
    for base in bases:
        position = cost_basis(uow.meta, base)
        basis[base] = (position.qty, position.cost)
    return BooksRead(month, fees - Decimal(new_doc["fees_start"]), taxes - Decimal(new_doc["taxes_start"]), basis)


def profit_figures(books: BooksRead, view: PortfolioView, policy: CapitalPolicySnapshot) -> ProfitFigures:
    """Realized profit from the policy (the month the risk engine counts), unrealized from the
    recorded cost at the view's prices, fees and taxes from the books."""
    return ProfitFigures(policy.month, policy.realized_pnl_mtd, unrealized_profit(view, dict(books.basis)),
                         books.fees_mtd, books.taxes_mtd)


def read_profit(uow: UnitOfWork, view: PortfolioView, policy: CapitalPolicySnapshot, quote: str,
                tz: str) -> ProfitFigures:
    """:func:`read_books` for the coins of ``view``'s symbols, then :func:`profit_figures`."""
    bases = sorted({parse_pair(symbol).base for symbol in view.prices})
    return profit_figures(read_books(uow, bases, policy.month, quote, tz), view, policy)


def _books_key(view: PortfolioView, month: str) -> tuple[object, ...]:
    """Fees and cost basis change only with a fill, a deposit or a withdrawal, and each of those
    changes the holdings or the cash: while this key is unchanged the last read is still true."""
    return (month, view.cash_total, view.reserve_bucket, tuple(view.positions.items()), tuple(view.prices))


def _priced(view: PortfolioView) -> bool:
    """Every held coin has a price: otherwise equity, and every figure built on it, is unknown."""
    return all(view.prices.get(s, ZERO) > 0 for s, q in view.positions.items() if q != 0)


def _policy_text(policy: CapitalPolicySnapshot, profit: ProfitFigures | None) -> str:
    """The message of the ``capital.policy`` record."""
    a = fmt_amount
    text = (f"capital policy: tradable {a(policy.tradable)}, reserved cash {a(policy.c_res)}, fee buffer "
            f"{a(policy.fee_buffer)}, m_dd {a(policy.m_dd)}, portfolio cap {a(policy.portfolio_cap)}")
    if profit is not None:
        text += (f"; this month realized {a(profit.realized_mtd)}, fees {a(profit.fees_mtd)}, taxes "
                 f"{a(profit.taxes_mtd)}; unrealized {a(profit.unrealized)}")
    return text


@dataclass
class Telemetry:
    """Metrics, tracer and alerts for the cycle. ``alerts`` is an AlertHub or None (log only)."""

    metrics: Metrics = field(default_factory=lambda: Metrics.create(enabled=False))
    tracer: Any = None
    alerts: Any = None
    retries_seen: int = 0
    books: BooksSource | None = None
    _books_read: tuple[tuple[object, ...], BooksRead] | None = field(default=None, repr=False)

    def api_observer(self, endpoint_group: str, endpoint: str, status: str, attempt: int, latency_ms: float) -> None:
        """Client observer: metrics per attempt, and a retry count the cycle turns into an alert."""
        self.metrics.api_call(endpoint_group, endpoint, status, attempt, latency_ms)
        if attempt > 1:
            self.retries_seen += 1

    def observer(self) -> Any:
        """The exchange client's per-attempt observer: metrics, plus (when tracing) one span per
        logical exchange call with every retry attempt as an event on it.

        Without a tracer this is the bare bound method: no span objects, no scope around calls.
        """
        if self.tracer is None:
            return self.api_observer
        from btcbot.observability.tracing import ExchangeCallTracer, TracingObserver

        return TracingObserver(ExchangeCallTracer(self.tracer), self.api_observer)

    def attach_books(self, books: BooksSource, cycle_interval_s: float) -> None:
        """Publish capital and profit figures after every cycle (see :meth:`cycle_finished`)."""
        self.books = books
        self._books_read = None
        self.metrics.set_cycle_interval(cycle_interval_s)

    def raise_alert(self, uow: Any, alert: Any) -> None:
        if self.alerts is not None:
            self.alerts.raise_alert(uow, alert)

    def pending_alerts_in(self, uow: Any) -> Any:
        """The alerts ``flush_alerts`` will deliver, read inside ``uow`` (None: read them then)."""
        reader = getattr(self.alerts, "pending_in", None)
        return reader(uow) if reader is not None else None

    def flush_alerts(self, pending: Any = None) -> None:
        """Deliver pending alerts; ``pending`` from ``pending_alerts_in`` saves a transaction."""
        if self.alerts is not None:
            report = self.alerts.flush() if pending is None else self.alerts.flush(pending)
            pending = getattr(report, "pending", None)
            if isinstance(pending, int):
                self.metrics.set_alert_backlog(pending)

    @contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[None]:
        """A tracing span around the block: on ``tracer``, else on the process-wide provider. When
        nothing in this process imported OpenTelemetry (no tracer, no provider installed: the
        global provider is the no-op one), the block runs bare and OpenTelemetry stays unimported
        (start-up cost of ``btcbot once``)."""
        if self.tracer is None and "opentelemetry.trace" not in sys.modules:
            yield
            return
        from btcbot.observability.tracing import get_tracer, span

        with span(name, tracer=self.tracer or get_tracer(), **attributes):
            yield

    def cycle_finished(
        self, view: PortfolioView, state: TradingState, duration_ms: float, at: datetime, equity_known: bool = True
    ) -> None:
        """``equity_known=False`` (a held coin has no price): equity and drawdown are exported as
        NaN (unknown), never as if the coin were worth 0, and no capital or profit figure (all built
        on equity or prices) is published for this cycle."""
        m = self.metrics
        drawdown = Decimal(0)
        if not equity_known:
            m.set_portfolio(Decimal("NaN"), view.cash_free, Decimal("NaN"))
        else:
            if view.high_water > 0:
                drawdown = max(Decimal(0), 1 - view.equity / view.high_water) * 100
            m.set_portfolio(view.equity, view.cash_free, drawdown)
        m.set_trading_state(state)
        m.cycle_finished(duration_ms, at)
        if self.books is not None and equity_known and _priced(view):
            self.publish_books(self.books, view, at)

    def publish_books(self, books: BooksSource, view: PortfolioView, at: datetime) -> None:
        """Gauges and one ``capital.policy`` record with the policy and profit figures. A failure
        to read the books is logged and skipped: the cycle's own work is already committed."""
        policy = books.policy(view, at)
        profit: ProfitFigures | None = None
        key = _books_key(view, policy.month)
        try:
            if self._books_read is None or self._books_read[0] != key:
                # Idle cycles skip this transaction (steady cycle CPU is counted in transactions).
                with books.uow() as uow:
                    bases = sorted({parse_pair(symbol).base for symbol in view.prices})
                    read = read_books(uow, bases, policy.month, books.quote, books.tz)
                    uow.commit()
                self._books_read = (key, read)
            profit = profit_figures(self._books_read[1], view, policy)
        except Exception as exc:  # observability must never fail a committed cycle
            self._books_read = None
            logger.bind(event="capital.profit_failed", outcome=type(exc).__name__).warning(
                f"profit figures not read: {type(exc).__name__}: {exc}"
            )
        self.metrics.set_capital_policy(policy)
        fields: dict[str, Any] = {
            "capital_base": policy.c_base, "reserved_cash": policy.c_res, "fee_buffer": policy.fee_buffer,
            "tradable_capital": policy.tradable, "drawdown": policy.drawdown, "drawdown_multiplier": policy.m_dd,
            "portfolio_exposure_cap": policy.portfolio_cap, "asset_exposure_cap": dict(policy.asset_caps),
            "reserve_bucket": policy.reserve_bucket, "month": policy.month,
        }
        if profit is not None:
            self.metrics.set_profit(profit.realized_mtd, profit.unrealized, profit.fees_mtd, profit.taxes_mtd)
            fields.update(realized_pnl_mtd=profit.realized_mtd, unrealized_pnl=profit.unrealized,
                          fees_paid_mtd=profit.fees_mtd, taxes_paid_mtd=profit.taxes_mtd)
        # The text is formatted only when a sink takes INFO records (lazy): same message, no cost otherwise.
        logger.bind(event="capital.policy", outcome="ok", **fields).opt(lazy=True).info(
            "{}", lambda: _policy_text(policy, profit))
