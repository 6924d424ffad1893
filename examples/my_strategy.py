"""An example user strategy: hold a fixed slice of equity in every coin trading above its average.

Select it with (the repository root on PYTHONPATH so ``examples`` is importable)::

    PYTHONPATH=. BTCBOT_TRADING__STRATEGY=examples.my_strategy:SmaFilterStrategy btcbot run

What a strategy must provide (``btcbot.contracts.strategy.Strategy``):

* a constructor accepting ``strategy_id=...`` (the loader calls ``YourClass(strategy_id=...)``)
  and a ``strategy_id`` attribute holding it;
* ``required_history()``: how many CLOSED bars per symbol ``decide`` needs;
* ``decide(snapshot, portfolio, tradable_symbols)``: a list of ``OrderIntent`` (quantity in BASE
  units, ``reference_price``, ``expected_edge_bps``), only for ``tradable_symbols``. It must be
  pure and deterministic: no I/O, no clock, no randomness. The risk engine may still deny or
  shrink every intent; returning ``[]`` means "hold".

This one reuses the built-in sizing (drift band, sells before buys, cash budget); a strategy may
just as well build ``OrderIntent`` values itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from btcbot.contracts.strategy import MarketSnapshot
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.sizing import SizingParams, TargetWeight, plan_orders


@dataclass(frozen=True, slots=True)
class SmaFilterStrategy:
    """Long ``weight`` of equity in a symbol while its last close is above its ``period``-bar mean."""

    strategy_id: str
    period: int = 24
    weight: Decimal = Decimal("0.15")
    # A flat, honest guess: this filter claims a small edge; the risk engine's gate decides.
    edge_bps: Decimal = Decimal("60")
    sizing: SizingParams = SizingParams(drift_band=Decimal("0.03"))

    def required_history(self) -> int:
        return self.period

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        targets: list[TargetWeight] = []
        prices: dict[str, Decimal] = {}
        for symbol in sorted(set(tradable_symbols)):
            closes = snapshot.closes(symbol)[-self.period :]
            price = snapshot.last_price(symbol)
            if len(closes) < self.period or price is None:
                continue  # not enough data: hold whatever we have
            mean = sum(closes, Decimal(0)) / Decimal(len(closes))
            above = closes[-1] > mean
            prices[symbol] = price
            targets.append(
                TargetWeight(symbol, self.weight if above else Decimal(0), self.edge_bps, f"sma{self.period}")
            )
        return plan_orders(self.strategy_id, targets, portfolio, prices, self.sizing)
