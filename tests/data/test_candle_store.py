"""SqlCandleStore on SQLite and PostgreSQL: exact round trip, upsert, latest, range, resume point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from btcbot.domain.market import Candle
from btcbot.persistence.candles import SqlCandleStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def bar(symbol: str, i: int, close: str = "100.5", interval_s: int = 60) -> Candle:
    return Candle(
        symbol=symbol,
        interval_s=interval_s,
        open_time=T0 + timedelta(seconds=interval_s * i),
        open=Decimal("100.00000001"),
        high=Decimal("123456789.123456789"),
        low=Decimal("0.000000000001"),
        close=Decimal(close),
        volume=Decimal("1E-12"),
    )


def test_round_trip_is_exact_and_aware_utc(candle_engine: Engine) -> None:
    store = SqlCandleStore(candle_engine)
    original = bar("BTCTRY", 0)
    assert store.add([original]) == 1
    [loaded] = store.latest("BTCTRY", 60, 5)
    assert loaded == original
    assert loaded.open_time.tzinfo is not None and loaded.open_time.utcoffset() == timedelta(0)
    assert loaded.volume == Decimal("0.000000000001")


def test_add_is_an_upsert(candle_engine: Engine) -> None:
    store = SqlCandleStore(candle_engine)
    store.add([bar("BTCTRY", 0, "1"), bar("BTCTRY", 1, "2")])
    store.add([bar("BTCTRY", 1, "3")])
    assert [c.close for c in store.range("BTCTRY", 60, T0, T0 + timedelta(hours=1))] == [Decimal(1), Decimal(3)]
    assert store.count("BTCTRY", 60) == 2


def test_latest_returns_newest_oldest_first_per_symbol_and_interval(candle_engine: Engine) -> None:
    store = SqlCandleStore(candle_engine)
    store.add([bar("BTCTRY", i, str(i + 1)) for i in range(10)])
    store.add([bar("ETHTRY", i) for i in range(3)])
    store.add([bar("BTCTRY", i, interval_s=3600) for i in range(2)])
    latest = store.latest("BTCTRY", 60, 3)
    assert [c.close for c in latest] == [Decimal(8), Decimal(9), Decimal(10)]
    assert store.latest("BTCTRY", 60, 0) == []
    assert len(store.latest("ETHTRY", 60, 100)) == 3
    assert store.latest("XRPTRY", 60, 3) == []


def test_range_is_inclusive_and_pages(candle_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqlCandleStore(candle_engine)
    store.add([bar("BTCTRY", i, str(i)) for i in range(25)])
    monkeypatch.setattr("btcbot.persistence.candles.READ_BATCH", 4)  # force several pages
    got = store.range("BTCTRY", 60, T0 + timedelta(minutes=2), T0 + timedelta(minutes=20))
    assert [int(c.close) for c in got] == list(range(2, 21))


def test_last_open_time(candle_engine: Engine) -> None:
    store = SqlCandleStore(candle_engine)
    assert store.last_open_time("BTCTRY", 60) is None
    store.add([bar("BTCTRY", i) for i in (3, 1, 7, 2)])
    assert store.last_open_time("BTCTRY", 60) == T0 + timedelta(minutes=7)


def test_large_batch_spans_several_transactions(candle_engine: Engine) -> None:
    store = SqlCandleStore(candle_engine)
    assert store.add([bar("SOLTRY", i) for i in range(4500)]) == 4500
    assert store.count("SOLTRY", 60) == 4500


def test_the_upsert_names_every_column_is_cacheable_and_upserts(candle_engine: Engine) -> None:
    from sqlalchemy import event

    from btcbot.persistence import candles
    from btcbot.persistence.tables import CandleRow

    assert set(candles._UPSERT.compile().params) == {c.name for c in CandleRow.__table__.columns}
    # A cacheable statement: SQLAlchemy compiles it once per engine, not on every new bar (the
    # dialects' on_conflict_do_update construct has no cache key and was compiled every call).
    assert candles._UPSERT._generate_cache_key() is not None
    compiled: list[str] = []

    def before(conn: object, cursor: object, statement: str, params: object, context: object, many: bool) -> None:
        if statement.startswith("INSERT INTO candles"):
            compiled.append(statement)

    event.listen(candle_engine, "before_cursor_execute", before)
    store = SqlCandleStore(candle_engine)
    first = bar("BTCTRY", 0, "100")
    try:
        store.add([first])
        store.add([bar("BTCTRY", 0, "101"), bar("BTCTRY", 1, "102")])
    finally:
        event.remove(candle_engine, "before_cursor_execute", before)
    assert len(compiled) == 2 and compiled[0] == compiled[1]
    assert [c.close for c in store.latest("BTCTRY", first.interval_s, 5)] == [Decimal("101"), Decimal("102")]
