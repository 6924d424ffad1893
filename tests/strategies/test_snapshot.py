"""MarketSnapshot: closed candles only, oldest first, one interval; price fallback."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from btcbot.contracts.strategy import MarketSnapshot

from ._builders import DAY, HOUR, T0, candles, ticker

D = Decimal


def test_rejects_an_open_candle() -> None:
    bars = candles("BTCTRY", ["1", "2"], HOUR)
    with pytest.raises(ValueError, match="not closed"):
        MarketSnapshot(T0 + timedelta(hours=1, minutes=59), HOUR, {}, {"BTCTRY": bars})
    MarketSnapshot(T0 + timedelta(hours=2), HOUR, {}, {"BTCTRY": bars})  # closes exactly now


def test_rejects_unordered_or_wrong_interval_candles() -> None:
    bars = candles("BTCTRY", ["1", "2"], HOUR)
    with pytest.raises(ValueError, match="oldest first"):
        MarketSnapshot(T0 + timedelta(days=1), HOUR, {}, {"BTCTRY": tuple(reversed(bars))})
    with pytest.raises(ValueError, match="interval"):
        MarketSnapshot(T0 + timedelta(days=9), DAY, {}, {"BTCTRY": bars})


def test_build_filters_open_and_foreign_candles_and_sorts() -> None:
    hourly = candles("BTCTRY", ["1", "2", "3"], HOUR)
    daily = candles("BTCTRY", ["9"], DAY)
    now = T0 + timedelta(hours=2, minutes=30)  # the third hourly bar is still forming
    snap = MarketSnapshot.build(
        now, HOUR, {}, {"BTCTRY": [hourly[1], daily[0], hourly[2], hourly[0], hourly[1]]}
    )
    assert snap.closes("BTCTRY") == (D(1), D(2))
    assert snap.closes("ETHTRY") == ()


def test_last_price_prefers_a_positive_ticker() -> None:
    bars = {"BTCTRY": candles("BTCTRY", ["5", "6"], HOUR)}
    now = T0 + timedelta(hours=2)
    assert MarketSnapshot(now, HOUR, {}, bars).last_price("BTCTRY") == D(6)
    assert MarketSnapshot(now, HOUR, {"BTCTRY": ticker("BTCTRY", "7")}, bars).last_price("BTCTRY") == D(7)
    assert MarketSnapshot(now, HOUR, {"BTCTRY": ticker("BTCTRY", "0")}, bars).last_price("BTCTRY") == D(6)
    assert MarketSnapshot(now, HOUR, {}, {}).last_price("BTCTRY") is None


def test_snapshot_is_immutable_and_hashable_by_value() -> None:
    bars = {"BTCTRY": candles("BTCTRY", ["5"], HOUR)}
    a = MarketSnapshot(T0 + timedelta(hours=1), HOUR, {}, bars)
    b = MarketSnapshot(T0 + timedelta(hours=1), HOUR, {}, dict(bars))
    assert a == b and hash(a) == hash(b)
    bars["BTCTRY"] = ()  # mutating the caller's dict does not reach the snapshot
    assert a.closes("BTCTRY") == (D(5),)


def test_build_reuses_a_cleaned_tuple_only_while_the_result_cannot_differ() -> None:
    from btcbot.contracts import strategy as port

    port._CLEANED.clear()
    bars = tuple(candles("BTCTRY", ["1", "2", "3"], HOUR))
    at = T0 + timedelta(hours=3)  # all three closed
    first = MarketSnapshot.build(at, HOUR, {}, {"BTCTRY": bars})
    assert first.candles["BTCTRY"] == bars
    later = MarketSnapshot.build(at + timedelta(minutes=20), HOUR, {}, {"BTCTRY": bars})
    assert later.candles["BTCTRY"] is first.candles["BTCTRY"]  # the same tuple, the same bars: reused
    # Earlier than when it was cleaned: the newest bar is still forming then, so it is cleaned again.
    earlier = MarketSnapshot.build(T0 + timedelta(hours=2, minutes=30), HOUR, {}, {"BTCTRY": bars})
    assert earlier.closes("BTCTRY") == (D(1), D(2))
    # An equal but other tuple, another interval, or a list: never served from the memo.
    other = tuple(candles("BTCTRY", ["1", "2", "7"], HOUR))
    assert MarketSnapshot.build(at, HOUR, {}, {"BTCTRY": other}).closes("BTCTRY") == (D(1), D(2), D(7))
    assert MarketSnapshot.build(at, DAY, {}, {"BTCTRY": bars}).candles["BTCTRY"] == ()
    mutable = list(bars)
    MarketSnapshot.build(at, HOUR, {}, {"BTCTRY": mutable})
    mutable[2] = other[2]
    assert MarketSnapshot.build(at, HOUR, {}, {"BTCTRY": mutable}).closes("BTCTRY") == (D(1), D(2), D(7))


def test_a_partly_filtered_tuple_is_cleaned_again_when_now_moves_on() -> None:
    from btcbot.contracts import strategy as port

    port._CLEANED.clear()
    bars = tuple(candles("BTCTRY", ["1", "2", "3"], HOUR))
    forming = T0 + timedelta(hours=2, minutes=30)
    assert MarketSnapshot.build(forming, HOUR, {}, {"BTCTRY": bars}).closes("BTCTRY") == (D(1), D(2))
    closed = MarketSnapshot.build(forming + timedelta(hours=1), HOUR, {}, {"BTCTRY": bars})
    assert closed.closes("BTCTRY") == (D(1), D(2), D(3))


def test_closes_are_remembered_per_tuple() -> None:
    bars = tuple(candles("BTCTRY", ["1", "2"], HOUR))
    at = T0 + timedelta(hours=3)
    snap = MarketSnapshot.build(at, HOUR, {}, {"BTCTRY": bars})
    assert snap.closes("BTCTRY") is snap.closes("BTCTRY")
    other = MarketSnapshot.build(at, HOUR, {}, {"BTCTRY": tuple(candles("BTCTRY", ["5", "6"], HOUR))})
    assert other.closes("BTCTRY") == (D(5), D(6))
    assert snap.closes("BTCTRY") == (D(1), D(2))
