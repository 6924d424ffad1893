"""Prometheus metrics for the trading cycle, on a private registry.

Why a private ``CollectorRegistry``: the process-wide default registry is a global with side effects;
two ``Metrics`` instances (tests, a simulator next to a bot) would collide on metric names. Every
``Metrics`` owns its own registry and ``render()`` exposes only that.

Floats: money is ``Decimal`` everywhere in btcbot. Metrics are the ONE place where values become
``float``, and only inside this module (``_f``), because Prometheus samples are float64. Nothing read
back from metrics ever feeds a trading decision.

Disabled metrics (``Metrics.create(enabled=False)``) keep no registry; every method returns after one
attribute test, so instrumented code needs no ``if metrics:`` branches. ``last_cycle_at`` is tracked
either way because ``/healthz`` and ``status`` use it.

Metric catalogue (names are part of the operations contract, see docs/operations.md):

counters   orders_submitted_total, orders_rejected_total{code}, api_errors_total{endpoint_group,kind},
           circuit_open_total{endpoint_group}, risk_rejects_total{code}, decisions_total
histograms cycle_duration_ms, api_latency_ms{endpoint_group}, slippage_bps
gauges     portfolio_equity, free_quote_balance, drawdown_pct, market_data_age_seconds{symbol},
           trading_state{state} (1 for the current state, 0 for the others),
           breaker_state{endpoint_group} (0 closed, 1 half-open, 2 open),
           reconciliation_drift{asset}, last_cycle_timestamp (unix seconds),
           cycle_interval_seconds, alert_outbox_pending,
           strategy_holding{reason} (1 for why the last cycle sent no order, 0 for the other
           reasons seen; all 0 while trading; see btcbot/app/hold_report.py)
profit     realized_pnl_mtd, unrealized_pnl, fees_paid_mtd, taxes_paid_mtd (quote asset)
capital    capital_base, reserved_cash, fee_buffer, tradable_capital, drawdown_multiplier,
           asset_exposure_cap{symbol}, portfolio_exposure_cap, reserve_bucket (quote asset; the
           capital policy of docs/risk.md, as the risk engine computed it after the last cycle)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from btcbot.domain.enums import TradingState

if TYPE_CHECKING:  # prometheus_client is imported only when metrics are enabled (start-up cost)
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Cycle wall time in milliseconds: a healthy cycle is well under a second; a slow exchange can take
#: tens of seconds; anything past two minutes is near the supervisor's stop timeout.
CYCLE_DURATION_BUCKETS_MS: tuple[float, ...] = (
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    30000,
    60000,
    120000,
)
#: One HTTP attempt in milliseconds (the client timeout is a few seconds).
API_LATENCY_BUCKETS_MS: tuple[float, ...] = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
#: Fill slippage versus the decision price in basis points; negative = better than expected.
SLIPPAGE_BUCKETS_BPS: tuple[float, ...] = (-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50, 100, 250)

#: ``breaker_state`` encoding. Keys are compared case-insensitively; ``-`` and ``_`` are equivalent.
BREAKER_STATE_VALUES: dict[str, float] = {"closed": 0.0, "half_open": 1.0, "open": 2.0}

#: ``status`` value the exchange-client observer uses for a successful attempt.
OK_STATUS = "ok"


class CapitalFigures(Protocol):
    """What :meth:`Metrics.set_capital_policy` reads; ``CapitalPolicySnapshot`` (services/risk)
    has these fields. A Protocol so this module does not import the risk service."""

    @property
    def c_base(self) -> Decimal: ...
    @property
    def c_res(self) -> Decimal: ...
    @property
    def fee_buffer(self) -> Decimal: ...
    @property
    def tradable(self) -> Decimal: ...
    @property
    def m_dd(self) -> Decimal: ...
    @property
    def asset_caps(self) -> Mapping[str, Decimal]: ...
    @property
    def portfolio_cap(self) -> Decimal: ...
    @property
    def reserve_bucket(self) -> Decimal: ...


def _f(value: Decimal | float | int) -> float:
    """The metrics boundary: the only Decimal -> float conversion in btcbot."""
    return float(value)


@dataclass(frozen=True, slots=True)
class _Instruments:
    registry: CollectorRegistry
    orders_submitted: Counter
    orders_rejected: Counter
    api_errors: Counter
    circuit_open: Counter
    risk_rejects: Counter
    decisions: Counter
    cycle_duration: Histogram
    api_latency: Histogram
    slippage: Histogram
    portfolio_equity: Gauge
    free_quote_balance: Gauge
    drawdown_pct: Gauge
    market_data_age: Gauge
    trading_state: Gauge
    breaker_state: Gauge
    reconciliation_drift: Gauge
    last_cycle_timestamp: Gauge
    cycle_interval: Gauge
    alert_outbox_pending: Gauge
    strategy_holding: Gauge
    realized_pnl_mtd: Gauge
    unrealized_pnl: Gauge
    fees_paid_mtd: Gauge
    taxes_paid_mtd: Gauge
    capital_base: Gauge
    reserved_cash: Gauge
    fee_buffer: Gauge
    tradable_capital: Gauge
    drawdown_multiplier: Gauge
    asset_exposure_cap: Gauge
    portfolio_exposure_cap: Gauge
    reserve_bucket: Gauge


def _build_instruments() -> _Instruments:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    r = CollectorRegistry(auto_describe=True)
    return _Instruments(
        registry=r,
        orders_submitted=Counter(
            "orders_submitted", "Orders sent to the exchange and acknowledged.", registry=r
        ),
        orders_rejected=Counter(
            "orders_rejected", "Orders definitively rejected by the exchange.", ["code"], registry=r
        ),
        api_errors=Counter(
            "api_errors", "Failed exchange API attempts.", ["endpoint_group", "kind"], registry=r
        ),
        circuit_open=Counter(
            "circuit_open", "Circuit breaker transitions to open.", ["endpoint_group"], registry=r
        ),
        risk_rejects=Counter("risk_rejects", "Intents denied by the risk engine.", ["code"], registry=r),
        decisions=Counter("decisions", "Order intents produced by the strategy.", registry=r),
        cycle_duration=Histogram(
            "cycle_duration_ms",
            "Wall time of one trading cycle (ms).",
            buckets=CYCLE_DURATION_BUCKETS_MS,
            registry=r,
        ),
        api_latency=Histogram(
            "api_latency_ms",
            "Latency of one exchange API attempt (ms).",
            ["endpoint_group"],
            buckets=API_LATENCY_BUCKETS_MS,
            registry=r,
        ),
        slippage=Histogram(
            "slippage_bps",
            "Fill price versus decision price (bps, positive = worse).",
            buckets=SLIPPAGE_BUCKETS_BPS,
            registry=r,
        ),
        portfolio_equity=Gauge("portfolio_equity", "Equity in the quote asset.", registry=r),
        free_quote_balance=Gauge("free_quote_balance", "Free quote-asset balance.", registry=r),
        drawdown_pct=Gauge("drawdown_pct", "Drawdown from the high-water mark, in percent.", registry=r),
        market_data_age=Gauge(
            "market_data_age_seconds", "Age of the newest market data per symbol.", ["symbol"], registry=r
        ),
        trading_state=Gauge(
            "trading_state", "1 for the current trading state, 0 for the others.", ["state"], registry=r
        ),
        breaker_state=Gauge(
            "breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open.", ["endpoint_group"], registry=r
        ),
        reconciliation_drift=Gauge(
            "reconciliation_drift", "Exchange balance minus ledger balance per asset.", ["asset"], registry=r
        ),
        last_cycle_timestamp=Gauge(
            "last_cycle_timestamp", "Unix time (s) at which the last cycle finished.", registry=r
        ),
        cycle_interval=Gauge(
            "cycle_interval_seconds", "Configured seconds between cycle starts (trading.cycle_interval_s).", registry=r
        ),
        alert_outbox_pending=Gauge(
            "alert_outbox_pending", "Alerts in the outbox not yet accepted by the webhook.", registry=r
        ),
        strategy_holding=Gauge(
            "strategy_holding",
            "1 for the reason the last cycle sent no order (warming_up, no_signal, edge_below_minimum, ...), "
            "0 for the others seen.",
            ["reason"],
            registry=r,
        ),
        realized_pnl_mtd=Gauge(
            "realized_pnl_mtd", "Realized profit this month, after fees and taxes (quote).", registry=r
        ),
        unrealized_pnl=Gauge(
            "unrealized_pnl", "Held coins at the last price minus their recorded cost (quote).", registry=r
        ),
        fees_paid_mtd=Gauge("fees_paid_mtd", "Trading fees booked this month (quote).", registry=r),
        taxes_paid_mtd=Gauge("taxes_paid_mtd", "Taxes on fees booked this month (quote).", registry=r),
        capital_base=Gauge("capital_base", "C_base: the capital the policy sizes from (quote).", registry=r),
        reserved_cash=Gauge("reserved_cash", "C_res: cash that must stay free (quote).", registry=r),
        fee_buffer=Gauge("fee_buffer", "FeeBuffer: cash kept for fees (quote).", registry=r),
        tradable_capital=Gauge("tradable_capital", "Tradable capital after reserve and fee buffer (quote).", registry=r),
        drawdown_multiplier=Gauge(
            "drawdown_multiplier", "m_dd: exposure multiplier of the drawdown tier (1 = no de-risking).", registry=r
        ),
        asset_exposure_cap=Gauge(
            "asset_exposure_cap", "AssetCap: notional cap per symbol (quote).", ["symbol"], registry=r
        ),
        portfolio_exposure_cap=Gauge(
            "portfolio_exposure_cap", "PortfolioCap: gross notional cap (quote).", registry=r
        ),
        reserve_bucket=Gauge("reserve_bucket", "Harvested profit set aside, never traded (quote).", registry=r),
    )


class Metrics:
    """Typed recording methods over a private registry. Build with :meth:`create`."""

    __slots__ = ("_i", "_last_cycle_at", "_hold_reasons")

    def __init__(self, instruments: _Instruments | None) -> None:
        self._i = instruments
        self._last_cycle_at: datetime | None = None
        self._hold_reasons: set[str] = set()

    @classmethod
    def create(cls, enabled: bool = True) -> Metrics:
        """A fresh instance with its own registry, or a cheap no-op one when ``enabled`` is false."""
        instruments = _build_instruments() if enabled else None
        if instruments is not None:
            # Before the first cycle computed it: no de-risking, so a rule on m_dd < 1 stays quiet.
            instruments.drawdown_multiplier.set(1.0)
        return cls(instruments)

    @property
    def enabled(self) -> bool:
        return self._i is not None

    @property
    def registry(self) -> CollectorRegistry | None:
        """The private registry (``None`` when disabled); for tests and custom exporters."""
        return self._i.registry if self._i is not None else None

    @property
    def last_cycle_at(self) -> datetime | None:
        """When the last cycle finished (tracked even when disabled, for health checks)."""
        return self._last_cycle_at

    # --- counters -------------------------------------------------------------------------------
    def order_submitted(self) -> None:
        if self._i is not None:
            self._i.orders_submitted.inc()

    def order_rejected(self, code: str) -> None:
        """``code``: the exchange's error name (bounded set, e.g. BALANCE_NOT_ENOUGH)."""
        if self._i is not None:
            self._i.orders_rejected.labels(code=code).inc()

    def risk_reject(self, code: str) -> None:
        """``code``: the risk engine's DecisionCode value."""
        if self._i is not None:
            self._i.risk_rejects.labels(code=code).inc()

    def decisions(self, count: int) -> None:
        """Number of intents the strategy produced this cycle."""
        if self._i is not None and count > 0:
            self._i.decisions.inc(count)

    def circuit_opened(self, group: str) -> None:
        """Call on a breaker's transition to open (not on every cycle it stays open)."""
        if self._i is not None:
            self._i.circuit_open.labels(endpoint_group=group).inc()

    def api_call(
        self, endpoint_group: str, endpoint: str, status: str, attempt: int, latency_ms: float
    ) -> None:
        """Exchange-client observer, called once per HTTP attempt.

        Records the latency per endpoint group (the endpoint itself is not a label, to bound
        cardinality) and counts ``api_errors_total{kind=status}`` when ``status`` is not ``"ok"``.
        ``status`` must come from a small fixed set (e.g. timeout, http_5xx, rate_limited).
        """
        if self._i is None:
            return
        self._i.api_latency.labels(endpoint_group=endpoint_group).observe(latency_ms)
        if status != OK_STATUS:
            self._i.api_errors.labels(endpoint_group=endpoint_group, kind=status).inc()

    # --- histograms -----------------------------------------------------------------------------
    def cycle_finished(self, duration_ms: float, at: datetime) -> None:
        """Observe the cycle duration and stamp ``last_cycle_timestamp`` with ``at`` (aware)."""
        if at.tzinfo is None:
            raise ValueError("cycle_finished needs an aware datetime")
        self._last_cycle_at = at
        if self._i is not None:
            self._i.cycle_duration.observe(duration_ms)
            self._i.last_cycle_timestamp.set(at.timestamp())

    def fill_slippage(self, bps: Decimal | float) -> None:
        if self._i is not None:
            self._i.slippage.observe(_f(bps))

    # --- gauges ---------------------------------------------------------------------------------
    def set_portfolio(self, equity: Decimal, free_quote: Decimal, drawdown_pct: Decimal) -> None:
        """``drawdown_pct`` in percent (12.5 means 12.5 %), as the capital policy computes it."""
        if self._i is not None:
            self._i.portfolio_equity.set(_f(equity))
            self._i.free_quote_balance.set(_f(free_quote))
            self._i.drawdown_pct.set(_f(drawdown_pct))

    def set_market_data_age(self, symbol: str, seconds: float) -> None:
        if self._i is not None:
            self._i.market_data_age.labels(symbol=symbol).set(seconds)

    def set_trading_state(self, state: TradingState | str) -> None:
        """One series per state: 1 for ``state``, 0 for the others (alert on ``trading_state{state="HALTED"} == 1``)."""
        current = TradingState(state)
        if self._i is None:
            return
        for s in TradingState:
            self._i.trading_state.labels(state=s.value).set(1.0 if s is current else 0.0)

    def set_breaker(self, group: str, state: str) -> None:
        """``state``: closed | half_open (or half-open) | open, case-insensitive."""
        key = str(state).lower().replace("-", "_")
        try:
            value = BREAKER_STATE_VALUES[key]
        except KeyError:
            raise ValueError(f"unknown breaker state {state!r}") from None
        if self._i is not None:
            self._i.breaker_state.labels(endpoint_group=group).set(value)

    def set_drift(self, asset: str, value: Decimal) -> None:
        """Exchange balance minus ledger balance for ``asset`` (0 when reconciled)."""
        if self._i is not None:
            self._i.reconciliation_drift.labels(asset=asset).set(_f(value))

    def set_cycle_interval(self, seconds: float) -> None:
        """``trading.cycle_interval_s``: lets an alert rule say "no cycle for N intervals"."""
        if self._i is not None:
            self._i.cycle_interval.set(seconds)

    def set_alert_backlog(self, pending: int) -> None:
        """Alerts still in the outbox after a flush (0 when the webhook took them all)."""
        if self._i is not None:
            self._i.alert_outbox_pending.set(pending)

    def set_strategy_hold(self, reason: str | None) -> None:
        """Why the last cycle sent no order (a ``HoldCode`` value), or None when it traded or the
        strategy was not asked: 1 for ``reason``, 0 for every other reason seen so far."""
        if self._i is None:
            return
        if reason is not None:
            self._hold_reasons.add(reason)
        for seen in self._hold_reasons:
            self._i.strategy_holding.labels(reason=seen).set(1.0 if seen == reason else 0.0)

    def set_profit(self, realized_mtd: Decimal, unrealized: Decimal, fees_mtd: Decimal, taxes_mtd: Decimal) -> None:
        """Month-to-date realized profit, fees and taxes, and the unrealized profit now (quote)."""
        if self._i is not None:
            self._i.realized_pnl_mtd.set(_f(realized_mtd))
            self._i.unrealized_pnl.set(_f(unrealized))
            self._i.fees_paid_mtd.set(_f(fees_mtd))
            self._i.taxes_paid_mtd.set(_f(taxes_mtd))

    def set_capital_policy(self, policy: CapitalFigures) -> None:
        """The capital-policy figures of the last cycle (see :class:`CapitalFigures`)."""
        if self._i is None:
            return
        i = self._i
        i.capital_base.set(_f(policy.c_base))
        i.reserved_cash.set(_f(policy.c_res))
        i.fee_buffer.set(_f(policy.fee_buffer))
        i.tradable_capital.set(_f(policy.tradable))
        i.drawdown_multiplier.set(_f(policy.m_dd))
        i.portfolio_exposure_cap.set(_f(policy.portfolio_cap))
        i.reserve_bucket.set(_f(policy.reserve_bucket))
        for symbol, cap in policy.asset_caps.items():
            i.asset_exposure_cap.labels(symbol=symbol).set(_f(cap))

    # --- exposition -----------------------------------------------------------------------------
    def render(self) -> bytes:
        """Prometheus text exposition format (empty when disabled)."""
        if self._i is None:
            return b""
        from prometheus_client import generate_latest

        return generate_latest(self._i.registry)
