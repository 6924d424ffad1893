"""``rebalance``: hold constant target weights, trading only when a weight drifts past a band.

Targets: with no ``weights`` configured, ``invested_fraction`` of equity is spread equally over
the tradable symbols (the rest stays cash for fees); with ``weights``, each listed symbol gets
its weight and every other tradable symbol a target of 0 (sold). Trading goes through
:func:`btcbot.strategies.sizing.plan_orders` (drift band, sells first, market orders).

Edge estimate: the rebalancer forecasts nothing, so it attaches one configured
``expected_edge_bps`` to every order (the premium one expects from rebalancing volatile assets,
a belief rather than a measurement). Set it below the risk engine's required edge and the edge
gate will block every rebalance; set it above and rebalances are only limited by the drift band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from btcbot.contracts.strategy import HoldReason, MarketSnapshot
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.holds import SymbolHold, combine, no_price
from btcbot.strategies.indicators import CALC
from btcbot.strategies.sizing import SizingParams, TargetWeight, explain_holds, plan_orders

ZERO = Decimal(0)


def _default_sizing() -> SizingParams:
    return SizingParams(drift_band=Decimal("0.05"))


@dataclass(frozen=True, slots=True)
class RebalanceParams:
    """``weights``: ((symbol, weight), ...) summing to at most 1; empty means equal weight."""

    weights: tuple[tuple[str, Decimal], ...] = ()
    invested_fraction: Decimal = Decimal("0.95")
    expected_edge_bps: Decimal = Decimal("50")
    sizing: SizingParams = field(default_factory=_default_sizing)

    def __post_init__(self) -> None:
        if not ZERO < self.invested_fraction <= 1:
            raise ValueError("invested_fraction must lie in (0, 1]")
        if any(not ZERO <= w <= 1 for _, w in self.weights):
            raise ValueError("every weight must lie in [0, 1]")
        if sum((w for _, w in self.weights), ZERO) > 1:
            raise ValueError("weights must sum to at most 1")
        symbols = [s for s, _ in self.weights]
        if len(set(symbols)) != len(symbols):
            raise ValueError("a symbol appears twice in weights")
        object.__setattr__(self, "weights", tuple(sorted(self.weights)))

    def targets_for(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        """Target weight of every symbol in ``symbols`` (sorted, distinct)."""
        universe = sorted(set(symbols))
        if not universe:
            return {}
        if self.weights:
            fixed = dict(self.weights)
            return {s: fixed.get(s, ZERO) for s in universe}
        with localcontext(CALC):
            each = self.invested_fraction / Decimal(len(universe))
        return dict.fromkeys(universe, each)


@dataclass(frozen=True, slots=True)
class RebalanceStrategy:
    strategy_id: str
    params: RebalanceParams = field(default_factory=RebalanceParams)

    def required_history(self) -> int:
        return 1  # only a price: the last close stands in when a ticker is missing

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        targets, prices, _ = self._targets(snapshot, tradable_symbols)
        return plan_orders(self.strategy_id, targets, portfolio, prices, self.params.sizing)

    def hold_reason(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> HoldReason:
        """Why ``decide`` returned ``[]`` (``btcbot.contracts.strategy.ExplainsHold``): per symbol
        within the drift band of its weight, no price, no cash, not ACTIVE (see ``holds.combine``)."""
        targets, prices, held = self._targets(snapshot, tradable_symbols)
        return combine(held + explain_holds(targets, portfolio, prices, self.params.sizing))

    def _targets(
        self, snapshot: MarketSnapshot, tradable_symbols: Sequence[str]
    ) -> tuple[list[TargetWeight], dict[str, Decimal], list[SymbolHold]]:
        prices: dict[str, Decimal] = {}
        targets: list[TargetWeight] = []
        held: list[SymbolHold] = []
        for symbol, weight in self.params.targets_for(tradable_symbols).items():
            price = snapshot.last_price(symbol)
            if price is None:
                held.append((symbol, no_price()))
                continue
            prices[symbol] = price
            targets.append(TargetWeight(symbol, weight, self.params.expected_edge_bps, "rebalance"))
        return targets, prices, held
