"""Builds the read-only PortfolioView from the ledger, our open orders and prices, and the
per-cycle PortfolioSnapshot checkpoint (high-water mark, day-start equity, month-to-date PnL).

Cash: ``cash_total`` is wallet + reserve in the quote asset (all quote money the bot owns);
``cash_free`` is the wallet minus what our open BUY orders have locked (estimated with the fee
and its tax on top, as the exchange locks it). The reserve bucket is never free cash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from btcbot.contracts.portfolio import PortfolioInputs as PortfolioInputs  # re-export (moved)
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.ledger import PortfolioSnapshot
from btcbot.domain.orders import ManagedOrder
from btcbot.domain.portfolio import FrozenMap, PortfolioView, mark_to_market_equity
from btcbot.domain.symbols import parse_pair
from btcbot.services.risk.calendar import month_key, risk_day

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OpenOrderExposure:
    locked_quote: Decimal
    open_buy_qty: dict[str, Decimal]
    open_sell_qty: dict[str, Decimal]


def open_order_exposure(
    orders: Sequence[ManagedOrder], prices: Mapping[str, Decimal], fee_rate: Decimal
) -> OpenOrderExposure:
    """What our not-yet-terminal orders hold back. Unresolved orders (SUBMITTING/UNKNOWN) count in
    full: an order that might exist must be assumed to exist."""
    locked = ZERO
    buys: dict[str, Decimal] = {}
    sells: dict[str, Decimal] = {}
    for order in orders:
        if order.is_terminal:
            continue
        if order.side is Side.BUY:
            if order.order_type is OrderType.MARKET and order.quote_amount is not None:
                remaining_quote = max(ZERO, order.quote_amount - order.filled_quote)
                price = prices.get(order.symbol) or order.price or ZERO
                qty = remaining_quote / price if price > 0 else ZERO
            else:
                qty = max(ZERO, order.quantity - order.filled_quantity)
                remaining_quote = qty * (order.price or prices.get(order.symbol, ZERO))
            locked += remaining_quote * (1 + fee_rate)
            buys[order.symbol] = buys.get(order.symbol, ZERO) + qty
        else:
            qty = max(ZERO, order.quantity - order.filled_quantity)
            sells[order.symbol] = sells.get(order.symbol, ZERO) + qty
    return OpenOrderExposure(locked, buys, sells)


class PortfolioService:
    def __init__(self, universe: Sequence[str], quote: str, fee_rate: Decimal, tz: str) -> None:
        self._universe = tuple(universe)
        self._quote = quote
        self._fee_rate = fee_rate
        self._tz = tz
        # In symbol order, so that positions and prices come out sorted (FrozenMap.of_sorted).
        self._base = {s: parse_pair(s).base for s in sorted(self._universe)}

    def positions(self, wallet: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """Base quantity held per symbol of the universe (none held: left out), in symbol order."""
        return {s: wallet.get(base, ZERO) for s, base in self._base.items() if wallet.get(base, ZERO) != 0}

    def view(self, inp: PortfolioInputs) -> PortfolioView:
        positions = self.positions(inp.wallet)
        given = inp.prices
        prices = {s: given[s] for s in self._base if s in given}
        exposure = open_order_exposure(inp.open_orders, prices, self._fee_rate)
        wallet_quote = inp.wallet.get(self._quote, ZERO)
        cash_total = wallet_quote + inp.reserve
        valued = {s: q for s, q in positions.items() if s in prices}
        equity = mark_to_market_equity(cash_total, valued, prices)
        snap = inp.snapshot
        today = risk_day(inp.now, self._tz)
        high_water = max(equity, snap.high_water_mark) if snap else equity
        day_start = snap.day_start_equity if snap and snap.day_key == today.isoformat() else equity
        month = month_key(inp.now, self._tz)
        harvested = snap.harvested_mtd if snap and snap.month_key == month else ZERO
        return PortfolioView(
            quote_asset=self._quote,
            cash_free=max(ZERO, wallet_quote - exposure.locked_quote),
            cash_total=cash_total,
            positions=FrozenMap.of_sorted(positions),
            prices=FrozenMap.of_sorted(prices),
            equity=equity,
            high_water=high_water,
            day_start_equity=day_start,
            reserve_bucket=inp.reserve,
            rolling_30d_notional=inp.rolling_notional,
            realized_pnl_mtd=inp.realized_pnl_mtd,
            harvested_mtd=harvested,
            trading_state=inp.trading_state,
            market_data_age_s=FrozenMap(inp.market_age_s),
            open_buy_qty=exposure.open_buy_qty,
            open_sell_qty=exposure.open_sell_qty,
            day_start_date=today,
            pnl_month=month,
        )

    def snapshot(self, view: PortfolioView, cycle_id: int, now: datetime, harvested_mtd: Decimal) -> PortfolioSnapshot:
        return PortfolioSnapshot(
            at=now,
            cycle_id=cycle_id,
            equity=view.equity,
            high_water_mark=max(view.high_water, view.equity),
            day_start_equity=view.day_start_equity,
            day_key=risk_day(now, self._tz).isoformat(),
            reserve_bucket=view.reserve_bucket,
            rolling_notional_30d=view.rolling_30d_notional,
            realized_pnl_mtd=view.realized_pnl_mtd,
            month_key=month_key(now, self._tz),
            harvested_mtd=harvested_mtd,
        )
