"""How a backtest order fills: at the NEXT bar's open, with slippage, fees and tax on the fee.

* MARKET BUY (sized in quote, as BTC Turk wants): price = open * (1 + slippage); the base bought is
  ``quote_amount / price`` floored to the pair's quantity scale (``domain.venue.floor_quantity``),
  shrunk if the wallet cannot pay notional + fee + tax.
* MARKET SELL: price = open * (1 - slippage); quantity = the order's, capped at what is held.
* LIMIT BUY (SELL): if the bar opens at or through the limit it fills at the open (taker, slipped,
  never worse than the limit); else if the bar's low (high) reaches the limit it fills at the limit
  (maker); else it expires unfilled (a limit order lives one strategy bar; the strategy re-decides).
* fee = notional x (taker|maker rate) and tax = fee x tax ratio, each rounded by the simulator's
  one fee rule (:func:`btcbot.sim.engine.money.fee_amount`), paid in the quote asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btcbot.domain.enums import OrderType, Side
from btcbot.domain.exchange_models import Fill, OrderRequest
from btcbot.domain.ids import ExchangeOrderId
from btcbot.domain.market import Candle, SymbolRules
from btcbot.domain.venue import floor_quantity
from btcbot.sim.engine.settlement import FeeSchedule

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class FillModel:
    fees: FeeSchedule
    slippage: Decimal

    def fill(
        self,
        order: OrderRequest,
        bar: Candle,
        rules: SymbolRules,
        free_quote: Decimal,
        held: Decimal,
        trade_id: int,
        order_id: int,
        at: datetime,
    ) -> Fill | None:
        """The fill of ``order`` on ``bar`` (the first bar after the decision), or None."""
        maker = False
        if order.order_type is OrderType.MARKET:
            price = bar.open * (ONE + self.slippage if order.side is Side.BUY else ONE - self.slippage)
        else:
            limit = order.price
            assert limit is not None
            if order.side is Side.BUY:
                if bar.open <= limit:
                    price = min(limit, bar.open * (ONE + self.slippage))
                elif bar.low <= limit:
                    price, maker = limit, True
                else:
                    return None
            elif bar.open >= limit:
                price = max(limit, bar.open * (ONE - self.slippage))
            elif bar.high >= limit:
                price, maker = limit, True
            else:
                return None
        if price <= 0:
            return None
        rate = self.fees.maker_rate if maker else self.fees.taker_rate
        per_unit_cost = price * (ONE + rate * (ONE + self.fees.tax_rate))
        if order.side is Side.BUY:
            if order.quote_amount is not None:
                qty = floor_quantity(rules, order.quote_amount / price)
            else:
                assert order.base_quantity is not None
                qty = order.base_quantity
            if qty * per_unit_cost > free_quote:
                qty = floor_quantity(rules, free_quote / per_unit_cost)
                # The fee rounding can still tip it over by a hair: step down until it fits.
                step = Decimal(1).scaleb(-rules.numerator_scale)
                while qty > 0 and self._cost(qty, price, maker) > free_quote:
                    qty -= step
        else:
            assert order.base_quantity is not None
            qty = min(order.base_quantity, held)
        if qty <= 0:
            return None
        fee, tax = self.fees.fee_and_tax(qty * price, maker)
        return Fill(
            trade_id=trade_id,
            order_id=ExchangeOrderId(order_id),
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            quantity=qty,
            fee=fee,
            tax=tax,
            fee_asset=rules.quote,
            timestamp=at,
        )

    def _cost(self, qty: Decimal, price: Decimal, maker: bool) -> Decimal:
        fee, tax = self.fees.fee_and_tax(qty * price, maker)
        return qty * price + fee + tax
