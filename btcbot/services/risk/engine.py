"""The risk engine: pre-trade decisions over a batch of intents and the post-trade state check.

Pre-trade (:meth:`RiskEngine.pre_trade`), for each intent in a fixed order (see
:func:`evaluation_key`), the first rule that fires decides:

    1. symbol outside the universe                 -> RISK_SYMBOL_NOT_ALLOWED
    2. trading state HALTED                        -> RISK_TRADING_HALTED
    3. non-positive/non-finite quantity or price   -> VENUE_MIN_NOTIONAL
    SELL (risk-reducing; long-only spot):
    4. nothing sellable (held - resting sells)     -> RISK_INSUFFICIENT_POSITION
    5. more than sellable: resized down to the sellable quantity floored to the quantity scale
       (RISK_INSUFFICIENT_POSITION if that floors to 0)
    6. notional under the venue minimum            -> VENUE_MIN_NOTIONAL
       otherwise approved, whatever the state, freshness, drawdown or caps (exits always allowed)
    BUY (risk-increasing):
    4. trading state REDUCING                      -> RISK_TRADING_REDUCING
    5. ticker missing/older than the max age, no mark price for it, or no mark price for any
       symbol held or bid for (gross exposure unknown) -> RISK_MARKET_DATA_STALE
    6. daily loss limit reached                    -> RISK_DAILY_LOSS_LIMIT
    7. m_dd == 0                                   -> RISK_DRAWDOWN_DERISK_ACTIVE
    8. Tradable <= 0                               -> CAPITAL_RESERVED_CASH_BREACH
    9. expected edge < required edge               -> ALPHA_EDGE_BELOW_MINIMUM
   10. notional under the venue minimum            -> VENUE_MIN_NOTIONAL
   11. post-trade caps (:func:`~btcbot.services.risk.limits.find_breaches` on the view after the
       buy, fee and tax on the fee included): if one is broken the buy is resized down to the
       largest quantity (a multiple of 10**-scale, ROUND_DOWN) that breaks none. If no positive
       quantity fits, it is denied with the code of the first cap a single quantity step breaks;
       if the resized notional is under the venue minimum, it is denied with VENUE_MIN_NOTIONAL.

Every approval updates a hypothetical view so one batch cannot jointly break a cap: an approved
BUY is booked as filled (exposure up, cash down by notional + fee); an approved SELL only
reserves its quantity (so two sells cannot sell the same coins) and frees neither exposure nor
cash, because it may never fill. The policy (caps, reserve, fee buffer, m_dd, daily loss) is
computed once from the cycle's view: these are the design document's time-t values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from btcbot.contracts.risk import PostTradeResult as PostTradeResult  # re-export (moved)
from btcbot.domain.enums import Side, TradingState
from btcbot.domain.errors import ConfigError
from btcbot.domain.intents import Approved, DecisionCode, Denied, OrderIntent, RiskDecision
from btcbot.domain.portfolio import FrozenMap, PortfolioView
from btcbot.services.risk.capital_policy import (
    CapitalPolicySnapshot,
    compute_capital_policy,
    edge_costs_bps,
    estimated_fee,
    required_edge_bps,
)
from btcbot.services.risk.limits import Breach, daily_loss_breach, find_breaches, fmt
from btcbot.services.risk.params import CapitalParams, RiskParams

ZERO = Decimal(0)


def floor_units(quantity: Decimal, scale: int) -> int:
    """How many whole steps of ``10**-scale`` fit in ``quantity`` (ROUND_DOWN, never negative)."""
    if quantity <= 0:
        return 0
    return int(quantity.scaleb(scale).to_integral_value(rounding=ROUND_DOWN))


def units_to_quantity(units: int, scale: int) -> Decimal:
    """``units * 10**-scale`` exactly."""
    return Decimal(units).scaleb(-scale)


def _num(value: Decimal | None) -> tuple[int, Decimal]:
    if value is None:
        return (2, ZERO)
    return (0, value) if value.is_finite() else (1, ZERO)


def evaluation_key(intent: OrderIntent) -> tuple[object, ...]:
    """The order intents are evaluated in: SELLs (risk-reducing) first, then by symbol, side,
    order type, quantity, price, expected edge, strategy id and finally the full repr, so the
    result never depends on the order the strategy produced them in."""
    return (
        intent.side is not Side.SELL,
        intent.symbol,
        intent.side.value,
        intent.order_type.value,
        _num(intent.quantity),
        _num(intent.price_for_notional),
        _num(intent.expected_edge_bps),
        intent.strategy_id,
        repr(intent),
    )


class RiskEngine:
    """Capital policy + hard limits. Pure: no I/O, no clock (``now`` is passed in)."""

    def __init__(
        self,
        risk: RiskParams,
        capital: CapitalParams,
        universe: tuple[str, ...],
        min_notional: Mapping[str, Decimal],
        quantity_step: Mapping[str, int],
    ) -> None:
        """``min_notional``: venue minimum order value per symbol, safety margin included.
        ``quantity_step``: the symbol's numeratorScale (resizing floors to ``10**-scale``).
        Raises ConfigError if a universe symbol lacks either, or a per-symbol risk setting
        names a symbol outside the universe."""
        if not universe:
            raise ConfigError("risk engine: the universe is empty")
        for symbol in universe:
            if symbol not in min_notional or symbol not in quantity_step:
                raise ConfigError(f"risk engine: no venue minimum or quantity scale for {symbol}")
            if min_notional[symbol] < 0 or quantity_step[symbol] < 0:
                raise ConfigError(f"risk engine: negative venue minimum or quantity scale for {symbol}")
        for name, keys in (
            ("risk.max_position_per_asset", risk.max_position_per_asset),
            ("risk.max_notional_overrides", risk.max_notional_overrides),
            ("capital.asset_weights", capital.asset_weights),
        ):
            outside = sorted(set(keys) - set(universe))
            if outside:
                raise ConfigError(f"{name} names symbols outside trading.symbols: {', '.join(outside)}")
        self._risk = risk
        self._capital = capital
        self._universe = tuple(sorted(set(universe)))
        self._min_notional = FrozenMap({s: min_notional[s] for s in universe})
        self._scale = FrozenMap({s: quantity_step[s] for s in universe})

    @property
    def universe(self) -> tuple[str, ...]:
        return self._universe

    def policy(self, view: PortfolioView, now: datetime) -> CapitalPolicySnapshot:
        """The capital policy for ``view`` at ``now`` (also emitted for observability)."""
        return compute_capital_policy(view, self._capital, self._risk, self._universe, now)

    # ---- pre-trade -----------------------------------------------------------------------

    def pre_trade(
        self, intents: Sequence[OrderIntent], view: PortfolioView, now: datetime
    ) -> list[RiskDecision]:
        """One decision per intent, in evaluation order (:func:`evaluation_key`)."""
        policy = self.policy(view, now)
        daily = daily_loss_breach(view, self._risk, now)
        hypothetical = view
        decisions: list[RiskDecision] = []
        # One intent needs no ordering (and evaluation_key's repr is not free).
        ordered = sorted(intents, key=evaluation_key) if len(intents) > 1 else intents
        for intent in ordered:
            decision, hypothetical = self._decide(intent, view, hypothetical, policy, daily)
            decisions.append(decision)
        return decisions

    def _decide(
        self,
        intent: OrderIntent,
        view: PortfolioView,
        hypothetical: PortfolioView,
        policy: CapitalPolicySnapshot,
        daily: Breach | None,
    ) -> tuple[RiskDecision, PortfolioView]:
        if intent.symbol not in self._universe:
            return _deny(
                intent, DecisionCode.RISK_SYMBOL_NOT_ALLOWED, f"{intent.symbol} is not in the universe"
            ), hypothetical
        if view.trading_state is TradingState.HALTED:
            return _deny(intent, DecisionCode.RISK_TRADING_HALTED, "trading is HALTED"), hypothetical
        price = intent.price_for_notional
        if not (intent.quantity.is_finite() and price.is_finite()) or intent.quantity <= 0 or price <= 0:
            return _deny(
                intent, DecisionCode.VENUE_MIN_NOTIONAL, "non-positive quantity or price"
            ), hypothetical
        if intent.side is Side.SELL:
            return self._reduce(intent, hypothetical)
        denial = self._gate(intent, view, hypothetical, policy, daily)
        if denial is not None:
            return denial, hypothetical
        return self._size_buy(intent, hypothetical, policy)

    def _reduce(self, intent: OrderIntent, hypothetical: PortfolioView) -> tuple[RiskDecision, PortfolioView]:
        symbol = intent.symbol
        sellable = hypothetical.sellable_qty(symbol)
        qty = intent.quantity
        if qty > sellable:
            qty = units_to_quantity(floor_units(sellable, self._scale[symbol]), self._scale[symbol])
            if qty <= 0:
                return (
                    _deny(
                        intent,
                        DecisionCode.RISK_INSUFFICIENT_POSITION,
                        f"sell {fmt(intent.quantity)} but {fmt(sellable)} sellable",
                    ),
                    hypothetical,
                )
        notional = qty * intent.price_for_notional
        if notional < self._min_notional[symbol]:
            return (
                _deny(
                    intent,
                    DecisionCode.VENUE_MIN_NOTIONAL,
                    f"sell notional {fmt(notional)} < venue minimum {fmt(self._min_notional[symbol])}",
                ),
                hypothetical,
            )
        approved = intent if qty == intent.quantity else replace(intent, quantity=qty)
        return Approved(approved, intent, risk_increasing=False), hypothetical.with_sell_reserved(symbol, qty)

    def _gate(
        self,
        intent: OrderIntent,
        view: PortfolioView,
        hypothetical: PortfolioView,
        policy: CapitalPolicySnapshot,
        daily: Breach | None,
    ) -> Denied | None:
        """Rules 4-10 for a BUY: everything that does not depend on the quantity."""
        symbol = intent.symbol
        if view.trading_state is TradingState.REDUCING:
            return _deny(
                intent, DecisionCode.RISK_TRADING_REDUCING, "trading is REDUCING: only risk-reducing orders"
            )
        age = view.market_data_age_s.get(symbol)
        mark = hypothetical.prices.get(symbol)
        if age is None or age > self._risk.market_data_max_age_s or mark is None or mark <= 0:
            return _deny(
                intent,
                DecisionCode.RISK_MARKET_DATA_STALE,
                f"{symbol} market data age {age} s (max {self._risk.market_data_max_age_s} s), mark {fmt(mark)}",
            )
        unpriced = _unpriced_holdings(hypothetical)
        if unpriced:
            # Without a mark the gross exposure cannot be known, so no new risk anywhere.
            return _deny(
                intent, DecisionCode.RISK_MARKET_DATA_STALE, f"no mark price for held {', '.join(unpriced)}"
            )
        if daily is not None:
            return _deny(intent, daily.code, daily.detail)
        if policy.m_dd == 0:
            return _deny(
                intent,
                DecisionCode.RISK_DRAWDOWN_DERISK_ACTIVE,
                f"drawdown {fmt(policy.drawdown)} gives m_dd 0: only risk-reducing orders",
            )
        if policy.tradable <= 0:
            return _deny(
                intent,
                DecisionCode.CAPITAL_RESERVED_CASH_BREACH,
                f"tradable capital {fmt(policy.tradable)} <= 0 (C_base {fmt(policy.c_base)}, C_res {fmt(policy.c_res)}, "
                f"FeeBuffer {fmt(policy.fee_buffer)})",
            )
        fee_bps, slippage_bps = edge_costs_bps(
            self._capital, intent.order_type, intent.est_fee_bps, intent.est_slippage_bps
        )
        required = required_edge_bps(
            self._capital.edge_min_bps, fee_bps, slippage_bps, self._capital.noise_margin_bps
        )
        if not intent.expected_edge_bps.is_finite() or intent.expected_edge_bps < required:
            return _deny(
                intent,
                DecisionCode.ALPHA_EDGE_BELOW_MINIMUM,
                f"expected edge {fmt(intent.expected_edge_bps)} bps < required {fmt(required)} bps",
            )
        if intent.notional < self._min_notional[symbol]:
            return _deny(
                intent,
                DecisionCode.VENUE_MIN_NOTIONAL,
                f"notional {fmt(intent.notional)} < venue minimum {fmt(self._min_notional[symbol])}",
            )
        return None

    def _breach_after_buy(
        self, intent: OrderIntent, qty: Decimal, hypothetical: PortfolioView, policy: CapitalPolicySnapshot
    ) -> tuple[Breach | None, PortfolioView]:
        price = intent.price_for_notional
        fee = estimated_fee(qty * price, self._capital.taker_fee_bps, self._capital.fee_tax_ratio)
        after = hypothetical.with_trade(intent.symbol, Side.BUY, qty, price, fee)
        breaches = find_breaches(after, policy, self._risk, self._universe, include_fee_buffer=True)
        return (breaches[0] if breaches else None), after

    def _size_buy(
        self, intent: OrderIntent, hypothetical: PortfolioView, policy: CapitalPolicySnapshot
    ) -> tuple[RiskDecision, PortfolioView]:
        """Rule 11: approve at full size, else the largest quantity step that breaks no cap."""
        breach, after = self._breach_after_buy(intent, intent.quantity, hypothetical, policy)
        if breach is None:
            return Approved(intent, intent, risk_increasing=True), after
        scale = self._scale[intent.symbol]
        top = floor_units(intent.quantity, scale)
        if units_to_quantity(top, scale) == intent.quantity:
            top -= 1  # the full quantity was just shown to break a cap
        # Largest passing unit count by bisection; ``best`` only ever holds a count that passed,
        # so the result is safe even if a cap were not monotone in the quantity.
        best, best_view = 0, hypothetical
        low, high = 1, top
        while low <= high:
            mid = (low + high) // 2
            mid_breach, mid_view = self._breach_after_buy(
                intent, units_to_quantity(mid, scale), hypothetical, policy
            )
            if mid_breach is None:
                best, best_view = mid, mid_view
                low = mid + 1
            else:
                high = mid - 1
        if best == 0:
            smallest, _ = self._breach_after_buy(intent, units_to_quantity(1, scale), hypothetical, policy)
            binding = smallest or breach
            return _deny(intent, binding.code, f"nothing fits: {binding.detail}"), hypothetical
        resized = replace(intent, quantity=units_to_quantity(best, scale))
        if resized.notional < self._min_notional[intent.symbol]:
            return (
                _deny(
                    intent,
                    DecisionCode.VENUE_MIN_NOTIONAL,
                    f"resized to {fmt(resized.quantity)} by {breach.code.value} ({breach.detail}); notional "
                    f"{fmt(resized.notional)} < venue minimum {fmt(self._min_notional[intent.symbol])}",
                ),
                hypothetical,
            )
        return Approved(resized, intent, risk_increasing=True), best_view

    # ---- post-trade ----------------------------------------------------------------------

    def post_trade(self, view: PortfolioView, now: datetime) -> PostTradeResult:
        """The state the risk conditions call for now.

        HALTED stays HALTED (only an operator lifts it). Otherwise REDUCING when the daily loss
        limit is hit, m_dd is 0, or any cap/cash invariant is broken (reserve only, not the fee
        buffer), each with a reason; else ACTIVE. A REDUCING view is re-derived, not kept: the
        daily halt lifts by itself once a new risk day starts. Holds owned by other subsystems
        (ledger drift, breakers) are for the runner to combine (most severe state wins).
        """
        daily = daily_loss_breach(view, self._risk, now)
        if view.trading_state is TradingState.HALTED:
            return PostTradeResult(
                TradingState.HALTED, ("trading is HALTED: lifted by an operator only",), daily is not None
            )
        policy = self.policy(view, now)
        reasons: list[str] = []
        if daily is not None:
            reasons.append(f"{daily.code.value}: {daily.detail}")
        if policy.m_dd == 0:
            reasons.append(
                f"{DecisionCode.RISK_DRAWDOWN_DERISK_ACTIVE.value}: drawdown {fmt(policy.drawdown)} gives m_dd 0"
            )
        for breach in find_breaches(view, policy, self._risk, self._universe, include_fee_buffer=False,
                                    slack=self._risk.post_trade_tolerance):
            reasons.append(f"{breach.code.value}: {breach.detail}")
        state = TradingState.REDUCING if reasons else TradingState.ACTIVE
        return PostTradeResult(state, tuple(reasons), daily is not None)


def _unpriced_holdings(view: PortfolioView) -> list[str]:
    held = {s for s, q in view.positions.items() if q != 0} | {
        s for s, q in view.open_buy_qty.items() if q != 0
    }
    return sorted(s for s in held if view.prices.get(s, ZERO) <= 0)


def _deny(intent: OrderIntent, code: DecisionCode, detail: str) -> Denied:
    return Denied(intent=intent, code=code, detail=detail)
