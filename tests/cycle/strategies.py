"""Deterministic test strategies for the cycle tests, loaded by dotted path
(``BTCBOT_TRADING__STRATEGY=cycle.strategies:MarketBuyOnce``; ``tests/`` must be on PYTHONPATH).

Each buys a small fixed notional of every tradable symbol the portfolio neither holds nor has a
resting buy for, so the first cycle trades and later cycles only trade what a crash left undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView

#: Quote notional per order: well above the venue minimum (99.91 TRY + margin), far below caps.
NOTIONAL = Decimal("400")
#: Comfortably above the edge gate (edge_min + fees + slippage + noise).
EDGE_BPS = Decimal("1000")
QTY_STEP = Decimal("0.00000001")


class _BuyEach:
    order_type: OrderType = OrderType.MARKET
    #: LIMIT price as a fraction of the last price (below the market: the order rests).
    limit_ratio: Decimal = Decimal("0.97")

    def __init__(self, strategy_id: str) -> None:
        self._strategy_id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    def required_history(self) -> int:
        return 0

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        intents = []
        for symbol in tradable_symbols:
            held = portfolio.positions.get(symbol, Decimal(0))
            resting = portfolio.open_buy_qty.get(symbol, Decimal(0))
            price = snapshot.last_price(symbol)
            if held != 0 or resting != 0 or price is None:
                continue
            limit = None
            if self.order_type is OrderType.LIMIT:
                limit = price * self.limit_ratio
                price = limit
            qty = (NOTIONAL / price).quantize(QTY_STEP, rounding=ROUND_DOWN)
            intents.append(OrderIntent(
                strategy_id=self._strategy_id, symbol=symbol, side=Side.BUY, order_type=self.order_type,
                quantity=qty, reference_price=price, expected_edge_bps=EDGE_BPS, limit_price=limit,
                reason="test: buy once",
            ))
        return intents


class MarketBuyOnce(_BuyEach):
    """A market BUY of ``NOTIONAL`` per symbol not yet held: fills at once on the simulator."""

    order_type = OrderType.MARKET


class RestingLimitBuy(_BuyEach):
    """A LIMIT BUY 3 % under the last price per symbol not yet held: rests on the book."""

    order_type = OrderType.LIMIT
