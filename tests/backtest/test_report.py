"""Backtest report metrics against hand-computed numbers, and byte-identical rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.backtest.analysis import daily_closes
from btcbot.backtest.report import (
    BacktestReport,
    TradeRecord,
    build_report,
    buy_and_hold,
    compute_metrics,
    drawdowns,
    equity_csv,
    render_decimal,
    report_to_json,
    round_trips,
    trades_csv,
    write_report,
)
from btcbot.backtest.summary import summary_lines
from btcbot.domain.enums import Side
from btcbot.domain.market import Candle

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = 86400
# 365 days / 7_884_000 s = 4 bars a year, so the annualization factor sqrt(4) is exactly 2.
QUARTER_S = 365 * DAY // 4


def curve(values: list[str], step_s: int = DAY) -> list[tuple[datetime, Decimal]]:
    return [(T0 + timedelta(seconds=i * step_s), D(v)) for i, v in enumerate(values)]


def q(value: Decimal | None) -> str | None:
    return render_decimal(value)


def test_total_return_and_max_drawdown() -> None:
    m = compute_metrics(curve(["100", "110", "99", "121"]), DAY)
    assert m.total_return == D("0.21")
    assert m.max_drawdown == D("0.1")  # 110 -> 99
    assert m.start_equity == D(100) and m.end_equity == D(121)


def test_drawdown_series() -> None:
    assert drawdowns([D(100), D(80), D(120), D(90), D(130)]) == [D(0), D("0.2"), D(0), D("0.25"), D(0)]


def test_cagr_over_two_years() -> None:
    m = compute_metrics(curve(["100", "121"], step_s=730 * DAY), DAY)
    assert q(m.cagr) == "0.10000000"


def test_cagr_none_for_short_spans_and_minus_one_after_ruin() -> None:
    assert compute_metrics(curve(["100"]), DAY).cagr is None
    assert compute_metrics(curve(["100", "200"], step_s=29 * DAY), DAY).cagr is None
    assert compute_metrics(curve(["100", "0"], step_s=30 * DAY), DAY).cagr == D(-1)


def test_sharpe_and_sortino_hand_computed() -> None:
    # returns +10 %, -5 %: mean 0.025, sample stdev 0.075*sqrt(2), downside dev 0.05/sqrt(2)
    m = compute_metrics(curve(["100", "110", "104.5"], step_s=QUARTER_S), QUARTER_S)
    assert q(m.sharpe) == q(D(2).sqrt() / 3)  # 0.025 / (0.075 sqrt 2) * 2
    assert q(m.sortino) == q(D(2).sqrt())  # 0.025 / (0.05 / sqrt 2) * 2


def test_daily_closes_take_the_last_point_of_each_utc_day() -> None:
    # 12-hour points from 2026-01-01 00:00: a point at 00:00 closes the day before.
    points = curve(["100", "101", "102", "103", "104", "105"], step_s=DAY // 2)
    assert daily_closes(points) == [D(100), D(102), D(104), D(105)]
    assert daily_closes(points[:1]) == [D(100)]
    assert daily_closes([]) == []
    # One point a day at 00:00: each closes the day before it, so every point is a close.
    assert daily_closes(curve(["1", "2", "3"])) == [D(1), D(2), D(3)]


def test_daily_sharpe_and_sortino_over_daily_closes_hand_computed() -> None:
    # 12-hour bars; daily closes 100 -> 110 -> 104.5 (+10 %, -5 %), whatever the bars in between.
    points = curve(["100", "107", "110", "90", "104.5"], step_s=DAY // 2)
    m = compute_metrics(points, DAY // 2)
    root365 = D(365).sqrt()
    assert q(m.sharpe_daily) == q(D("0.025") / (D("0.075") * D(2).sqrt()) * root365)  # ~4.5
    assert q(m.sortino_daily) == q(D("0.025") / (D("0.05") / D(2).sqrt()) * root365)  # ~13.5
    assert m.sharpe is not None and q(m.sharpe) != q(m.sharpe_daily)  # per-bar figures differ
    # Bars longer than a day: no daily figure (not every day has a close).
    assert compute_metrics(curve(["100", "110", "104.5"], step_s=2 * DAY), 2 * DAY).sharpe_daily is None
    # Daily bars: the daily figures are the per-bar ones.
    daily = compute_metrics(curve(["100", "110", "104.5"]), DAY)
    assert daily.sharpe_daily == daily.sharpe and daily.sortino_daily == daily.sortino


def test_report_shows_daily_and_per_bar_sharpe() -> None:
    report = make_report()
    data = json.loads(report_to_json(report))
    assert {"sharpe", "sortino", "sharpe_daily", "sortino_daily"} <= set(data["strategy"])
    line = next(line for line in summary_lines(report) if line.startswith("max drawdown"))
    assert "daily (" in line and "per bar)" in line


def test_sharpe_undefined_without_variation() -> None:
    m = compute_metrics(curve(["100", "100", "100"]), DAY)
    assert m.sharpe is None and m.sortino is None
    assert compute_metrics(curve(["100", "110"]), DAY).sharpe is None


def test_exposure_fractions() -> None:
    m = compute_metrics(curve(["100", "100", "100", "120"]), DAY, exposures=[D(0), D(50), D(0), D(60)])
    assert m.time_in_market == D("0.5")
    assert m.avg_exposure == D("0.25")


def test_exposures_must_align() -> None:
    with pytest.raises(ValueError, match="exposures has 1 points"):
        compute_metrics(curve(["100", "101"]), DAY, exposures=[D(0)])


def trade(
    side: Side, qty: str, price: str, fee: str = "0", tax: str = "0", symbol: str = "BTCTRY"
) -> TradeRecord:
    return TradeRecord(T0, symbol, side, D(qty), D(price), D(fee), D(tax))


def test_fifo_round_trips_and_win_rate() -> None:
    trades = [
        trade(Side.BUY, "1", "100"),
        trade(Side.BUY, "1", "200"),
        trade(Side.SELL, "1.5", "150"),  # 1@100 (+50) and 0.5@200 (-25): +25, a win
        trade(Side.SELL, "0.5", "190"),  # 0.5@200: -5, a loss
        trade(Side.SELL, "1", "500", symbol="ETHTRY"),  # nothing bought: not a round trip
    ]
    assert round_trips(trades) == (2, 1)
    m = compute_metrics(curve(["1000", "1000"]), DAY, trades)
    assert m.trades == 5 and m.round_trips == 2 and m.wins == 1
    assert m.win_rate == D("0.5")
    # notional 100 + 200 + 225 + 95 + 500 = 1120 over a mean equity of 1000
    assert m.turnover == D("1.12")


def test_fees_and_taxes_turn_a_price_gain_into_a_loss() -> None:
    trades = [
        trade(Side.BUY, "1", "100", fee="1", tax="0.2"),
        trade(Side.SELL, "1", "101", fee="1", tax="0.2"),
    ]
    m = compute_metrics(curve(["1000", "1000"]), DAY, trades)
    assert m.round_trips == 1 and m.wins == 0 and m.win_rate == D(0)
    assert m.fees == D(2) and m.taxes == D("0.4")


def test_no_round_trip_gives_no_win_rate() -> None:
    assert compute_metrics(curve(["1"]), DAY, [trade(Side.BUY, "1", "1")]).win_rate is None


def candle(symbol: str, hour: int, close: str) -> Candle:
    c = D(close)
    return Candle(symbol, 3600, T0 + timedelta(hours=hour), c, c, c, c, D(1))


def test_buy_and_hold_equal_weight() -> None:
    candles = {
        "AAATRY": [candle("AAATRY", 0, "10"), candle("AAATRY", 1, "20")],
        "BBBTRY": [candle("BBBTRY", 0, "100"), candle("BBBTRY", 1, "50")],
    }
    bench = buy_and_hold(candles, D(1000))
    # 500 TRY each: 50 AAA at 10 and 5 BBB at 100; then 50*20 + 5*50 = 1250
    assert [e for _, e in bench.curve] == [D(1000), D(1250)]
    assert [t for t, _ in bench.curve] == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    assert [(t.symbol, t.quantity) for t in bench.trades] == [("AAATRY", D(50)), ("BBBTRY", D(5))]
    assert bench.exposures == (D(1000), D(1250))


def test_buy_and_hold_fee_and_sampling_times() -> None:
    candles = {"AAATRY": [candle("AAATRY", 1, "10"), candle("AAATRY", 2, "11")]}
    times = [T0 + timedelta(hours=h) for h in (1, 2, 3, 4)]
    bench = buy_and_hold(candles, D(1000), times=times, fee_bps=D(100))
    # before the first close (hour 2) it is cash; 990 / 10 = 99 units, fee 10
    assert [e for _, e in bench.curve] == [D(1000), D(990), D(1089), D(1089)]
    assert bench.trades[0].fee == D(10)
    assert bench.exposures[0] == D(0)


def make_report() -> BacktestReport:
    equity = curve(["100000", "101000", "99500", "102000"], step_s=3600)
    candles = {"BTCTRY": [candle("BTCTRY", h - 1, p) for h, p in enumerate(["10", "10.1", "9.9", "10.4"])]}
    bench = buy_and_hold(candles, D(100000), times=[t for t, _ in equity])
    trades = [
        TradeRecord(equity[1][0], "BTCTRY", Side.BUY, D("1000"), D("10.1"), D("20.2"), D("4.04")),
        TradeRecord(equity[3][0], "BTCTRY", Side.SELL, D("1000"), D("10.4"), D("20.8"), D("4.16")),
    ]
    return build_report(
        equity_curve=equity,
        interval_s=3600,
        trades=trades,
        exposures=[D(0), D("10100"), D("9900"), D(0)],
        risk_denials={"VENUE_MIN_NOTIONAL": 2, "ALPHA_EDGE_BELOW_MINIMUM": 3},
        benchmark_curve=bench.curve,
        benchmark_trades=bench.trades,
        benchmark_exposures=bench.exposures,
    )


def test_report_json_content() -> None:
    data = json.loads(report_to_json(make_report()))
    assert data["strategy"]["total_return"] == "0.02000000"
    assert data["strategy"]["trades"] == 2 and data["strategy"]["win_rate"] == "1.00000000"
    assert data["benchmark"]["total_return"] == "0.04000000"
    assert data["risk_denials"] == {"ALPHA_EDGE_BELOW_MINIMUM": 3, "VENUE_MIN_NOTIONAL": 2}
    assert data["risk_denials_total"] == 5
    assert data["bars"] == 4 and data["interval_s"] == 3600


def test_report_outputs_are_byte_identical(tmp_path: Path) -> None:
    first, second = make_report(), make_report()
    assert report_to_json(first) == report_to_json(second)
    a = write_report(first, tmp_path / "a")
    b = write_report(second, tmp_path / "b")
    for name in ("report.json", "equity.csv", "trades.csv"):
        assert a[name].read_bytes() == b[name].read_bytes()
    text = a["report.json"].read_text()
    top = [line for line in text.splitlines() if line.startswith('  "')]  # top-level keys, sorted
    assert [line.split('"')[1] for line in top] == sorted(line.split('"')[1] for line in top)
    assert text.index('\n  "benchmark"') < text.index('\n  "risk_denials"') < text.index('\n  "strategy"')


def test_csv_rows() -> None:
    report = make_report()
    lines = equity_csv(report).splitlines()
    assert lines[0] == "time,equity,benchmark,drawdown,exposure"
    assert lines[3] == "2026-01-01T02:00:00+00:00,99500.00000000,99000.00000000,0.01485149,9900.00000000"
    trade_lines = trades_csv(report).splitlines()
    assert trade_lines[1] == (
        "2026-01-01T01:00:00+00:00,BTCTRY,BUY,1000.00000000,10.10000000,10100.00000000,20.20000000,4.04000000"
    )
    assert len(trade_lines) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.123456785"), "0.12345678"),  # half even
        (D("0.123456795"), "0.12345680"),
        (D("-0.000000001"), "0.00000000"),  # no negative zero
        (D("1E+3"), "1000.00000000"),  # no exponent
        (D("5E+40"), "5" + "0" * 40 + ".00000000"),  # large magnitudes do not overflow the context
        (None, None),
    ],
)
def test_render_decimal_is_the_one_rounding(value: Decimal | None, expected: str | None) -> None:
    assert render_decimal(value) == expected


# ---------------------------------------------------------------- the trader's report (issue 12)

from btcbot.backtest.analysis import (  # noqa: E402
    calmar,
    max_drawdown_period,
    monthly_returns,
    per_pair,
    trade_stats,
)
from btcbot.backtest.report import RunContext, round_trips_csv  # noqa: E402
from btcbot.backtest.roundtrips import pair_fills  # noqa: E402
from btcbot.backtest.run_report import fill_slippage  # noqa: E402
from btcbot.backtest.timeline import build_timeline, describe_stop, drawdown_tiers  # noqa: E402
from btcbot.domain.enums import TradingState  # noqa: E402

H = timedelta(hours=1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def rec(hours: float, side: Side, qty: str, price: str, fee: str = "0", symbol: str = "BTCTRY") -> TradeRecord:
    return TradeRecord(at(hours), symbol, side, D(qty), D(price), D(fee), D(0))


def test_fifo_round_trips_carry_entry_time_cost_and_fees() -> None:
    fills = [
        rec(0, Side.BUY, "1", "100", fee="1"),       # unit 101
        rec(2, Side.BUY, "1", "200"),                # unit 200
        rec(5, Side.SELL, "1.5", "150", fee="3"),    # unit 148: 1@101 + 0.5@200 -> cost 201, proceeds 222
        rec(6, Side.SELL, "0.25", "180"),            # 0.25@200: cost 50, proceeds 45
        rec(7, Side.BUY, "2", "10", symbol="ETHTRY"),
    ]
    paired = pair_fills(fills, {"BTCTRY": D("190"), "ETHTRY": D("12")})
    first, second = paired.trips
    assert (first.entry_time, first.exit_time, first.quantity) == (at(0), at(5), D("1.5"))
    assert (first.cost, first.proceeds, first.pnl) == (D(201), D(222), D(21))
    assert first.duration_s == 5 * 3600 and first.won
    assert (second.entry_time, second.cost, second.pnl) == (at(2), D(50), D(-5)) and not second.won
    assert second.return_ == D("-0.1")
    btc, eth = paired.open_positions
    # 0.25 BTC left of the lot bought at hour 2 for 200
    assert (btc.symbol, btc.quantity, btc.cost, btc.entry_time) == ("BTCTRY", D("0.25"), D(50), at(2))
    assert (btc.value, btc.unrealized_pnl, btc.average_cost) == (D("47.5"), D("-2.5"), D(200))
    assert (eth.quantity, eth.value, eth.unrealized_pnl) == (D(2), D(24), D(4))
    assert pair_fills(fills[:1]).open_positions[0].value is None  # no last price: not valued


def test_trade_stats_hand_computed() -> None:
    fills = [
        rec(0, Side.BUY, "1", "100"), rec(1, Side.SELL, "1", "130"),   # +30, 1 h
        rec(2, Side.BUY, "1", "100"), rec(5, Side.SELL, "1", "90"),    # -10, 3 h
        rec(6, Side.BUY, "1", "100"), rec(8, Side.SELL, "1", "100"),   # 0 (a loss), 2 h
        rec(9, Side.BUY, "1", "100"), rec(10, Side.SELL, "1", "95"),   # -5, 1 h
        rec(11, Side.BUY, "1", "100"), rec(12, Side.SELL, "1", "120"),  # +20, 1 h
    ]
    stats = trade_stats(pair_fills(fills).trips)
    assert (stats.trips, stats.wins, stats.losses) == (5, 2, 3)
    assert stats.win_rate == D("0.4")
    assert (stats.gross_profit, stats.gross_loss, stats.total_profit) == (D(50), D(15), D(35))
    assert render_decimal(stats.profit_factor) == "3.33333333"  # 50 / 15
    assert stats.avg_profit == D(7)  # expectancy: 35 / 5
    assert stats.avg_return == D("0.07")
    assert stats.avg_duration_s == 8 * 3600 // 5  # (1+3+2+1+1) h / 5 = 5760 s
    assert stats.longest_losing_streak == 3
    assert trade_stats([]).profit_factor is None and trade_stats([]).win_rate is None
    only_wins = trade_stats(pair_fills(fills[:2]).trips)
    assert only_wins.profit_factor is None and only_wins.longest_losing_streak == 0


def test_per_pair_lists_every_symbol_even_untraded() -> None:
    trips = pair_fills([rec(0, Side.BUY, "1", "10", symbol="ETHTRY"), rec(1, Side.SELL, "1", "12", symbol="ETHTRY")]).trips
    table = per_pair(trips, ["BTCTRY", "ETHTRY"])
    assert list(table) == ["BTCTRY", "ETHTRY"]
    assert table["BTCTRY"].trips == 0 and table["BTCTRY"].avg_profit is None
    assert table["ETHTRY"].total_profit == D(2) and table["ETHTRY"].avg_duration_s == 3600


def test_drawdown_period_peak_trough_recovery() -> None:
    values = ["100", "120", "110", "90", "100", "125", "124"]
    period = max_drawdown_period(curve(values))
    assert period.depth == D("0.25")  # 120 -> 90
    assert (period.peak, period.trough, period.recovery) == (T0 + timedelta(days=1), T0 + timedelta(days=3),
                                                              T0 + timedelta(days=5))
    unrecovered = max_drawdown_period(curve(["100", "80", "90"]))
    assert (unrecovered.peak, unrecovered.trough, unrecovered.recovery) == (T0, T0 + timedelta(days=1), None)
    flat = max_drawdown_period(curve(["100", "100"]))
    assert flat.depth == 0 and flat.peak is None


def test_monthly_returns_chain_month_ends() -> None:
    points = [
        (datetime(2026, 1, 1, 1, tzinfo=UTC), D(100)),
        (datetime(2026, 1, 31, 12, tzinfo=UTC), D(110)),
        (datetime(2026, 2, 1, 0, tzinfo=UTC), D(120)),  # the close of January's last bar
        (datetime(2026, 2, 15, tzinfo=UTC), D(90)),
        (datetime(2026, 3, 2, tzinfo=UTC), D(99)),
    ]
    assert monthly_returns(points) == [("2026-01", D("0.2")), ("2026-02", D("-0.25")), ("2026-03", D("0.1"))]


def test_calmar() -> None:
    assert calmar(D("0.3"), D("0.1")) == D(3)
    assert calmar(None, D("0.1")) is None and calmar(D("0.3"), D(0)) is None
    m = compute_metrics(curve(["100", "121", "110"], step_s=365 * DAY), DAY)
    # CAGR over two years 1.1 ** 0.5 - 1 = 0.0488...; max drawdown 11 / 121
    assert m.cagr is not None and render_decimal(m.calmar) == render_decimal(m.cagr * D(121) / D(11))


def test_drawdown_tiers_per_point() -> None:
    tiers = (D("0.05"), D("0.10"), D("0.15"))
    assert drawdown_tiers([D(100), D(96), D(95), D(90), D(85), D(84), D(100), D(101)], tiers) == [0, 0, 1, 2, 3, 3, 0, 0]


def test_timeline_from_recorded_states_and_the_risk_stop_sentence() -> None:
    days = [T0 + timedelta(days=i) for i in range(6)]
    equity = [D(100), D(100), D(80), D(80), D(80), D(80)]
    exposures = [D(50), D(50), D(0), D(0), D(0), D(0)]
    changes = [
        (days[0], TradingState.ACTIVE, ()),
        (days[2], TradingState.REDUCING, ("RISK_DRAWDOWN_DERISK_ACTIVE",)),
    ]
    tiers, mults = (D("0.05"), D("0.10"), D("0.15")), (D(1), D("0.7"), D("0.4"), D(0))
    timeline = build_timeline(list(zip(days, equity, strict=True)), exposures, tiers, mults, changes)
    assert not timeline.derived
    assert [(s.state, s.tier, s.bars, s.cash_bars, s.ongoing) for s in timeline.segments] == [
        (TradingState.ACTIVE, 0, 2, 0, False),
        (TradingState.REDUCING, 3, 4, 4, True),
    ]
    (stop,) = timeline.stops
    assert (stop.start, stop.end, stop.duration_s, stop.ongoing) == (days[2], days[5], 3 * DAY, True)
    assert stop.in_cash_share == 1
    assert describe_stop(stop, tiers) == (
        "drawdown tier 3 (drawdown >= 15%, no new risk) kept the bot in cash from 2026-01-03 00:00 "
        "to 2026-01-06 00:00 (3 days, still in force at the end)"
    )


def test_timeline_derived_from_drawdown_when_states_are_not_recorded() -> None:
    days = [T0 + timedelta(days=i) for i in range(5)]
    equity = [D(100), D(84), D(84), D(100), D(100)]
    timeline = build_timeline(list(zip(days, equity, strict=True)), [D(1), D(0), D(5), D(1), D(1)],
                              (D("0.05"), D("0.15")), (D(1), D("0.5"), D(0)))
    assert timeline.derived
    (stop,) = timeline.stops
    assert (stop.start, stop.end, stop.bars, stop.cash_bars, stop.ongoing) == (days[1], days[3], 2, 1, False)
    assert stop.reasons == ("RISK_DRAWDOWN_DERISK_ACTIVE",) and stop.tier == 2
    assert "kept the bot out of new positions (50% of the time in cash)" in describe_stop(stop, timeline.tiers)
    assert "(2 days)" in describe_stop(stop, timeline.tiers)


def test_benchmark_costs_split_like_the_strategy_and_quantity_unchanged() -> None:
    candles = {"AAATRY": [candle("AAATRY", 0, "10"), candle("AAATRY", 1, "12")]}
    lumped = buy_and_hold(candles, D(1000), fee_bps=D("10") * D("1.2") + D("5"))
    split = buy_and_hold(candles, D(1000), fee_bps=D(10), tax_ratio=D("0.2"), slippage_bps=D(5))
    assert split.trades[0].quantity == lumped.trades[0].quantity == D("99.83")  # (1000 - 1 - 0.2 - 0.5) / 10
    assert (split.trades[0].fee, split.trades[0].tax, split.trades[0].slippage) == (D(1), D("0.2"), D("0.5"))
    m = compute_metrics(split.curve, 3600, split.trades, split.exposures)
    assert (m.fees, m.taxes, m.slippage, m.costs) == (D(1), D("0.2"), D("0.5"), D("1.7"))


def test_fill_slippage_against_the_bar_open() -> None:
    bars = {"BTCTRY": [Candle("BTCTRY", 3600, at(h), D(100), D(110), D(90), D(100), D(1)) for h in range(3)]}
    fills = [
        rec(1, Side.BUY, "2", "100.5"),   # 0.5 over the open: 1.0
        rec(2, Side.SELL, "2", "99.75"),  # 0.25 under the open: 0.5
        rec(2, Side.BUY, "1", "95"),      # a limit below the open: no slippage
        rec(9, Side.SELL, "1", "1"),      # no bar at that time: ignored
    ]
    assert fill_slippage(fills, bars) == D("1.5")


def trader_report() -> BacktestReport:
    equity = [(at(h), D(v)) for h, v in enumerate(["1000", "1000", "1020", "1010", "800", "800"])]
    trades = [rec(0, Side.BUY, "1", "100", fee="1"), rec(2, Side.SELL, "1", "120", fee="1"),
              rec(3, Side.BUY, "2", "100")]
    changes = [(at(0), TradingState.ACTIVE, ()), (at(4), TradingState.REDUCING, ("RISK_DRAWDOWN_DERISK_ACTIVE",))]
    return build_report(
        equity_curve=equity, interval_s=3600, trades=trades,
        exposures=[D(0), D(100), D(0), D(200), D(0), D(0)], risk_denials={},
        benchmark_curve=equity, slippage=D("0.75"),
        context=RunContext(symbols=("BTCTRY", "ETHTRY"), last_prices={"BTCTRY": D(90)}, state_changes=changes),
    )


def test_report_json_has_the_trader_sections() -> None:
    data = json.loads(report_to_json(trader_report()))
    s = data["strategy"]
    assert (s["fees"], s["slippage"], s["costs"]) == ("2.00000000", "0.75000000", "2.75000000")
    assert (s["profit_factor"], s["expectancy"], s["longest_losing_streak"]) == (None, "18.00000000", 0)
    assert s["max_drawdown_peak"] == at(2).isoformat() and s["max_drawdown_recovery"] is None
    assert data["pairs"]["BTCTRY"]["trips"] == 1 and data["pairs"]["ETHTRY"]["trips"] == 0
    assert data["best_trade"]["pnl"] == "18.00000000" and data["best_trade"] == data["worst_trade"]
    assert data["open_positions"] == [{
        "average_cost": "100.00000000", "cost": "200.00000000", "entry_time": at(3).isoformat(),
        "last_price": "90.00000000", "quantity": "2.00000000", "symbol": "BTCTRY",
        "unrealized_pnl": "-20.00000000", "value": "180.00000000",
    }]
    assert data["monthly_returns"] == [{"month": "2026-01", "strategy": "-0.20000000", "benchmark": "-0.20000000"}]
    assert [seg["state"] for seg in data["timeline"]["segments"]] == ["ACTIVE", "REDUCING"]
    assert data["risk_stops"][0]["start"] == at(4).isoformat() and data["risk_stops"][0]["ongoing"] is True
    assert report_to_json(trader_report()) == report_to_json(trader_report())
    assert round_trips_csv(trader_report()).splitlines()[1] == (
        f"{at(0).isoformat()},{at(2).isoformat()},BTCTRY,1.00000000,101.00000000,119.00000000,18.00000000,"
        "0.17821782,7200"
    )


def test_summary_says_when_a_risk_stop_kept_the_bot_out() -> None:
    text = "\n".join(summary_lines(trader_report()))
    assert ("risk stop: drawdown tier 3 (drawdown >= 15%, no new risk) kept the bot in cash from "
            "2026-01-01 04:00 to 2026-01-01 05:00 (1 hour, still in force at the end)") in text
    assert "costs: strategy fees 2.00 + taxes 0.00 + slippage 0.75 = 2.75" in text
    assert "open at the end: BTCTRY 2 (value 180.00, unrealized -20.00)" in text
    assert "not recovered by the end" in text
    assert any(line.startswith("BTCTRY ") for line in text.splitlines())
