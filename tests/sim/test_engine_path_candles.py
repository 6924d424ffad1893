"""Engine: deterministic price path, candles aggregation, synthetic book, balance invariants."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from btcbot.sim.engine.candles import Bar, CandleSeries, bucket_start, parse_resolution
from btcbot.sim.engine.orders import SimReject

from .engine_helpers import START_MS, D, assert_lock_invariant, assert_open_index, make_engine


def _prices(seed: int) -> list[Decimal]:
    engine = make_engine(seed=seed)
    out = []
    for step in range(1, 50):
        engine.advance_to(START_MS + step * 60_000)
        out.append(engine.pairs["ETHTRY"].price)
    return out


def test_same_seed_same_path_other_seed_other_path() -> None:
    assert _prices(7) == _prices(7)
    assert _prices(7) != _prices(8)


def test_prices_stay_on_the_tick_grid() -> None:
    engine = make_engine()
    engine.advance_to(START_MS + 3600_000)
    for state in engine.pairs.values():
        assert state.price % state.spec.tick_size == 0
        book = engine.book(state.spec.symbol)
        assert book.best_bid is not None and book.best_ask is not None
        assert book.best_bid < state.price < book.best_ask or book.best_bid < book.best_ask
        assert [lvl.price for lvl in book.bids] == sorted((lvl.price for lvl in book.bids), reverse=True)
        assert [lvl.price for lvl in book.asks] == sorted(lvl.price for lvl in book.asks)


def test_history_joins_the_live_path() -> None:
    engine = make_engine(history_minutes=120)
    bars = engine.pairs["BTCTRY"].candles.minute_bars(0, START_MS // 1000 - 1)
    assert len(bars) == 120
    assert bars[-1].close == engine.pairs["BTCTRY"].price
    # the start minute has its bar from the start on (the start price, no volume yet): no hole
    # between the history and the first tick, whenever in its minute the simulator starts
    (first,) = engine.pairs["BTCTRY"].candles.minute_bars(START_MS // 1000, START_MS // 1000)
    assert first.open == first.close == engine.pairs["BTCTRY"].price and first.volume == 0
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)


def test_aggregated_bars_agree_with_minute_bars() -> None:
    engine = make_engine(history_minutes=600)
    engine.advance_to(START_MS + 2 * 3600_000)
    series = engine.pairs["BTCTRY"].candles
    start, end = START_MS // 1000 - 4 * 3600, START_MS // 1000 + 3600
    for resolution in ("5", "15", "60", "240"):
        length = parse_resolution(resolution)
        for bar in series.bars(length, start, end):
            minutes = series.minute_bars(bar.open_time_s, bar.open_time_s + length - 1)
            assert bar.open_time_s % length == 0
            assert bar.open == minutes[0].open and bar.close == minutes[-1].close
            assert bar.high == max(m.high for m in minutes) and bar.low == min(m.low for m in minutes)
            assert bar.volume == sum((m.volume for m in minutes), Decimal(0))


def test_resolution_aliases_and_week_alignment() -> None:
    assert parse_resolution("1D") == parse_resolution("1 d") == parse_resolution("1440") == 86_400
    monday = 1_767_571_200  # 2026-01-05T00:00Z is a Monday
    assert bucket_start(monday + 3 * 86_400 + 5, parse_resolution("1W")) == monday


def test_candle_series_record_builds_ohlc() -> None:
    series = CandleSeries()
    series.load([Bar(0, D(1), D(2), D(1), D(2), D(1), D(2))])
    series.record(60, D(10), D(1))
    series.record(70, D(12), D(1))
    series.record(80, D(9), D(2))
    bar = series.minute_bars(60, 60)[0]
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (D(10), D(12), D(9), D(9), D(4))
    assert bar.total == D(10) + D(12) + D(18)


_ops = st.lists(
    st.tuples(
        st.sampled_from(
            ["limit_buy", "limit_sell", "market_buy", "market_sell", "cancel", "advance", "jump"]
        ),
        st.integers(min_value=-30, max_value=30),
        st.integers(min_value=1, max_value=50),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(_ops)
def test_balances_never_go_negative_and_locks_match_open_orders(ops: list[tuple[str, int, int]]) -> None:
    engine = make_engine(balances={"TRY": D("200000"), "ETH": D("2")})
    total_before = engine.accounts.free("TRY") + engine.accounts.locked("TRY")
    for op, offset, size in ops:
        price = engine.pairs["ETHTRY"].price * (1 + D(offset) / 1000)
        price = price.quantize(D(1))
        qty = D(size) / 100
        try:
            if op == "limit_buy":
                engine.place_order(symbol="ETHTRY", side="buy", method="limit", quantity=qty, price=price)
            elif op == "limit_sell":
                engine.place_order(symbol="ETHTRY", side="sell", method="limit", quantity=qty, price=price)
            elif op == "market_buy":
                engine.place_order(symbol="ETHTRY", side="buy", method="market", quantity=D(size * 200))
            elif op == "market_sell":
                engine.place_order(symbol="ETHTRY", side="sell", method="market", quantity=qty)
            elif op == "cancel" and engine.orders:
                engine.cancel_order(list(engine.orders)[size % len(engine.orders)])
            elif op == "advance":
                engine.advance_to(engine.now_ms + size * 1000)
            elif op == "jump":
                engine.set_price("ETHTRY", price)
        except SimReject:
            pass
        assert_lock_invariant(engine)
        assert_open_index(engine)
    # TRY only leaves the account through trades and their fees
    spent = sum((t.amount * t.price + t.fee + t.tax for t in engine.trades if t.side == "buy"), D(0))
    got = sum((t.amount * t.price - t.fee - t.tax for t in engine.trades if t.side == "sell"), D(0))
    assert engine.accounts.free("TRY") + engine.accounts.locked("TRY") == total_before - spent + got


def test_replayed_candles_drive_the_path_and_history() -> None:
    start_s = START_MS // 1000
    bars = [
        Bar(start_s + 60 * i - 120, D(100 + i), D(105 + i), D(95 + i), D(101 + i), D(50), D(5000))
        for i in range(6)
    ]
    engine = make_engine(replay={"XRPTRY": bars}, tick_seconds=20)
    history = engine.pairs["XRPTRY"].candles.minute_bars(0, start_s - 1)
    assert [b.open_time_s for b in history] == [start_s - 120, start_s - 60]
    assert engine.pairs["XRPTRY"].price == D(102)  # the open of the bar at the start time
    seen = []
    for step in range(1, 4):
        engine.advance_to(START_MS + step * 20_000)
        seen.append(engine.pairs["XRPTRY"].price)
    assert min(seen) >= D(97) and max(seen) <= D(107)  # inside the replayed bar's range
    engine.advance_to(START_MS + 10 * 60_000)
    assert engine.pairs["XRPTRY"].price == D(106)  # after the last bar: its close
