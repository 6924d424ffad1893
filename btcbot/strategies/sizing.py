"""Target weights -> market order intents, shared by the built-in strategies.

Rules, in order:

1. Nothing when trading is HALTED or equity is not positive; no buys when REDUCING.
2. Per symbol (sorted), current weight = ``exposure_qty * price / equity`` (held plus resting buys,
   so a pending buy is not bought twice). No trade unless ``|target - current| > drift_band``:
   the band stops the bot from paying fees to chase small moves (churn).
3. Shrink with a SELL of ``(current - target) * equity / price``, capped at the sellable quantity;
   a target of 0 sells everything sellable.
4. Grow with a BUY of ``(target - current) * equity / price``. If the buys (grossed up by
   ``cash_buffer_bps`` for fees and slippage) cost more than the free cash plus the sells'
   proceeds, every buy is scaled down by the same factor; a scaled buy that no longer exceeds the
   drift band is dropped.
5. Quantities are floored (ROUND_DOWN) to ``quantity_places`` decimals in :func:`floor_quantity`:
   never ask for more than was sized. The venue's own step is applied later by execution.
6. Intents come out SELLS first, then BUYS, each group sorted by symbol: deterministic, and the
   cash a sell frees is there before a buy needs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

from btcbot.contracts.strategy import HoldCode, HoldReason
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.holds import SymbolHold, no_price
from btcbot.strategies.indicators import CALC

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class TargetWeight:
    """A strategy's wish for one symbol: ``weight`` of equity (0..1) and why."""

    symbol: str
    weight: Decimal
    expected_edge_bps: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class SizingParams:
    """``est_fee_bps``/``est_slippage_bps`` of 0 mean "not given": risk uses the configured costs."""

    drift_band: Decimal = Decimal("0.02")
    cash_buffer_bps: Decimal = Decimal("50")
    est_fee_bps: Decimal = ZERO
    est_slippage_bps: Decimal = ZERO
    quantity_places: int = 8

    def __post_init__(self) -> None:
        if not ZERO <= self.drift_band < ONE:
            raise ValueError("drift_band must lie in [0, 1)")
        if self.cash_buffer_bps < 0 or self.est_fee_bps < 0 or self.est_slippage_bps < 0:
            raise ValueError("cost estimates must not be negative")
        if not 0 <= self.quantity_places <= 18:
            raise ValueError("quantity_places must lie in [0, 18]")


def floor_quantity(quantity: Decimal, places: int) -> Decimal:
    """The one rounding of order sizes here: ROUND_DOWN to ``places`` decimals, never below 0."""
    if quantity <= 0:
        return ZERO
    return quantity.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def fmt(value: Decimal, places: int = 4) -> str:
    """Decimal for a human-readable (and deterministic) reason string."""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):f}"


def plan_orders(
    strategy_id: str,
    targets: Sequence[TargetWeight],
    portfolio: PortfolioView,
    prices: Mapping[str, Decimal],
    sizing: SizingParams,
) -> list[OrderIntent]:
    """Market intents that move the book toward ``targets`` (see the module docstring)."""
    if portfolio.trading_state is TradingState.HALTED or portfolio.equity <= 0:
        return []
    equity = portfolio.equity
    sells: list[OrderIntent] = []
    wanted: list[tuple[TargetWeight, Decimal, Decimal]] = []  # (target, price, value to buy)

    def intent(t: TargetWeight, side: Side, qty: Decimal, price: Decimal, current: Decimal) -> OrderIntent:
        return OrderIntent(
            strategy_id=strategy_id,
            symbol=t.symbol,
            side=side,
            order_type=OrderType.MARKET,
            quantity=qty,
            reference_price=price,
            expected_edge_bps=t.expected_edge_bps,
            est_fee_bps=sizing.est_fee_bps,
            est_slippage_bps=sizing.est_slippage_bps,
            reason=f"{t.reason} weight {fmt(current)}->{fmt(t.weight)}",
        )

    with localcontext(CALC):
        for target in sorted(targets, key=lambda t: t.symbol):
            price = prices.get(target.symbol)
            if price is None or price <= 0:
                continue
            current = portfolio.exposure_qty(target.symbol) * price / equity
            gap = target.weight - current
            if abs(gap) <= sizing.drift_band:
                continue
            if gap < 0:
                sellable = portfolio.sellable_qty(target.symbol)
                qty = sellable if target.weight <= 0 else min(sellable, -gap * equity / price)
                qty = floor_quantity(qty, sizing.quantity_places)
                if qty > 0:
                    sells.append(intent(target, Side.SELL, qty, price, current))
            elif portfolio.trading_state is TradingState.ACTIVE:
                wanted.append((target, price, gap * equity))

        proceeds = sum((s.quantity * s.reference_price for s in sells), ZERO)
        gross = ONE + sizing.cash_buffer_bps / BPS
        budget = portfolio.cash_free + proceeds / gross
        cost = sum((value for _, _, value in wanted), ZERO) * gross
        scale = ONE if cost <= budget else max(ZERO, budget / cost)
        buys: list[OrderIntent] = []
        for target, price, value in wanted:
            scaled = value * scale
            if scaled / equity <= sizing.drift_band:
                continue
            qty = floor_quantity(scaled / price, sizing.quantity_places)
            if qty > 0:
                current = portfolio.exposure_qty(target.symbol) * price / equity
                buys.append(intent(target, Side.BUY, qty, price, current))
    return sells + buys


def _pct(weight: Decimal) -> str:
    return f"{fmt(weight * 100, 1)}%"


def explain_holds(
    targets: Sequence[TargetWeight],
    portfolio: PortfolioView,
    prices: Mapping[str, Decimal],
    sizing: SizingParams,
) -> list[SymbolHold]:
    """Why :func:`plan_orders` sends nothing for each target, by the same rules and numbers (for a
    strategy's ``hold_reason``, after ``plan_orders`` returned ``[]``). A target that would trade
    is explained with code ``other``."""
    if portfolio.trading_state is TradingState.HALTED:
        return [(t.symbol, HoldReason(HoldCode.NOT_TRADING.value, "trading state HALTED")) for t in targets]
    if portfolio.equity <= 0:
        return [(t.symbol, HoldReason(HoldCode.NO_CASH.value, "equity is not positive")) for t in targets]
    equity = portfolio.equity
    reasons: dict[str, HoldReason] = {}
    wanted: list[tuple[TargetWeight, Decimal, Decimal, Decimal]] = []  # (target, price, value, current)
    proceeds = ZERO
    with localcontext(CALC):
        for target in sorted(targets, key=lambda t: t.symbol):
            price = prices.get(target.symbol)
            if price is None or price <= 0:
                reasons[target.symbol] = no_price()
                continue
            current = portfolio.exposure_qty(target.symbol) * price / equity
            gap = target.weight - current
            if abs(gap) <= sizing.drift_band:
                reasons[target.symbol] = HoldReason(
                    HoldCode.AT_TARGET.value,
                    f"at target: holding {_pct(current)} of equity, target {_pct(target.weight)} "
                    f"(drift band {_pct(sizing.drift_band)})",
                )
            elif gap < 0:
                sellable = portfolio.sellable_qty(target.symbol)
                qty = sellable if target.weight <= 0 else min(sellable, -gap * equity / price)
                qty = floor_quantity(qty, sizing.quantity_places)
                proceeds += qty * price
                reasons[target.symbol] = (
                    HoldReason(HoldCode.OTHER.value, f"would sell {_pct(current)} -> {_pct(target.weight)}")
                    if qty > 0 else HoldReason(HoldCode.ORDER_TOO_SMALL.value, "nothing sellable (held coins are locked)")
                )
            elif portfolio.trading_state is not TradingState.ACTIVE:
                reasons[target.symbol] = HoldReason(
                    HoldCode.NOT_TRADING.value, f"trading state {portfolio.trading_state.value}: no buys")
            else:
                wanted.append((target, price, gap * equity, current))
        gross = ONE + sizing.cash_buffer_bps / BPS
        budget = portfolio.cash_free + proceeds / gross
        cost = sum((value for _, _, value, _ in wanted), ZERO) * gross
        scale = ONE if cost <= budget else max(ZERO, budget / cost)
        for target, price, value, current in wanted:
            scaled = value * scale
            if scaled / equity <= sizing.drift_band:
                reasons[target.symbol] = HoldReason(
                    HoldCode.NO_CASH.value,
                    f"target {_pct(target.weight)}, holding {_pct(current)}: the free cash "
                    f"({_pct(portfolio.cash_free / equity)} of equity) does not cover the buy",
                )
            elif floor_quantity(scaled / price, sizing.quantity_places) <= 0:
                reasons[target.symbol] = HoldReason(HoldCode.ORDER_TOO_SMALL.value, "the buy rounds down to nothing")
            else:
                reasons[target.symbol] = HoldReason(
                    HoldCode.OTHER.value, f"would buy {_pct(current)} -> {_pct(target.weight)}")
    return sorted(reasons.items())
