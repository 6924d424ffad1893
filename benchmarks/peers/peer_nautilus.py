"""The EMA(12)/EMA(26) cross workload in NautilusTrader (PyPI ``nautilus_trader``), offline.

One ``BacktestEngine`` (no network, no catalog) with a simulated venue BTCTURK: a CASH account
holding 100,000 TRY, NETTING positions, the five pairs as ``CurrencyPair`` instruments (taker fee =
btcbot's taker fee plus the tax on it; price precision of the data; size precision 8) and their
1-minute bars (``BarDataWrangler``, time-stamped at the bar's CLOSE as Nautilus expects). One
strategy subscribes to the five bar types and keeps Nautilus' native ``ExponentialMovingAverage``
pair per instrument (seeded with the first close, not the SMA: after the 520-bar warm-up the
seed's weight is below 1e-9). On a cross up when flat: a market BUY of 500 TRY at the close,
rounded down to 1e-8; on a cross down: close the position. Nautilus fills a market order sent
in ``on_bar`` at that bar's close; in this data every bar opens at the previous close, so that is
the next bar's open price as in the other engines. No slippage (Nautilus' ``FillModel`` slips
by whole ticks, not by a percentage). Timed: ``add_data`` + ``run()``; the engine, venue and
instruments are built first, untimed (btcbot's timing also starts at ``engine.run``).

Usage: ``benchmarks/peers/.venv/bin/python benchmarks/peers/peer_nautilus.py [--repeats N]``
"""

from __future__ import annotations

import time
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from common import args, entry_qty, load, measure
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import ExponentialMovingAverage
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.events import OrderFilled, PositionClosed
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.trading.strategy import Strategy

VENUE = Venue("BTCTURK")


class EmaCrossConfig(StrategyConfig, frozen=True):
    bar_types: tuple[str, ...]
    fast_period: int
    slow_period: int
    warmup_bars: int
    entry_quote: str
    quantity_places: int


class EmaCross(Strategy):
    def __init__(self, config: EmaCrossConfig) -> None:
        super().__init__(config)
        self.sizing = {"entry_quote": config.entry_quote, "quantity_places": config.quantity_places}
        self.emas: dict[InstrumentId, list[Any]] = {}
        self.fills = 0
        self.round_trips = 0

    def on_start(self) -> None:
        cfg = self.config
        for text in cfg.bar_types:
            bar_type = BarType.from_str(text)
            instrument = self.cache.instrument(bar_type.instrument_id)
            # [fast EMA, slow EMA, previous diff, bars seen, instrument]
            self.emas[bar_type.instrument_id] = [ExponentialMovingAverage(cfg.fast_period),
                                                  ExponentialMovingAverage(cfg.slow_period),
                                                  None, 0, instrument]
            self.subscribe_bars(bar_type)

    def on_bar(self, bar: Bar) -> None:
        iid = bar.bar_type.instrument_id
        st = self.emas[iid]
        fast, slow = st[0], st[1]
        fast.handle_bar(bar)
        slow.handle_bar(bar)
        st[3] += 1
        diff = fast.value - slow.value
        prev, st[2] = st[2], diff
        if st[3] < self.config.warmup_bars or prev is None:
            return
        if prev <= 0.0 < diff:
            if self.portfolio.is_flat(iid):
                qty = entry_qty(self.sizing, bar.close.as_double())
                if qty > 0:
                    instrument = st[4]
                    order = self.order_factory.market(iid, OrderSide.BUY, instrument.make_qty(qty))
                    self.submit_order(order)
        elif prev >= 0.0 > diff and self.portfolio.is_net_long(iid):
            self.close_all_positions(iid)

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills += 1

    def on_position_closed(self, event: PositionClosed) -> None:
        self.round_trips += 1


def instrument_for(symbol: str, precision: int, fee: Decimal) -> CurrencyPair:
    base, quote = symbol[:-3], symbol[-3:]
    return CurrencyPair(
        instrument_id=InstrumentId(Symbol(f"{base}/{quote}"), VENUE),
        raw_symbol=Symbol(symbol),
        base_currency=Currency.from_str(base),
        quote_currency=Currency.from_str(quote),
        price_precision=precision,
        size_precision=8,
        price_increment=Price(10.0 ** -precision, precision),
        size_increment=Quantity.from_str("0.00000001"),
        ts_event=0,
        ts_init=0,
        maker_fee=fee,
        taker_fee=fee,
    )


def main() -> int:
    opts = args(__doc__.splitlines()[0])
    meta, frames = load(opts.data)
    fee = Decimal(meta["fee_rate"])
    instruments = {s: instrument_for(s, meta["price_precision"][s], fee) for s in frames}
    bars: list[Bar] = []
    bar_types = []
    for symbol, df in frames.items():
        inst = instruments[symbol]
        bar_type = BarType.from_str(f"{inst.id}-1-MINUTE-LAST-EXTERNAL")
        bar_types.append(str(bar_type))
        closed = df.copy()
        closed.index = closed.index + (closed.index[1] - closed.index[0])  # stamp at the close
        bars.extend(BarDataWrangler(bar_type, inst).process(closed))
    config = EmaCrossConfig(bar_types=tuple(bar_types), fast_period=meta["fast_period"],
                            slow_period=meta["slow_period"], warmup_bars=meta["warmup_bars"],
                            entry_quote=meta["entry_quote"], quantity_places=meta["quantity_places"])

    def run() -> dict[str, Any]:
        setup = time.process_time()
        engine = BacktestEngine(BacktestEngineConfig(
            trader_id=TraderId("BTCBOT-001"), logging=LoggingConfig(log_level="ERROR")))
        engine.add_venue(venue=VENUE, oms_type=OmsType.NETTING, account_type=AccountType.CASH,
                         base_currency=None,
                         starting_balances=[Money(Decimal(meta["starting_cash"]), Currency.from_str(meta["quote"]))])
        for inst in instruments.values():
            engine.add_instrument(inst)
        strategy = EmaCross(config)
        engine.add_strategy(strategy)
        setup = time.process_time() - setup
        engine.add_data(bars)
        engine.run()
        quote_balance = engine.portfolio.account(VENUE).balance_total(Currency.from_str(meta["quote"]))
        out = {"symbol_bars": len(bars), "fills": strategy.fills, "round_trips": strategy.round_trips,
               "final_quote_balance": str(quote_balance), "untimed_cpu_s": round(setup, 3)}
        engine.dispose()
        return out

    measure("NautilusTrader", version("nautilus_trader"), run, opts.repeats,
            {"portfolio": "five pairs, one CASH account, 100,000 TRY"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
