"""Backtest report metrics against hand-computed numbers, and byte-identical rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

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
