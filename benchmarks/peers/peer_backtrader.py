"""The EMA(12)/EMA(26) cross workload in backtrader (PyPI ``backtrader``): five pairs, one broker.

One ``Cerebro`` with the five pairs as ``PandasData`` feeds and one broker holding 100,000 TRY
(a shared cash balance, like btcbot's). Indicators: backtrader's ``EMA`` (seeded with the SMA,
as TA-Lib and btcbot), in the default vectorized ``runonce`` mode; ``next()`` runs in Python
for every bar and checks every pair. Market orders (size = 500 TRY at the last close, rounded
down to 1e-8) fill at the next bar's open; commission = taker fee plus the tax on it, a
percentage per leg; ``set_slippage_perc`` = the slippage. ``stdstats=False`` (no observers; btcbot
keeps an equity curve, backtrader's broker observer would add to its cost). Timed:
``cerebro.run()`` including the preload of the feeds from the DataFrames.

Usage: ``benchmarks/peers/.venv/bin/python benchmarks/peers/peer_backtrader.py [--repeats N]``
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import backtrader as bt
from common import args, entry_qty, load, measure


def make_strategy(meta: dict[str, Any]) -> type[bt.Strategy]:
    fast_n, slow_n, warmup = meta["fast_period"], meta["slow_period"], meta["warmup_bars"]

    class EmaCross(bt.Strategy):
        def __init__(self) -> None:
            self.diffs = [(d, bt.ind.EMA(d.close, period=fast_n) - bt.ind.EMA(d.close, period=slow_n))
                          for d in self.datas]
            self.fills = 0
            self.round_trips = 0

        def notify_order(self, order: bt.Order) -> None:
            if order.status == order.Completed:
                self.fills += 1

        def notify_trade(self, trade: bt.Trade) -> None:
            if trade.isclosed:
                self.round_trips += 1

        def next(self) -> None:
            if len(self) < warmup:
                return
            for data, diff_line in self.diffs:
                prev, diff = diff_line[-1], diff_line[0]
                if prev <= 0.0 < diff:
                    if not self.getposition(data).size:
                        qty = entry_qty(meta, data.close[0])
                        if qty > 0:
                            self.buy(data=data, size=qty)
                elif prev >= 0.0 > diff and self.getposition(data).size:
                    self.close(data=data)

    return EmaCross


def main() -> int:
    opts = args(__doc__.splitlines()[0])
    meta, frames = load(opts.data)
    strategy = make_strategy(meta)

    def run() -> dict[str, Any]:
        cerebro = bt.Cerebro(stdstats=False)
        for symbol, df in frames.items():
            cerebro.adddata(bt.feeds.PandasData(dataname=df.tz_localize(None), name=symbol))
        cerebro.addstrategy(strategy)
        cerebro.broker.setcash(float(meta["starting_cash"]))
        cerebro.broker.setcommission(commission=float(meta["fee_rate"]))
        cerebro.broker.set_slippage_perc(float(meta["slippage_bps"]) / 10000)
        (result,) = cerebro.run()
        return {"symbol_bars": sum(len(df) for df in frames.values()), "fills": result.fills,
                "round_trips": result.round_trips, "final_equity": round(cerebro.broker.getvalue(), 2)}

    measure("backtrader", version("backtrader"), run, opts.repeats,
            {"portfolio": "five pairs, one broker, 100,000 TRY"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
