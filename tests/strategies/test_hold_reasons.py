"""Hold reasons of the built-in strategies: whenever ``decide`` returns ``[]``, ``hold_reason``
(called with the same arguments) says why - warming up N of M bars, no signal, position cap,
at target, no cash, not trading - and ``holds.combine`` folds the symbols into one reason."""

from __future__ import annotations

from decimal import Decimal

from btcbot.contracts.strategy import ExplainsHold, HoldCode, HoldReason, MarketSnapshot
from btcbot.domain.enums import TradingState
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.ema_cross import EmaCrossParams, EmaCrossStrategy
from btcbot.strategies.holds import combine
from btcbot.strategies.rebalance import RebalanceParams, RebalanceStrategy
from btcbot.strategies.trend import TrendParams, TrendStrategy, trend_signal

from ._builders import HOUR, portfolio, snapshot, ticker
from .test_ema_cross import candles as minute_candles
from .test_ema_cross import crossing_series, view
from .test_ema_cross import snapshot as minute_snapshot

SMALL_TREND = TrendParams(fast_period=3, slow_period=6, vol_window=4, warmup_multiple=2)  # history 12
SMALL_CROSS = EmaCrossParams(fast_period=3, slow_period=6, warmup_multiple=2)  # history 24


def held(strategy: ExplainsHold, snap: MarketSnapshot, view_: PortfolioView, symbols: list[str]) -> HoldReason:
    """The strategy's reason, after checking that ``decide`` did hold on these inputs."""
    assert strategy.decide(snap, view_, symbols) == []  # type: ignore[attr-defined]
    reason = strategy.hold_reason(snap, view_, symbols)
    assert isinstance(reason, HoldReason)
    return reason


def rising(n: int) -> list[str]:
    return [str(100 + i) for i in range(n)]


def falling(n: int) -> list[str]:
    return [str(200 - i) for i in range(n)]


# ---- combine -----------------------------------------------------------------------------------

def test_combine_takes_the_most_common_code_and_lists_each_explanation_once() -> None:
    warm = HoldReason("warming_up", "warming up: 5 of 12 bars")
    flat = HoldReason("no_signal", "no uptrend")
    reason = combine([("ETHTRY", warm), ("BTCTRY", warm), ("XRPTRY", flat)])
    assert reason == HoldReason("warming_up", "warming up: 5 of 12 bars (BTCTRY, ETHTRY); no uptrend (XRPTRY)")
    # a tie goes to the code listed first in HoldCode (warming_up before no_signal)
    assert combine([("XRPTRY", flat), ("BTCTRY", warm)]).code == "warming_up"
    assert combine([("XRPTRY", flat), ("BTCTRY", flat), ("ETHTRY", warm)]).code == "no_signal"
    assert combine([]).code == HoldCode.OTHER


# ---- trend ---------------------------------------------------------------------------------------

def test_trend_warming_up_counts_bars_against_required_history() -> None:
    strategy = TrendStrategy("t1", SMALL_TREND)
    snap = snapshot({"BTCTRY": rising(5), "ETHTRY": rising(5)}, interval_s=HOUR)
    reason = held(strategy, snap, portfolio("1000"), ["BTCTRY", "ETHTRY"])
    assert reason == HoldReason("warming_up", "warming up: 5 of 12 bars (BTCTRY, ETHTRY)")
    assert strategy.required_history() == 12


def test_trend_without_an_uptrend_says_no_signal_and_a_capped_position_says_position_cap() -> None:
    strategy = TrendStrategy("t1", SMALL_TREND)
    snap = snapshot({"BTCTRY": falling(12)}, interval_s=HOUR)
    assert held(strategy, snap, portfolio("1000"), ["BTCTRY"]) == HoldReason(
        "no_signal", "no uptrend: ema3 <= ema6 (BTCTRY)")
    # steady uptrend, no volatility: target = max_weight (20 %); holding exactly that
    up = snapshot({"BTCTRY": rising(12)}, interval_s=HOUR)
    price = up.last_price("BTCTRY")
    assert price is not None
    qty = Decimal(200) / price  # 200 of 1000 equity = 20 %
    view_ = portfolio("800", {"BTCTRY": (qty, price)})
    reason = held(strategy, up, view_, ["BTCTRY"])
    assert reason.code == "position_cap" and "20.0% of equity (max_weight)" in reason.detail


def test_trend_inside_the_drift_band_is_at_target_and_halted_is_not_trading() -> None:
    strategy = TrendStrategy("t1", SMALL_TREND)
    closes = ["100", "103", "101", "105", "104", "108", "107", "111", "110", "114", "113", "117"]
    snap = snapshot({"BTCTRY": closes}, interval_s=HOUR)
    signal = trend_signal(snap.closes("BTCTRY"), HOUR, SMALL_TREND)
    assert signal is not None and Decimal(0) < signal.weight < SMALL_TREND.max_weight  # vol-targeted
    price = Decimal("117")
    qty = (signal.weight - Decimal("0.01")) * 1000 / price  # 1 % below the target: inside the 2 % band
    reason = held(strategy, snap, portfolio(1000 - qty * price, {"BTCTRY": (qty, price)}), ["BTCTRY"])
    assert reason.code == "at_target" and reason.detail.startswith("at target: holding ")
    assert "(drift band 2.0%) (BTCTRY)" in reason.detail
    halted = held(strategy, snap, portfolio("1000", state=TradingState.HALTED), ["BTCTRY"])
    assert halted == HoldReason("not_trading", "trading state HALTED")


def test_trend_reducing_blocks_the_buy_and_no_cash_is_named() -> None:
    strategy = TrendStrategy("t1", SMALL_TREND)
    up = snapshot({"BTCTRY": rising(12)}, interval_s=HOUR)
    reducing = held(strategy, up, portfolio("1000", state=TradingState.REDUCING), ["BTCTRY"])
    assert reducing == HoldReason("not_trading", "trading state REDUCING: no buys (BTCTRY)")
    price = up.last_price("BTCTRY")
    assert price is not None
    # all equity sits in ETHTRY (not tradable now), no free cash for the BTCTRY target
    broke = portfolio("0", {"ETHTRY": (Decimal(10), Decimal(100))})
    reason = held(strategy, up, broke, ["BTCTRY"])
    assert reason.code == "no_cash" and "free cash (0.0% of equity)" in reason.detail


# ---- ema_cross -----------------------------------------------------------------------------------

def test_ema_cross_warming_up_then_no_cross_then_position_cap() -> None:
    strategy = EmaCrossStrategy("e1", SMALL_CROSS)
    bars = minute_candles(crossing_series())
    need = strategy.required_history()
    early = minute_snapshot(bars[:5])
    assert held(strategy, early, view(), ["BTCTRY"]) == HoldReason(
        "warming_up", f"warming up: 5 of {need} bars (BTCTRY)")
    crossings = [i for i in range(need, len(bars))
                 if strategy.decide(minute_snapshot(bars[i + 1 - need : i + 1]), view(), ["BTCTRY"])]
    assert crossings, "the series crosses up once"
    up = crossings[0]
    quiet = minute_snapshot(bars[up + 2 - need : up + 2])
    reason = held(strategy, quiet, view(), ["BTCTRY"])
    assert reason == HoldReason("no_signal", "no ema3/ema6 cross (fast above slow) (BTCTRY)")
    cross = minute_snapshot(bars[up + 1 - need : up + 1])
    capped = held(strategy, cross, view(held="1"), ["BTCTRY"])
    assert capped.code == "position_cap" and "already holding" in capped.detail
    reducing = held(strategy, cross, view(state=TradingState.REDUCING), ["BTCTRY"])
    assert reducing.code == "not_trading" and "REDUCING" in reducing.detail


# ---- rebalance -----------------------------------------------------------------------------------

def test_rebalance_at_target_and_without_price() -> None:
    strategy = RebalanceStrategy("r1", RebalanceParams(weights=(("BTCTRY", Decimal("0.5")),)))
    snap = snapshot({"BTCTRY": ["100"]}, interval_s=HOUR, tickers={"BTCTRY": ticker("BTCTRY", "100")})
    view_ = portfolio("500", {"BTCTRY": (Decimal("5"), Decimal("100"))})
    reason = held(strategy, snap, view_, ["BTCTRY", "ETHTRY"])
    # one symbol each: the tie goes to no_price (listed before at_target in HoldCode)
    assert reason == HoldReason(
        "no_price", "no price (no ticker and no closed bar) (ETHTRY); "
                    "at target: holding 50.0% of equity, target 50.0% (drift band 5.0%) (BTCTRY)")
    assert held(strategy, snap, view_, ["BTCTRY"]).code == "at_target"


def test_every_built_in_explains_its_hold() -> None:
    for strategy in (TrendStrategy("t1"), RebalanceStrategy("r1"), EmaCrossStrategy("e1")):
        assert isinstance(strategy, ExplainsHold)


def test_hold_reason_is_pure_same_inputs_same_reason() -> None:
    strategy = TrendStrategy("t1", SMALL_TREND)
    snap = snapshot({"BTCTRY": falling(12)}, interval_s=HOUR)
    first = held(strategy, snap, portfolio("1000"), ["BTCTRY"])
    again = held(TrendStrategy("t1", SMALL_TREND), snap, portfolio("1000"), ["BTCTRY"])
    # without a decide before it (nothing remembered), and after a decide on another snapshot
    alone = TrendStrategy("t1", SMALL_TREND).hold_reason(snap, portfolio("1000"), ["BTCTRY"])
    other = snapshot({"BTCTRY": rising(5)}, interval_s=HOUR)
    assert strategy.decide(other, portfolio("1000"), ["BTCTRY"]) == []
    assert first == again == alone == strategy.hold_reason(snap, portfolio("1000"), ["BTCTRY"])
    assert strategy.hold_reason(other, portfolio("1000"), ["BTCTRY"]).code == "warming_up"
