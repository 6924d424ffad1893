"""``trend``: long-only EMA-crossover trend following with volatility-targeted weights.

Per tradable symbol, on the last ``required_history()`` CLOSED bars:

* signal: ``EMA_fast > EMA_slow`` -> long, else flat (target weight 0: sell what is held);
* size: ``weight = min(max_weight, target_vol_annual / vol_annual)`` with ``vol_annual`` the
  realized per-bar volatility (sample stdev of the last ``vol_window`` simple returns) times
  ``sqrt(bars per year)``. A more volatile asset gets a smaller weight so each position carries
  roughly the same risk; if the weights sum above ``max_total_weight`` they are scaled down
  together (long-only spot: never more than the equity);
* trading: :func:`btcbot.strategies.sizing.plan_orders` (drift band, sells before buys, market
  orders sized in base units at the ticker's last price, else the last close).

Edge estimate (a documented HEURISTIC, not a forecast)::

    spread = (EMA_fast - EMA_slow) / EMA_slow      # trend strength as a fraction of price
    z      = spread / sigma_bar                    # in units of one bar's noise
    edge_bps = edge_bps_per_z * min(|z|, max_z)

A trend that stands out of the noise by ``z`` bar-volatilities is assumed worth ``edge_bps_per_z``
bps per unit of ``z``, capped at ``max_z`` so a quiet market cannot claim an absurd edge. The risk
engine compares it with ``edge_min + fee + slippage + noise_margin``: weak trends are not traded.
The same value is attached to sells (exits and shrinks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from functools import lru_cache

from btcbot.contracts.strategy import HoldCode, HoldReason, MarketSnapshot
from btcbot.domain.enums import TradingState
from btcbot.domain.intents import OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.holds import SymbolHold, combine, no_price, warming_up
from btcbot.strategies.indicators import CALC, annualize_volatility, ema, realized_volatility
from btcbot.strategies.sizing import SizingParams, TargetWeight, explain_holds, fmt, plan_orders

ZERO = Decimal(0)
#: Target weights and prices of the symbols with an opinion, and why the others have none.
_Targets = tuple[list[TargetWeight], dict[str, Decimal], list[SymbolHold]]


@dataclass(frozen=True, slots=True)
class TrendParams:
    """Defaults suit hourly bars: 12 h vs 48 h EMAs, 48 h of returns for volatility."""

    fast_period: int = 12
    slow_period: int = 48
    vol_window: int = 48
    warmup_multiple: int = 3
    target_vol_annual: Decimal = Decimal("0.10")
    max_weight: Decimal = Decimal("0.20")
    max_total_weight: Decimal = Decimal("0.95")
    edge_bps_per_z: Decimal = Decimal("30")
    max_z: Decimal = Decimal("5")
    sizing: SizingParams = field(default_factory=SizingParams)

    def __post_init__(self) -> None:
        if not 1 <= self.fast_period < self.slow_period:
            raise ValueError("need 1 <= fast_period < slow_period")
        if self.vol_window < 2 or self.warmup_multiple < 1:
            raise ValueError("vol_window must be >= 2 and warmup_multiple >= 1")
        if self.target_vol_annual <= 0:
            raise ValueError("target_vol_annual must be positive")
        if not (ZERO < self.max_weight <= 1 and ZERO < self.max_total_weight <= 1):
            raise ValueError("max_weight and max_total_weight must lie in (0, 1]")
        if self.edge_bps_per_z < 0 or self.max_z <= 0:
            raise ValueError("edge_bps_per_z must be >= 0 and max_z > 0")

    @property
    def history(self) -> int:
        # The EMA seed's weight decays as (1 - 2/(slow+1))**t: about 2 % after 3 slow periods.
        return max(self.warmup_multiple * self.slow_period, self.vol_window + 1)


@dataclass(frozen=True, slots=True)
class TrendSignal:
    """The numbers behind one symbol's target (exposed for tests, logs and the docs)."""

    ema_fast: Decimal
    ema_slow: Decimal
    vol_bar: Decimal
    vol_annual: Decimal
    z: Decimal
    weight: Decimal
    edge_bps: Decimal


def trend_signal(closes: Sequence[Decimal], interval_s: int, params: TrendParams) -> TrendSignal | None:
    """The signal on the last ``params.history`` closes; None when there are not enough."""
    window = closes[-params.history :]
    if len(window) < params.history:
        return None
    vol_bar = realized_volatility(window, params.vol_window)
    if vol_bar is None:
        return None
    fast, slow = ema(window, params.fast_period), ema(window, params.slow_period)
    with localcontext(CALC):
        vol_annual = annualize_volatility(vol_bar, interval_s)
        spread = (fast - slow) / slow if slow > 0 else ZERO
        # A perfectly flat history has no noise: any trend then counts as maximally clear.
        z = params.max_z.copy_sign(spread) if spread != 0 else ZERO
        if vol_bar > 0:
            z = spread / vol_bar
        weight = ZERO
        if fast > slow:
            weight = params.max_weight
            if vol_annual > 0:
                weight = min(params.max_weight, params.target_vol_annual / vol_annual)
        edge = params.edge_bps_per_z * min(abs(z), params.max_z)
    return TrendSignal(fast, slow, vol_bar, vol_annual, z, weight, edge)


@dataclass(frozen=True, slots=True)
class TrendStrategy:
    """The default strategy (see the module docstring)."""

    strategy_id: str
    params: TrendParams = field(default_factory=TrendParams)
    # The last decide's targets, for hold_reason on the same snapshot (derived from the inputs only).
    _last: list[tuple[MarketSnapshot, tuple[str, ...], _Targets]] = field(
        default_factory=list, compare=False, repr=False)

    def required_history(self) -> int:
        return self.params.history

    def decide(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> list[OrderIntent]:
        if portfolio.trading_state is TradingState.HALTED:
            return []
        targets, prices, _ = self._remembered(snapshot, tradable_symbols)
        return plan_orders(self.strategy_id, targets, portfolio, prices, self.params.sizing)

    def hold_reason(
        self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable_symbols: Sequence[str]
    ) -> HoldReason:
        """Why ``decide`` returned ``[]`` (``btcbot.contracts.strategy.ExplainsHold``): per symbol
        warming up (fewer than ``required_history()`` bars), no price, no uptrend, at the
        ``max_weight`` cap, within the drift band, no cash, ... (see ``holds.combine``)."""
        if portfolio.trading_state is TradingState.HALTED:
            return HoldReason(HoldCode.NOT_TRADING.value, "trading state HALTED")
        targets, prices, held = self._remembered(snapshot, tradable_symbols)
        held = list(held)
        p = self.params
        signals = {t.symbol: t for t in targets}
        for symbol, reason in explain_holds(targets, portfolio, prices, p.sizing):
            if reason.code == HoldCode.AT_TARGET and signals[symbol].weight == 0:
                reason = HoldReason(HoldCode.NO_SIGNAL.value,
                                    f"no uptrend: ema{p.fast_period} <= ema{p.slow_period}")
            elif reason.code == HoldCode.AT_TARGET and signals[symbol].weight >= p.max_weight:
                reason = HoldReason(HoldCode.POSITION_CAP.value,
                                    f"at the position cap: {fmt(p.max_weight * 100, 1)}% of equity (max_weight)")
            held.append((symbol, reason))
        return combine(held)

    def _remembered(self, snapshot: MarketSnapshot, tradable_symbols: Sequence[str]) -> _Targets:
        """``_targets``, computed once when ``hold_reason`` follows ``decide`` on the same snapshot
        (the live cycle does that whenever the strategy holds)."""
        key = tuple(tradable_symbols)
        last = self._last
        if last and last[0][0] is snapshot and last[0][1] == key:
            return last[0][2]
        result = self._targets(snapshot, key)
        last[:] = [(snapshot, key, result)]
        return result

    def _targets(self, snapshot: MarketSnapshot, tradable_symbols: Sequence[str]) -> _Targets:
        """Target weights and prices of the symbols with an opinion, and why the others have none."""
        targets: list[TargetWeight] = []
        prices: dict[str, Decimal] = {}
        held: list[SymbolHold] = []
        for symbol in sorted(set(tradable_symbols)):
            price = snapshot.last_price(symbol)
            closes = snapshot.closes(symbol)
            signal = _memo_signal(tuple(closes), snapshot.interval_s, self.params)
            if price is None:
                held.append((symbol, no_price()))
                continue
            if signal is None:  # no opinion without enough history: hold
                held.append((symbol, warming_up(min(len(closes), self.params.history), self.params.history)))
                continue
            prices[symbol] = price
            reason = (
                f"trend ema{self.params.fast_period}={fmt(signal.ema_fast)} "
                f"ema{self.params.slow_period}={fmt(signal.ema_slow)} z={fmt(signal.z, 2)} "
                f"vol={fmt(signal.vol_annual)}"
            )
            targets.append(TargetWeight(symbol, signal.weight, signal.edge_bps, reason))
        return _cap_total(targets, self.params.max_total_weight), prices, held


@lru_cache(maxsize=64)
def _memo_signal(closes: tuple[Decimal, ...], interval_s: int, params: TrendParams) -> TrendSignal | None:
    """``trend_signal`` is a pure function of closed candles, which change only when a bar closes:
    steady cycles between bars reuse the result instead of recomputing every EMA."""
    return trend_signal(closes, interval_s, params)


def _cap_total(targets: list[TargetWeight], cap: Decimal) -> list[TargetWeight]:
    """Scale every weight by the same factor when their sum exceeds ``cap``."""
    total = sum((t.weight for t in targets), ZERO)
    if total <= cap:
        return targets
    with localcontext(CALC):
        factor = cap / total
        return [TargetWeight(t.symbol, t.weight * factor, t.expected_edge_bps, t.reason) for t in targets]
