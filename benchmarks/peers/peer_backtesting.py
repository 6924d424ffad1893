"""The EMA(12)/EMA(26) cross workload in backtesting.py (PyPI ``backtesting``), one pair at a time.

backtesting.py backtests ONE instrument per ``Backtest``: each pair runs alone with its own
100,000 TRY (no shared portfolio, no cross-pair risk or capital checks). Whole units only, so
``FractionalBacktest`` (fractional_unit = 1e-8: trades in satoshi-sized units) carries the
500 TRY entries. Indicators are precomputed over the whole series (``Strategy.I``), then
``next()`` runs in Python for every bar. Market orders fill at the next bar's open (the default
``trade_on_close=False``); commission = taker fee plus the tax on it, per leg; ``spread`` = the
slippage, per leg. Timed: building the Backtest, ``run()`` (indicators, bar loop, statistics).

Usage: ``benchmarks/peers/.venv/bin/python benchmarks/peers/peer_backtesting.py [--repeats N]``
"""

from __future__ import annotations

import os
import warnings
from importlib.metadata import version
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bar (tqdm is in the venv for nautilus_trader)

from backtesting import Strategy
from backtesting.lib import FractionalBacktest
from common import args, ema, load, measure

UNIT = 1e-8


def make_strategy(meta: dict[str, Any]) -> type[Strategy]:
    fast_n, slow_n, warmup = meta["fast_period"], meta["slow_period"], meta["warmup_bars"]
    quote = float(meta["entry_quote"])

    class EmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(ema, self.data.Close, fast_n)
            self.slow = self.I(ema, self.data.Close, slow_n)

        def next(self) -> None:
            if len(self.data) < warmup:
                return
            fast, slow = self.fast, self.slow
            prev = fast[-2] - slow[-2]
            diff = fast[-1] - slow[-1]
            if prev <= 0.0 < diff:
                if not self.position:
                    units = int(quote / self.data.Close[-1])  # = qty rounded down to 1e-8
                    if units > 0:
                        self.buy(size=units)
            elif prev >= 0.0 > diff and self.position:
                self.position.close()

    return EmaCross


def main() -> int:
    opts = args(__doc__.splitlines()[0])
    meta, frames = load(opts.data)
    strategy = make_strategy(meta)
    fee, slip = float(meta["fee_rate"]), float(meta["slippage_bps"]) / 10000
    cash = float(meta["starting_cash"])
    data = {s: df.rename(columns=str.capitalize) for s, df in frames.items()}

    def run() -> dict[str, Any]:
        bars = fills = round_trips = 0
        equity = 0.0
        for df in data.values():
            bt = FractionalBacktest(df, strategy, cash=cash, commission=fee, spread=slip,
                                    fractional_unit=UNIT, trade_on_close=False, exclusive_orders=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "some trades remain open at the end"
                stats = bt.run()
            still_open = len(stats["_strategy"]._broker.trades)
            bars += len(df)
            round_trips += len(stats["_trades"])
            fills += 2 * len(stats["_trades"]) + still_open
            equity += float(stats["Equity Final [$]"])
        return {"symbol_bars": bars, "fills": fills, "round_trips": round_trips,
                "final_equity_sum": round(equity, 2)}

    measure("backtesting.py", version("backtesting"), run, opts.repeats,
            {"portfolio": "one pair per Backtest, 100,000 TRY each"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
