"""Base candles -> strategy-interval bars, and the venue rules a backtest rounds orders with.

Aggregation: a strategy bar of ``interval_s`` opening at ``t`` (aligned to the epoch) holds every
base bar whose open time lies in ``[t, t + interval_s)``: open of the first, close of the last,
max high, min low, summed volume. A bucket with no base bar produces no bar (a gap).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from btcbot.domain.market import Candle, SymbolRules
from btcbot.sim.engine.instruments import KNOWN_PAIRS, normalize_symbol


def aggregate(candles: Iterable[Candle], interval_s: int) -> list[Candle]:
    """Bars of ``interval_s`` from sorted base bars of a shorter length that divides it."""
    return list(iter_aggregate(candles, interval_s))


def iter_aggregate(candles: Iterable[Candle], interval_s: int) -> Iterator[Candle]:
    """:func:`aggregate` as a stream: yields each bar once its bucket is complete."""
    bucket = -1
    symbol = ""
    o = h = lo = c = v = Decimal(0)
    for bar in candles:
        if interval_s % bar.interval_s:
            raise ValueError(f"{bar.interval_s}s bars cannot be aggregated to {interval_s}s")
        epoch = int(bar.open_time.timestamp())
        start = epoch - epoch % interval_s
        if start != bucket:
            if start < bucket:
                raise ValueError("candles must be sorted by open time")
            if bucket >= 0:
                yield Candle(symbol, interval_s, datetime.fromtimestamp(bucket, UTC), o, h, lo, c, v)
            bucket, symbol = start, bar.symbol
            o, h, lo, c, v = bar.open, bar.high, bar.low, bar.close, bar.volume
            continue
        if bar.high > h:
            h = bar.high
        if bar.low < lo:
            lo = bar.low
        c = bar.close
        v += bar.volume
    if bucket >= 0:
        yield Candle(symbol, interval_s, datetime.fromtimestamp(bucket, UTC), o, h, lo, c, v)


def default_rules(symbols: Sequence[str]) -> dict[str, SymbolRules]:
    """Venue rules for an offline backtest: the simulator's mirror of BTC Turk's exchangeinfo.

    An unknown symbol gets conservative generic rules (8 quantity decimals, 2 price decimals,
    99.91 minimum notional).
    """
    rules: dict[str, SymbolRules] = {}
    for raw in symbols:
        symbol = normalize_symbol(raw)
        spec = KNOWN_PAIRS.get(symbol)
        if spec is None:
            from btcbot.domain.symbols import parse_pair

            pair = parse_pair(symbol)
            rules[symbol] = SymbolRules(symbol, pair.base, pair.quote, "TRADING", 8, 2, True, Decimal("99.91"),
                                        tick_size=Decimal("0.01"))
            continue
        rules[symbol] = SymbolRules(
            symbol=symbol,
            base=spec.base,
            quote=spec.quote,
            status="TRADING",
            numerator_scale=spec.numerator_scale,
            denominator_scale=spec.denominator_scale,
            has_fraction=True,
            min_exchange_value=spec.min_exchange_value,
            tick_size=spec.tick_size,
        )
    return rules
