"""Test strategies loaded by dotted path (``paper.strategies:BuyEachOnce``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView

NOTIONAL = Decimal("2000")


class BuyEachOnce:
    """A market BUY of ~2000 TRY of every tradable symbol not held yet (edge far above the gate)."""

    def __init__(self, strategy_id: str) -> None:
        self._id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._id

    def required_history(self) -> int:
        return 0

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> list[OrderIntent]:
        out = []
        for symbol in tradable:
            price = snapshot.last_price(symbol)
            if price is None or portfolio.exposure_qty(symbol) != 0:
                continue
            qty = (NOTIONAL / price).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
            out.append(OrderIntent(self._id, symbol, Side.BUY, OrderType.MARKET, qty, price, Decimal(1000),
                                   reason="test: buy once"))
        return out
