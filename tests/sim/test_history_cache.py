"""The random walk's history is drawn once per (seed, pair, minutes) per process and reused: a
reused history must be exactly what a fresh draw gives, wherever it is laid in time, and the
generator must continue from the same state either way."""

from __future__ import annotations

from btcbot.sim.engine import pricepath
from btcbot.sim.engine.instruments import resolve_pairs
from btcbot.sim.engine.pricepath import RandomWalkSource

END_S = 1_767_225_600  # 2026-01-01T00:00:00Z
SPEC = resolve_pairs(("BTCTRY",))[0]


def _fresh(seed: int = 1) -> RandomWalkSource:
    return RandomWalkSource(SPEC, seed, 10.0)


def test_a_reused_history_equals_a_fresh_draw_shifted_in_time() -> None:
    pricepath._HISTORY_CACHE.clear()
    drawn = _fresh().history(END_S, 300)  # drawn, then kept
    assert len(pricepath._HISTORY_CACHE) == 1
    reused = _fresh().history(END_S + 3600, 300)  # served from the cache, one hour later
    assert [b.open_time_s + 3600 for b in drawn] == [b.open_time_s for b in reused]
    assert [(b.open, b.high, b.low, b.close, b.volume, b.total) for b in drawn] == [
        (b.open, b.high, b.low, b.close, b.volume, b.total) for b in reused
    ]
    assert reused[-1].open_time_s == END_S + 3600 - 60  # the newest bar ends at end_s


def test_a_second_history_of_one_source_continues_the_generator_as_without_the_cache() -> None:
    pricepath._HISTORY_CACHE.clear()
    uncached = _fresh()
    uncached.history(END_S, 200)
    second_uncached = uncached.history(END_S, 50)

    cached = _fresh()  # served from the cache filled just now: its generator state is restored
    cached.history(END_S, 200)
    assert [(b.open, b.close) for b in cached.history(END_S, 50)] == [(b.open, b.close) for b in second_uncached]


def test_other_seeds_pairs_and_lengths_are_other_histories() -> None:
    pricepath._HISTORY_CACHE.clear()
    one = _fresh(1).history(END_S, 100)
    assert [b.close for b in _fresh(2).history(END_S, 100)] != [b.close for b in one]
    eth = RandomWalkSource(resolve_pairs(("ETHTRY",))[0], 1, 10.0).history(END_S, 100)
    assert [b.close for b in eth] != [b.close for b in one]
    longer = _fresh(1).history(END_S, 120)
    assert [b.close for b in longer[-100:]] == [b.close for b in one]  # same walk, drawn further back
    assert len(pricepath._HISTORY_CACHE) == 4


def test_the_cache_is_bounded() -> None:
    pricepath._HISTORY_CACHE.clear()
    for seed in range(pricepath._HISTORY_CACHE_SIZE + 5):
        _fresh(seed).history(END_S, 5)
    assert len(pricepath._HISTORY_CACHE) == pricepath._HISTORY_CACHE_SIZE
