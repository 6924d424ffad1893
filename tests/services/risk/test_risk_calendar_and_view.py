"""Risk day / month helpers and the PortfolioView value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from risk_testkit import PRICES, view

from btcbot.domain.enums import Side
from btcbot.domain.portfolio import FrozenMap, PortfolioView, mark_to_market_equity
from btcbot.services.risk import month_key, risk_day

D = Decimal


def test_risk_day_changes_at_istanbul_midnight() -> None:
    # Istanbul is UTC+3 all year: 20:59:59 UTC is 23:59:59 local, 21:00 UTC is the next day
    assert risk_day(datetime(2026, 11, 25, 20, 59, 59, tzinfo=UTC), "Europe/Istanbul") == date(2026, 11, 25)
    assert risk_day(datetime(2026, 11, 25, 21, 0, tzinfo=UTC), "Europe/Istanbul") == date(2026, 11, 26)
    assert risk_day(datetime(2026, 11, 25, 21, 0, tzinfo=UTC), "UTC") == date(2026, 11, 25)
    # the offset of the input does not matter, only the instant
    plus5 = datetime(2026, 11, 26, 2, 0, tzinfo=timezone(timedelta(hours=5)))  # = 21:00 UTC
    assert risk_day(plus5, "Europe/Istanbul") == date(2026, 11, 26)


def test_month_key() -> None:
    assert month_key(datetime(2026, 11, 30, 20, 59, tzinfo=UTC), "Europe/Istanbul") == "2026-11"
    assert month_key(datetime(2026, 11, 30, 21, 0, tzinfo=UTC), "Europe/Istanbul") == "2026-12"
    assert month_key(datetime(2026, 12, 31, 21, 0, tzinfo=UTC), "Europe/Istanbul") == "2027-01"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        risk_day(datetime(2026, 11, 25, 12, 0), "Europe/Istanbul")
    with pytest.raises(ValueError, match="timezone-aware"):
        month_key(datetime(2026, 11, 25, 12, 0), "Europe/Istanbul")


def test_frozen_map_is_hashable_sorted_and_immutable() -> None:
    a = FrozenMap({"XRPTRY": D(1), "BTCTRY": D(2)})
    b = FrozenMap([("BTCTRY", D(2)), ("XRPTRY", D(1))])
    assert a == b and hash(a) == hash(b)
    assert list(a) == ["BTCTRY", "XRPTRY"]
    assert a == {"BTCTRY": D(2), "XRPTRY": D(1)}
    assert a.set("ETHTRY", D(3))["ETHTRY"] == D(3) and "ETHTRY" not in a
    with pytest.raises(TypeError):
        a["BTCTRY"] = D(5)  # type: ignore[index]


def test_view_freezes_mappings_and_is_hashable() -> None:
    positions = {"BTCTRY": D("0.5")}
    v = view(D(1000), positions)
    positions["BTCTRY"] = D(9)  # the caller's dict is not shared
    assert v.position("BTCTRY") == D("0.5")
    assert isinstance(v.positions, FrozenMap)
    assert hash(v) == hash(view(D(1000), {"BTCTRY": D("0.5")}))
    with pytest.raises(AttributeError):
        v.cash_free = D(0)


def test_equity_notional_and_gross() -> None:
    # 0.01 BTC at 1 000 000 = 10 000; 10 AVAX at 1 000 = 10 000; resting buy of 2 SOL at 5 000 = 10 000
    v = view(
        D(5000),
        {"BTCTRY": D("0.01"), "AVAXTRY": D(10)},
        open_buy_qty={"SOLTRY": D(2)},
        open_sell_qty={"AVAXTRY": D(4)},
    )
    assert v.equity == D(25000)  # 5 000 + 10 000 + 10 000 (the resting buy's cash is not in cash_total)
    assert v.notional("BTCTRY") == D(10000)
    assert v.notional("SOLTRY") == D(10000)
    assert v.notional("ETHTRY") == 0
    assert v.gross_notional() == D(30000)
    assert v.exposure_qty("SOLTRY") == D(2)
    assert v.sellable_qty("AVAXTRY") == D(6)  # 10 held - 4 on a resting sell
    assert v.sellable_qty("SOLTRY") == 0
    assert mark_to_market_equity(D(100), {"BTCTRY": D("0.001")}, PRICES, D(7)) == D(1093)  # 100 + 1 000 - 7


def test_with_trade_buy_and_sell_arithmetic() -> None:
    v = view(D(50000), {"AVAXTRY": D(10)})  # equity 60 000
    # BUY 0.01 BTC at 1 010 000 (mark 1 000 000), fee 24.24
    after = v.with_trade("BTCTRY", Side.BUY, D("0.01"), D("1010000"), D("24.24"))
    assert after.cash_free == D("39875.76")  # 50 000 - 10 100 - 24.24
    assert after.cash_total == D("39875.76")
    assert after.position("BTCTRY") == D("0.01")
    # equity: 60 000 + 0.01 * (1 000 000 - 1 010 000) - 24.24 = 59 875.76
    assert after.equity == D("59875.76")
    assert after.rolling_30d_notional == D(10100)
    assert v.position("BTCTRY") == 0  # the original is untouched
    # SELL 4 AVAX at 990 (mark 1 000), fee 9.504
    sold = after.with_trade("AVAXTRY", Side.SELL, D(4), D(990), D("9.504"))
    assert sold.cash_free == D("39875.76") + D(3960) - D("9.504")
    assert sold.position("AVAXTRY") == D(6)
    # equity: 59 875.76 + 4 * (990 - 1 000) - 9.504 = 59 826.256
    assert sold.equity == D("59826.256")


def test_with_trade_on_an_unpriced_symbol_takes_the_trade_price_as_mark() -> None:
    v = PortfolioView("TRY", D(1000), D(1000), {}, {}, D(1000), D(1000), D(1000))
    after = v.with_trade("BTCTRY", Side.BUY, D("0.0001"), D("1000000"), D(0))
    assert after.prices["BTCTRY"] == D("1000000")
    assert after.equity == D(1000)


def test_with_sell_reserved_accumulates() -> None:
    v = (
        view(D(0), {"BTCTRY": D("0.03")})
        .with_sell_reserved("BTCTRY", D("0.01"))
        .with_sell_reserved("BTCTRY", D("0.015"))
    )
    assert v.sellable_qty("BTCTRY") == D("0.005")
