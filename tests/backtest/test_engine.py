"""The backtester: next-open fills with slippage/fee/tax on the ledger, strategy-interval decisions
on closed bars only, risk denials by code, and byte-identical reports for identical inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from btcbot.backtest.bars import aggregate
from btcbot.backtest.engine import BacktestEngine
from btcbot.backtest.runner import run_backtest
from btcbot.config.settings import Settings, load_settings
from btcbot.contracts.strategy import MarketSnapshot
from btcbot.data.synthetic import generate_candles
from btcbot.domain.enums import OrderType, Side
from btcbot.domain.ids import ExchangeOrderId, Symbol
from btcbot.domain.intents import OrderIntent
from btcbot.domain.market import Candle
from btcbot.domain.portfolio import PortfolioView
from btcbot.strategies.registry import load_strategy

T0 = datetime(2026, 2, 2, tzinfo=UTC)
SYMBOLS = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return load_settings(env_file=empty, environ={}).settings


def flat_bars(symbol: str, opens: Sequence[str], interval_s: int = 3600) -> list[Candle]:
    """Bars whose open is given and whose close equals the next bar's open."""
    out = []
    for i, o in enumerate(opens):
        close = Decimal(opens[i + 1]) if i + 1 < len(opens) else Decimal(o)
        out.append(Candle(symbol, interval_s, T0 + timedelta(seconds=interval_s * i), Decimal(o),
                          max(Decimal(o), close), min(Decimal(o), close), close, Decimal(1)))
    return out


@dataclass
class Scripted:
    """Returns the scripted intents on the n-th decide call and records what it saw."""

    script: dict[int, list[OrderIntent]]
    strategy_id: str = "s1"
    calls: int = 0
    seen: list[tuple[datetime, datetime | None, int, Decimal]] = field(default_factory=list)

    def required_history(self) -> int:
        return 3

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> list[OrderIntent]:
        bars = snapshot.candles.get("BTCTRY", ())
        self.seen.append((snapshot.now, bars[-1].close_time if bars else None, len(bars), portfolio.cash_free))
        intents = self.script.get(self.calls, [])
        self.calls += 1
        return intents


def intent(side: Side, qty: str, ref: str, symbol: str = "BTCTRY", edge: str = "1000") -> OrderIntent:
    return OrderIntent("s1", symbol, side, OrderType.MARKET, Decimal(qty), Decimal(ref), Decimal(edge))


def universe(opens: Sequence[str], interval_s: int = 3600) -> dict[str, list[Candle]]:
    return {s: flat_bars(s, opens, interval_s) for s in SYMBOLS}


def test_market_buy_fills_at_next_open_with_slippage_fee_and_tax(settings: Settings) -> None:
    opens = ["4000000", "4000000", "4100000", "4200000", "4200000"]
    strategy = Scripted({1: [intent(Side.BUY, "0.002", "4100000")]})
    result = BacktestEngine(settings, strategy, 3600).run(universe(opens))
    [fill] = result.trades
    # decided at the close of bar 1 (T0+2h, close 4100000); fills at bar 2's open + 5 bps
    assert fill.timestamp == T0 + timedelta(hours=2)
    assert fill.price == Decimal("4100000") * Decimal("1.0005")
    # the quote amount sent is 0.002 * 4100000 = 8200 TRY, floored to BTC's 8 decimals at the fill price
    assert fill.quantity == Decimal("0.00199900")
    notional = fill.quantity * fill.price
    assert fill.fee == (notional * Decimal("0.002")).quantize(Decimal("1E-10"))
    assert fill.tax == (fill.fee * Decimal("0.2")).quantize(Decimal("1E-10"))
    # the next view (bar 2's close) shows the cash paid, fee and tax included
    cash_after = strategy.seen[2][3]
    assert cash_after == Decimal("100000") - notional - fill.fee - fill.tax
    # equity marks the position at the last close
    final_equity = result.equity_curve[-1][1]
    assert final_equity == cash_after + fill.quantity * Decimal("4200000")


def test_sell_is_capped_at_holdings_and_books_realized_pnl(settings: Settings) -> None:
    opens = ["4000000"] * 3 + ["4400000"] * 3
    strategy = Scripted({0: [intent(Side.BUY, "0.002", "4000000")], 3: [intent(Side.SELL, "0.002", "4400000")]})
    result = BacktestEngine(settings, strategy, 3600).run(universe(opens))
    buy, sell = result.trades
    assert buy.side is Side.BUY and sell.side is Side.SELL
    assert sell.quantity == buy.quantity  # the request is resized to what is held
    assert sell.price == Decimal("4400000") * Decimal("0.9995")
    expected_cash = (Decimal("100000") - buy.quantity * buy.price - buy.fee - buy.tax
                     + sell.quantity * sell.price - sell.fee - sell.tax)
    assert result.equity_curve[-1][1] == expected_cash


def test_risk_denials_are_counted_by_code(settings: Settings) -> None:
    opens = ["4000000"] * 4
    strategy = Scripted({0: [intent(Side.BUY, "0.002", "4000000", edge="1")],
                         1: [intent(Side.SELL, "1", "4000000")]})
    result = BacktestEngine(settings, strategy, 3600).run(universe(opens))
    assert result.trades == []
    assert dict(result.denials) == {"ALPHA_EDGE_BELOW_MINIMUM": 1, "RISK_INSUFFICIENT_POSITION": 1}


def test_minute_bars_are_aggregated_and_decisions_happen_on_closed_hours(settings: Settings) -> None:
    candles = generate_candles(SYMBOLS, 60, T0, T0 + timedelta(hours=6), seed=4)
    strategy = Scripted({})
    result = BacktestEngine(settings, strategy, 3600).run(candles)
    assert result.base_bars == 5 * 360 and result.strategy_bars == 6
    assert [s[0] for s in strategy.seen] == [T0 + timedelta(hours=h) for h in range(1, 7)]
    for now, last_close_time, count, _ in strategy.seen:
        assert last_close_time == now  # the newest bar the strategy sees has just closed
        assert count <= 3  # sliding window of required_history()
    hourly = aggregate(candles["BTCTRY"], 3600)
    assert hourly == generate_candles(["BTCTRY"], 3600, T0, T0 + timedelta(hours=6), seed=4)["BTCTRY"]


def test_aggregate_rejects_bars_that_do_not_divide_the_interval() -> None:
    bars = flat_bars("BTCTRY", ["1", "2"], interval_s=3600)
    with pytest.raises(ValueError):
        aggregate(bars, 5400)


def test_same_inputs_give_byte_identical_report_files(settings: Settings, tmp_path: Path) -> None:
    candles = generate_candles(SYMBOLS, 60, T0, T0 + timedelta(days=9), seed=11)
    end = T0 + timedelta(days=9)
    first = run_backtest(settings, candles, tmp_path / "a", T0, end, "trend", 3600)
    second = run_backtest(settings, candles, tmp_path / "b", T0, end, "trend", 3600)
    assert first.report.strategy.trades > 0, "the fixture should trade so the comparison means something"
    assert sorted(first.files) == ["equity.csv", "equity.png", "report.json", "round_trips.csv", "run.json", "trades.csv"]
    for name, path in first.files.items():
        assert path.read_bytes() == second.files[name].read_bytes(), name
    png = first.files["equity.png"].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_trend_backtest_keeps_the_books_consistent(settings: Settings) -> None:
    candles = generate_candles(SYMBOLS, 60, T0, T0 + timedelta(days=9), seed=11)
    engine = BacktestEngine(settings, load_strategy("trend", "s1"), 3600)
    result = engine.run(candles)
    assert result.trades
    cash = Decimal("100000")
    held: dict[str, Decimal] = {}
    for f in result.trades:
        sign = 1 if f.side is Side.BUY else -1
        cash -= sign * f.quantity * f.price + f.fee + f.tax
        held[f.symbol] = held.get(f.symbol, Decimal(0)) + sign * f.quantity
        assert held[f.symbol] >= 0 and cash >= 0
    closes = {s: result.bars[s][-1].close for s in SYMBOLS}
    assert result.equity_curve[-1][1] == cash + sum((q * closes[s] for s, q in held.items()), Decimal(0))


def test_book_accounting_rolls_over_at_the_local_month_start() -> None:
    from btcbot.backtest.book import BacktestBook
    from btcbot.domain.exchange_models import Fill

    book = BacktestBook("TRY", Decimal("100000"), "Europe/Istanbul")
    at = datetime(2025, 1, 31, 20, 0, tzinfo=UTC)  # 23:00 in Istanbul, still January
    buy = Fill(1, ExchangeOrderId(1), None, Symbol("BTCTRY"), Side.BUY, Decimal("4000000"), Decimal("0.01"), Decimal(0), Decimal(0), "TRY", at)
    sell = Fill(2, ExchangeOrderId(2), None, Symbol("BTCTRY"), Side.SELL, Decimal("4100000"), Decimal("0.01"), Decimal(0), Decimal(0), "TRY", at)
    book.book_fill(buy, at)
    book.book_fill(sell, at)
    realized, notional = book.accounting(at + timedelta(minutes=30))
    assert realized == Decimal("1000") and notional == Decimal("81000")
    # 21:30 UTC is 00:30 on 1 February in Istanbul: a new month (same UTC date)
    realized_next, _ = book.accounting(at + timedelta(minutes=90))
    assert realized_next == 0


def test_the_example_user_strategy_runs_unchanged(settings: Settings) -> None:
    """A user strategy written before the incremental path (no may_act, tuples via candles/closes)."""
    candles = generate_candles(SYMBOLS, 60, T0, T0 + timedelta(days=6), seed=11)
    strategy = load_strategy("examples.my_strategy:SmaFilterStrategy", "s1")
    result = BacktestEngine(settings, strategy, 3600, record_decisions=True).run(candles)
    assert result.trades and result.strategy_bars == 6 * 24
    assert len(result.decisions) == 6 * 24  # decided on every bar, as before
    assert result.state_changes and result.state_changes[0][0] == T0 + timedelta(hours=1)
