"""The cycle's handle on metrics and tracing: one object, no-op when disabled."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from btcbot.domain.enums import TradingState
from btcbot.domain.portfolio import PortfolioView
from btcbot.observability.metrics import Metrics
from btcbot.observability.tracing import get_tracer, span


@dataclass
class Telemetry:
    """Metrics, tracer and alerts for the cycle. ``alerts`` is an AlertHub or None (log only)."""

    metrics: Metrics = field(default_factory=lambda: Metrics.create(enabled=False))
    tracer: Any = None
    alerts: Any = None
    retries_seen: int = 0

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
        from btcbot.observability.tracing import ExchangeCallTracer, TracingObserver

        if self.tracer is None:
            return self.api_observer
        return TracingObserver(ExchangeCallTracer(self.tracer), self.api_observer)

    def raise_alert(self, uow: Any, alert: Any) -> None:
        if self.alerts is not None:
            self.alerts.raise_alert(uow, alert)

    def flush_alerts(self) -> None:
        if self.alerts is not None:
            self.alerts.flush()

    @classmethod
    def disabled(cls) -> Telemetry:
        return cls()

    @contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[None]:
        with span(name, tracer=self.tracer or get_tracer(), **attributes):
            yield

    def cycle_finished(
        self, view: PortfolioView, state: TradingState, duration_ms: float, at: datetime, equity_known: bool = True
    ) -> None:
        """``equity_known=False`` (a held coin has no price): equity and drawdown are exported as
        NaN (unknown), never as if the coin were worth 0."""
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
