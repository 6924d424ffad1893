"""A minimal in-memory Account for the review regression tests: it answers the reads
reconciliation makes from fixed lists and records writes. No network, no clock of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from btcbot.domain.exchange_models import CancelAck, ExchangeOrder, Fill, OrderRequest, SubmitAck
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.market import Balance


@dataclass
class FakeAccount:
    open_rows: list[ExchangeOrder] = field(default_factory=list)
    history: list[ExchangeOrder] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    wallet: dict[str, Decimal] = field(default_factory=dict)
    cancelled: list[int] = field(default_factory=list)

    def balances(self) -> list[Balance]:
        return [Balance(asset=a, free=v, locked=Decimal(0), total=v) for a, v in sorted(self.wallet.items())]

    def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        return [r for r in self.open_rows if symbol is None or r.symbol == symbol]

    def all_orders(
        self, symbol: str, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[ExchangeOrder]:
        return [r for r in [*self.history, *self.open_rows] if r.symbol == symbol]

    def get_order(self, exchange_order_id: int) -> ExchangeOrder | None:
        for row in [*self.history, *self.open_rows]:
            if row.exchange_order_id == exchange_order_id:
                return row
        return None

    def trades_for_order(self, exchange_order_id: int) -> list[Fill]:
        return [f for f in self.fills if f.order_id == exchange_order_id]

    def trades(self, symbol: str, start: datetime, end: datetime) -> list[Fill]:
        return [f for f in self.fills if f.symbol == symbol]

    def submit_order(self, request: OrderRequest) -> SubmitAck:
        raise AssertionError("the review tests never submit through the fake")

    def cancel_order(self, exchange_order_id: int) -> CancelAck:
        self.cancelled.append(exchange_order_id)
        return CancelAck(exchange_order_id=ExchangeOrderId(exchange_order_id))

    def request_counts(self) -> dict[str, int]:
        return {}
