"""EMA and realized volatility against values computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btcbot.strategies.indicators import annualize_volatility, ema, realized_volatility, simple_returns

D = Decimal


def q(value: Decimal, places: int = 12) -> Decimal:
    return value.quantize(D(1).scaleb(-places))


def test_ema_seeded_with_first_value() -> None:
    # alpha = 2/(3+1) = 0.5: 10 -> 10.5 -> 11.25
    assert ema([D(10), D(11), D(12)], 3) == D("11.25")
    # alpha = 2/3: 100 -> 93.333.. -> 97.111.. (= 874/9)
    assert q(ema([D(100), D(90), D(99)], 2)) == q(D(874) / D(9))
    assert ema([D(7)], 50) == D(7)


def test_ema_period_one_is_the_last_value() -> None:
    assert ema([D(1), D(5), D(3)], 1) == D(3)


def test_ema_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="period"):
        ema([D(1)], 0)
    with pytest.raises(ValueError, match="empty"):
        ema([], 3)


def test_simple_returns() -> None:
    assert simple_returns([D(100), D(110), D(99)]) == [D("0.1"), D("-0.1")]


def test_realized_volatility_is_sample_stdev_of_last_window_returns() -> None:
    # returns +0.1, -0.1: mean 0, sample variance (0.01 + 0.01) / 1 = 0.02
    vol = realized_volatility([D(100), D(110), D(99)], 2)
    assert vol == D("0.02").sqrt()
    # only the last window + 1 prices count: a prefix changes nothing
    assert realized_volatility([D(5), D(500), D(100), D(110), D(99)], 2) == vol


def test_realized_volatility_needs_enough_prices() -> None:
    assert realized_volatility([D(100), D(110)], 2) is None
    assert realized_volatility([D(100), D(110), D(121)], 1) is None
    assert realized_volatility([D(100), D(110), D(121)], 2) == D(0)


def test_annualize_daily_and_hourly() -> None:
    assert annualize_volatility(D("0.01"), 86400) == D("0.01") * D(365).sqrt()
    assert q(annualize_volatility(D("0.01"), 3600)) == q(D("0.01") * D(8760).sqrt())
