"""The incremental indicators against their published definitions (TA-Lib conventions).

Each reference below is written straight from the definition in exact rational arithmetic
(``Fraction``), independently of the O(1) update code, and the float results must agree to
1e-9 relative. A few published values (Wilder's RSI worked example as reproduced by
StockCharts) pin the conventions down further.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from btcbot.strategies.ta import (
    Atr,
    Bollinger,
    Ema,
    Macd,
    Rsi,
    Sma,
    atr_series,
    bollinger_series,
    ema_series,
    macd_series,
    rsi_series,
    sma_series,
)

RNG = random.Random(7)
CLOSES = [round(100 + 10 * math.sin(i / 7) + RNG.uniform(-2, 2), 2) for i in range(120)]
HIGHS = [c + round(RNG.uniform(0, 1.5), 2) for c in CLOSES]
LOWS = [c - round(RNG.uniform(0, 1.5), 2) for c in CLOSES]

# StockCharts' RSI(14) example (Wilder's method): closes and the first published RSI values.
SC_CLOSES = [44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
             45.8931, 46.0328, 45.614, 46.282, 46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
             46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
             43.4205, 42.6628, 43.1314]
SC_RSI = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99,
          41.46, 41.87, 45.46, 37.30, 33.08, 37.77]


def close(a: float | None, b: Fraction | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, float(b), rel_tol=rel, abs_tol=1e-9)


def fr(values: list[float]) -> list[Fraction]:
    return [Fraction(v) for v in values]


def ref_sma(xs: list[Fraction], n: int) -> list[Fraction | None]:
    return [None if i < n - 1 else sum(xs[i - n + 1 : i + 1], Fraction(0)) / n for i in range(len(xs))]


def ref_ema(xs: list[Fraction], n: int) -> list[Fraction | None]:
    """TA-Lib EMA: first value = SMA of the first n, then e += k (x - e), k = 2 / (n + 1)."""
    out: list[Fraction | None] = [None] * len(xs)
    if len(xs) < n:
        return out
    k = Fraction(2, n + 1)
    e = sum(xs[:n], Fraction(0)) / n
    out[n - 1] = e
    for i in range(n, len(xs)):
        e = e + k * (xs[i] - e)
        out[i] = e
    return out


def ref_rsi(xs: list[Fraction], n: int) -> list[Fraction | None]:
    out: list[Fraction | None] = [None] * len(xs)
    changes = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    gains = [max(c, Fraction(0)) for c in changes]
    losses = [max(-c, Fraction(0)) for c in changes]
    g = sum(gains[:n], Fraction(0)) / n
    lo = sum(losses[:n], Fraction(0)) / n
    out[n] = 100 * g / (g + lo)
    for i in range(n, len(changes)):
        g = (g * (n - 1) + gains[i]) / n
        lo = (lo * (n - 1) + losses[i]) / n
        out[i + 1] = 100 * g / (g + lo)
    return out


def ref_atr(h: list[Fraction], lo: list[Fraction], c: list[Fraction], n: int) -> list[Fraction | None]:
    out: list[Fraction | None] = [None] * len(c)
    tr = [max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))]
    a = sum(tr[:n], Fraction(0)) / n
    out[n] = a
    for i in range(n, len(tr)):
        a = (a * (n - 1) + tr[i]) / n
        out[i + 1] = a
    return out


@pytest.mark.parametrize("n", [1, 3, 12, 26])
def test_sma_matches_the_definition(n: int) -> None:
    for got, want in zip(sma_series(CLOSES, n), ref_sma(fr(CLOSES), n), strict=True):
        assert close(got, want)


@pytest.mark.parametrize("n", [1, 2, 12, 26])
def test_ema_is_seeded_with_the_sma_of_the_first_n_as_talib(n: int) -> None:
    got = ema_series(CLOSES, n)
    want = ref_ema(fr(CLOSES), n)
    assert got[: n - 1] == [None] * (n - 1)
    for g, w in zip(got, want, strict=True):
        assert close(g, w)


def test_ema_small_worked_example() -> None:
    # n = 3, k = 0.5: seed (1 + 2 + 3) / 3 = 2, then 2 + 0.5 (10 - 2) = 6, then 6 + 0.5 (0 - 6) = 3
    assert ema_series([1.0, 2.0, 3.0, 10.0, 0.0], 3) == [None, None, 2.0, 6.0, 3.0]


def test_rsi_matches_wilders_definition_and_the_published_example() -> None:
    got = rsi_series(CLOSES, 14)
    for g, w in zip(got, ref_rsi(fr(CLOSES), 14), strict=True):
        assert close(g, w)
    published = rsi_series(SC_CLOSES, 14)
    assert published[:14] == [None] * 14
    assert [round(v, 2) for v in published[14:] if v is not None] == SC_RSI


def test_rsi_edge_cases() -> None:
    assert rsi_series([5.0] * 20, 14)[-1] == 50.0  # flat: 50 (TA-Lib says 0; documented)
    assert rsi_series([float(i) for i in range(20)], 14)[-1] == 100.0
    assert rsi_series([float(-i) for i in range(20)], 14)[-1] == 0.0


def test_atr_matches_wilders_definition() -> None:
    got = atr_series(HIGHS, LOWS, CLOSES, 14)
    assert got[:14] == [None] * 14
    for g, w in zip(got, ref_atr(fr(HIGHS), fr(LOWS), fr(CLOSES), 14), strict=True):
        assert close(g, w)


def test_atr_uses_the_gap_to_the_previous_close() -> None:
    atr = Atr(1)
    assert atr.update(10, 9, 9.5) is None
    assert atr.update(13, 12, 12.5) == 3.5  # gap up: high - previous close
    assert atr.update(8, 7.5, 8) == 5.0  # gap down: previous close - low


def test_bollinger_uses_the_population_standard_deviation() -> None:
    bands = bollinger_series(CLOSES, 20, 2.0)
    xs = fr(CLOSES)
    for i, band in enumerate(bands):
        if i < 19:
            assert band is None
            continue
        assert band is not None
        window = xs[i - 19 : i + 1]
        mean = sum(window, Fraction(0)) / 20
        sd = math.sqrt(sum((x - mean) ** 2 for x in window) / 20)
        assert close(band.middle, mean)
        assert math.isclose(band.upper, float(mean) + 2 * sd, rel_tol=1e-9)
        assert math.isclose(band.lower, float(mean) - 2 * sd, rel_tol=1e-9)
    flat = Bollinger(5).update
    for _ in range(5):
        last = flat(3.0)
    assert last is not None and last.lower == last.middle == last.upper == 3.0


def test_macd_line_signal_and_histogram() -> None:
    values = macd_series(CLOSES, 12, 26, 9)
    xs = fr(CLOSES)
    fast, slow = ref_ema(xs, 12), ref_ema(xs, 26)
    lines = [None if s is None or f is None else f - s for f, s in zip(fast, slow, strict=True)]
    defined = [v for v in lines if v is not None]
    signal = ref_ema(defined, 9)
    assert values[:25] == [None] * 25
    for i, value in enumerate(values[25:]):
        assert value is not None
        assert close(value.line, defined[i])
        assert close(value.signal, signal[i])
        expected_signal = signal[i]
        if expected_signal is None:
            assert value.histogram is None
        else:
            assert close(value.histogram, defined[i] - expected_signal)
    assert values[25 + 7] is not None and values[25 + 7].signal is None
    assert values[25 + 8] is not None and values[25 + 8].signal is not None


def test_incremental_objects_equal_the_series_functions_bit_for_bit() -> None:
    ema, sma, rsi, macd = Ema(26), Sma(20), Rsi(14), Macd()
    assert [ema.update(x) for x in CLOSES] == ema_series(CLOSES, 26)
    assert [sma.update(x) for x in CLOSES] == sma_series(CLOSES, 20)
    assert [rsi.update(x) for x in CLOSES] == rsi_series(CLOSES, 14)
    assert [macd.update(x) for x in CLOSES] == macd_series(CLOSES)


def test_sma_running_sum_does_not_drift() -> None:
    xs = [1e6 + RNG.uniform(-1, 1) for _ in range(50_000)]
    got = sma_series(xs, 30)[-1]
    assert got is not None
    assert math.isclose(got, math.fsum(xs[-30:]) / 30, rel_tol=1e-15)


@pytest.mark.parametrize("factory", [lambda: Sma(0), lambda: Ema(0), lambda: Rsi(0), lambda: Macd(26, 12)])
def test_bad_periods_are_refused(factory: object) -> None:
    with pytest.raises(ValueError):
        factory()  # type: ignore[operator]
