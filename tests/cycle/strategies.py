"""Deterministic test strategies for the cycle tests, loaded by dotted path
(``BTCBOT_TRADING__STRATEGY=cycle.strategies:MarketBuyOnce``; ``tests/`` must be on PYTHONPATH).

Each buys a small fixed notional of every tradable symbol the portfolio neither holds nor has a
resting buy for, so the first cycle trades and later cycles only trade what a crash left undone.
"""

from __future__ import annotations

import hashlib
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


class ChurnStrategy:
    """Trades a lot, deterministically (a hash of the bar time and symbol, no RNG state): market
    buys of 500-30000 TRY (large ones run into the caps and get resized or denied), market sells
    of half the position, resting LIMIT buys 0.5 % under and LIMIT sells 0.5 % over the market
    (cancelled in safe mode, filled when the price walks through), and now and then an intent
    for a pair outside the universe, which the risk engine must deny."""

    OUTSIDE = "USDTTRY"

    def __init__(self, strategy_id: str) -> None:
        self._strategy_id = strategy_id

    @property
    def strategy_id(self) -> str:
        return self._strategy_id

    def required_history(self) -> int:
        return 0

    @staticmethod
    def _draw(*parts: object) -> int:
        digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def _intent(self, symbol: str, side: Side, kind: OrderType, qty: Decimal, price: Decimal,
                limit: Decimal | None = None) -> OrderIntent:
        return OrderIntent(
            strategy_id=self._strategy_id, symbol=symbol, side=side, order_type=kind,
            quantity=qty.quantize(QTY_STEP, rounding=ROUND_DOWN), reference_price=price,
            expected_edge_bps=EDGE_BPS, limit_price=limit, reason="test: churn",
        )

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        stamp = int(snapshot.now.timestamp())
        intents: list[OrderIntent] = []
        for symbol in tradable_symbols:
            price = snapshot.last_price(symbol)
            if price is None or price <= 0:
                continue
            roll = self._draw(stamp, symbol) % 100
            held = portfolio.sellable_qty(symbol)
            if roll < 25:
                notional = Decimal(500 + self._draw(stamp, symbol, "n") % 29_501)
                intents.append(self._intent(symbol, Side.BUY, OrderType.MARKET, notional / price, price))
            elif roll < 40 and held > 0:
                intents.append(self._intent(symbol, Side.SELL, OrderType.MARKET, held / 2, price))
            elif roll < 50 and portfolio.open_buy_qty.get(symbol, Decimal(0)) == 0:
                limit = price * Decimal("0.995")
                intents.append(self._intent(symbol, Side.BUY, OrderType.LIMIT, Decimal(1000) / limit, limit, limit))
            elif roll < 60 and held > 0 and portfolio.open_sell_qty.get(symbol, Decimal(0)) == 0:
                limit = price * Decimal("1.005")
                intents.append(self._intent(symbol, Side.SELL, OrderType.LIMIT, held / 4, limit, limit))
        if self._draw(stamp, "outside") % 20 == 0:
            intents.append(self._intent(self.OUTSIDE, Side.BUY, OrderType.MARKET, Decimal(10), Decimal(43)))
        return intents
