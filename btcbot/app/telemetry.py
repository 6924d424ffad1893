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
    metrics: Metrics = field(default_factory=lambda: Metrics.create(enabled=False))
    tracer: Any = None

    @classmethod
    def disabled(cls) -> Telemetry:
        return cls()

    @contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[None]:
        with span(name, tracer=self.tracer or get_tracer(), **attributes):
            yield

    def cycle_finished(self, view: PortfolioView, state: TradingState, duration_ms: float, at: datetime) -> None:
        m = self.metrics
        drawdown = Decimal(0)
        if view.high_water > 0:
            drawdown = max(Decimal(0), 1 - view.equity / view.high_water) * 100
        m.set_portfolio(view.equity, view.cash_free, drawdown)
        m.set_trading_state(state)
        m.cycle_finished(duration_ms, at)
