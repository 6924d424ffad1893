"""Cost basis of coins the bot did not buy, oversized sells and the month a profit belongs to
(issue 11, scope item 9). Every figure is computed by hand in the comments.

Before this change: adopted or deposited coins had no cost basis, so selling them booked the
whole proceeds as profit; a sell larger than the recorded position booked the excess proceeds as
profit; and realized PnL was counted in the month the fill was *processed*.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from btcbot.backtest.book import MemoryMeta
from btcbot.domain.enums import Side
from btcbot.domain.exchange_models import Fill
from btcbot.domain.ids import ExchangeOrderId, Symbol
from btcbot.domain.ledger import genesis_postings
from btcbot.domain.market import Ticker
from btcbot.services import accounting
from btcbot.services.accounting import (
    META_PNL,
    Position,
    cost_basis,
    marks_by_asset,
    realized_by_month,
    realized_pnl_mtd,
    record_external_flow,
    record_fill,
    record_genesis_basis,
    take_unknown_basis,
)

D = Decimal
TZ = "Europe/Istanbul"  # UTC+3 all year
#: 2026-11-25 15:00 in Istanbul.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def fill(trade_id: int, side: Side, qty: str, price: str, fee: str = "0", tax: str = "0",
         at: datetime = NOW, symbol: str = "BTCTRY") -> Fill:
    return Fill(trade_id, ExchangeOrderId(trade_id), None, Symbol(symbol), side, D(price), D(qty), D(fee), D(tax), "TRY", at)


def test_coins_adopted_at_genesis_realize_only_the_move_since_the_mark() -> None:
    meta = MemoryMeta()
    # Genesis adopts 0.5 BTC while BTCTRY last = 2 000 000 -> basis 0.5 * 2 000 000 = 1 000 000.
    postings = genesis_postings("TRY", D("1000"), "genesis: quote") + genesis_postings(
        "BTC", D("0.5"), "genesis: adopted existing holding")
    assert record_genesis_basis(meta, postings, "TRY", {"BTC": D("2000000")}) == []
    assert cost_basis(meta, "BTC") == Position(D("0.5"), D("1000000.0"))
    assert cost_basis(meta, "TRY") == Position()  # the quote asset has no basis
    # Sell it all at 2 100 000, fee 2 100, tax 420:
    # realized = 0.5 * 2 100 000 - 2 520 - 1 000 000 = 47 480 (before: 1 047 480, the proceeds).
    realized = record_fill(meta, fill(1, Side.SELL, "0.5", "2100000", "2100", "420"), "BTC", NOW, TZ)
    assert realized == D("47480")
    assert realized_pnl_mtd(meta, NOW, TZ) == D("47480")
    assert cost_basis(meta, "BTC") == Position()
    assert take_unknown_basis(meta) == []  # everything sold had a known cost


def test_an_adopted_coin_without_a_price_is_reported_and_sells_at_zero_profit() -> None:
    meta = MemoryMeta()
    postings = genesis_postings("XRP", D("100"), "genesis: adopted existing holding")
    assert record_genesis_basis(meta, postings, "TRY", {}) == ["XRP"]
    assert cost_basis(meta, "XRP") == Position()
    # 100 XRP sold at 20 with fee 4 and tax 0.8: no known cost -> realized 0 (before: 1 995.2).
    assert record_fill(meta, fill(2, Side.SELL, "100", "20", "4", "0.8", symbol="XRPTRY"), "XRP", NOW, TZ) == 0


def test_marks_come_from_the_last_price_of_the_quote_pairs() -> None:
    def ticker(symbol: str, last: str) -> Ticker:
        p = D(last)
        return Ticker(symbol, p, p, p, p, p, p, D(1), NOW)

    marks = marks_by_asset([ticker("BTCTRY", "2000000"), ticker("ETHUSDT", "3000"), ticker("XRPTRY", "0")], "TRY")
    assert marks == {"BTC": D("2000000")}  # other quotes and non-positive prices are no mark


def test_a_deposit_recorded_by_reconcile_enters_the_basis_at_its_mark() -> None:
    meta = MemoryMeta()
    # reconcile --apply records +0.2 BTC valued 400 000 TRY (mark 2 000 000) -> basis (0.2, 400 000)
    record_external_flow(meta, "BTC", D("0.2"), D("400000"), "TRY")
    assert cost_basis(meta, "BTC") == Position(D("0.2"), D("400000.0"))
    # Sold at 2 050 000, no fee: realized = 410 000 - 400 000 = 10 000 (before: 410 000).
    assert record_fill(meta, fill(3, Side.SELL, "0.2", "2050000"), "BTC", NOW, TZ) == D("10000")
    # A deposit of the quote asset is no coin: nothing recorded.
    record_external_flow(meta, "TRY", D("5000"), D("5000"), "TRY")
    assert cost_basis(meta, "TRY") == Position()


def test_a_withdrawal_takes_coins_out_at_average_cost_without_realizing() -> None:
    meta = MemoryMeta()
    # Buy 1 BTC at 100 with fee 1 and tax 0.2 -> basis (1, 101.2).
    record_fill(meta, fill(4, Side.BUY, "1", "100", "1", "0.2"), "BTC", NOW, TZ)
    # Withdraw 0.4 -> 0.4 * 101.2 = 40.48 leaves; basis (0.6, 60.72), realized unchanged (0).
    record_external_flow(meta, "BTC", D("-0.4"), None, "TRY")
    assert cost_basis(meta, "BTC") == Position(D("0.6"), D("60.72"))
    assert realized_pnl_mtd(meta, NOW, TZ) == 0
    # Sell the 0.6 at 150: realized = 90 - 60.72 = 29.28.
    assert record_fill(meta, fill(5, Side.SELL, "0.6", "150"), "BTC", NOW, TZ) == D("29.28")


def test_a_sell_beyond_the_recorded_position_books_no_profit_on_the_excess() -> None:
    meta = MemoryMeta()
    # Buy 1 BTC at 1 000 with fee 2 and tax 0.4 -> basis (1, 1 002.4).
    record_fill(meta, fill(6, Side.BUY, "1", "1000", "2", "0.4"), "BTC", NOW, TZ)
    # Sell 3 at 1 500, fee 9, tax 1.8 (charges 10.8). Only 1 has a recorded cost:
    # covered charges = 10.8 * 1/3 = 3.6; realized = 1 500 - 3.6 - 1 002.4 = 494.
    # The 2 uncovered are booked at their own price: zero profit (before: 4 500 - 10.8 - 1 002.4 = 3 486.8).
    realized = record_fill(meta, fill(7, Side.SELL, "3", "1500", "9", "1.8"), "BTC", NOW, TZ)
    assert realized == D("494")
    assert cost_basis(meta, "BTC") == Position()
    notices = take_unknown_basis(meta)
    assert [(n.trade_id, n.symbol, n.qty, n.price) for n in notices] == [(7, "BTCTRY", D(2), D(1500))]
    assert take_unknown_basis(meta) == []  # taken once


def test_a_sell_with_no_recorded_position_books_nothing() -> None:
    meta = MemoryMeta()
    # 0.1 BTC sold at 1 000, fee 0.1: before, 99.9 of "profit"; now 0 and a notice.
    assert record_fill(meta, fill(8, Side.SELL, "0.1", "1000", "0.1"), "BTC", NOW, TZ) == 0
    assert realized_pnl_mtd(meta, NOW, TZ) == 0
    assert [n.qty for n in take_unknown_basis(meta)] == [D("0.1")]


def test_profit_counts_in_the_month_of_the_fill_not_of_its_processing() -> None:
    meta = MemoryMeta()
    # A round trip filled on 30 November at 23:50 in Istanbul (20:50 UTC) ...
    late_nov = datetime(2026, 11, 30, 20, 50, tzinfo=UTC)
    # ... booked at 00:10 on 1 December in Istanbul (21:10 UTC), after a December trade was booked.
    dec = datetime(2026, 11, 30, 21, 10, tzinfo=UTC)
    record_fill(meta, fill(10, Side.BUY, "1", "100", at=dec), "ETH", dec, TZ)
    record_fill(meta, fill(11, Side.SELL, "1", "110", at=dec, symbol="ETHTRY"), "ETH", dec, TZ)  # +10 in Dec
    record_fill(meta, fill(12, Side.BUY, "1", "1000", at=late_nov), "BTC", dec, TZ)
    realized = record_fill(meta, fill(13, Side.SELL, "1", "1300", at=late_nov), "BTC", dec, TZ)
    assert realized == D("300")
    # December's month-to-date is only its own 10 (before: 310); November keeps its 300.
    assert realized_pnl_mtd(meta, dec, TZ) == D("10")
    assert realized_by_month(meta) == {"2026-11": D("300"), "2026-12": D("10")}


def test_the_single_month_layout_of_older_databases_is_read() -> None:
    meta = MemoryMeta()
    meta.set(META_PNL, json.dumps({"month": "2026-11", "realized": "5"}))
    assert realized_pnl_mtd(meta, NOW, TZ) == D("5")
    record_fill(meta, fill(14, Side.BUY, "1", "10"), "SOL", NOW, TZ)
    record_fill(meta, fill(15, Side.SELL, "1", "12", symbol="SOLTRY"), "SOL", NOW, TZ)
    assert realized_pnl_mtd(meta, NOW, TZ) == D("7")


def test_only_the_last_months_are_kept() -> None:
    meta = MemoryMeta()
    for i in range(accounting.MONTHS_KEPT + 2):
        year, month = divmod(i, 12)
        at = datetime(2020 + year, month + 1, 15, 12, 0, tzinfo=UTC)
        record_fill(meta, fill(100 + 2 * i, Side.BUY, "1", "10", at=at), "SOL", at, TZ)
        record_fill(meta, fill(101 + 2 * i, Side.SELL, "1", "11", at=at, symbol="SOLTRY"), "SOL", at, TZ)
    months = realized_by_month(meta)
    assert len(months) == accounting.MONTHS_KEPT and "2020-01" not in months and "2020-03" in months
