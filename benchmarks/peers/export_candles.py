"""Write the workload's candles and parameters for the peer engines (run with the PROJECT venv).

The same candles as ``benchmarks/backtest_ema_cross.py`` (``btcbot.data.synthetic``, seed 1,
1-minute bars, the five default pairs of ``settings.trading.symbols``, 2025-01-01 to 2025-02-01
UTC) as one CSV per pair (``open_time`` in epoch seconds, then open, high, low, close, volume
exactly as the Decimals print), plus ``meta.json`` with the parameters the peers must use, read
from btcbot's default settings and ``EmaCrossParams`` (periods, 500 TRY per entry, warm-up bars,
taker fee and the tax on it, slippage, starting cash).

Usage: ``.venv/bin/python benchmarks/peers/export_candles.py OUT_DIR``
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for backtest_ema_cross

from backtest_ema_cross import END, START, settings_for

from btcbot.data.synthetic import generate_candles
from btcbot.strategies.ema_cross import EmaCrossParams, EmaCrossStrategy


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "candles")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp))
    symbols = list(settings.trading.symbols)
    candles = generate_candles(symbols, 60, START, END, seed=1)
    precision = {}
    for symbol, bars in candles.items():
        with (out / f"{symbol}.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["open_time", "open", "high", "low", "close", "volume"])
            for b in bars:
                writer.writerow([int(b.open_time.timestamp()), b.open, b.high, b.low, b.close, b.volume])
        precision[symbol] = max(max(0, -p.as_tuple().exponent)  # type: ignore[operator]
                                for b in bars for p in (b.open, b.high, b.low, b.close))
    params = EmaCrossParams()
    capital = settings.capital
    bars_per_symbol = {s: len(v) for s, v in candles.items()}
    meta = {
        "symbols": list(candles),
        "interval_s": 60,
        "from": START.isoformat(),
        "to": END.isoformat(),
        "seed": 1,
        "bars_per_symbol": bars_per_symbol,
        "price_precision": precision,
        "fast_period": params.fast_period,
        "slow_period": params.slow_period,
        "entry_quote": str(params.entry_quote),
        "quantity_places": params.quantity_places,
        # btcbot decides once its window holds required_history() bars' worth of anchored EMA.
        "warmup_bars": EmaCrossStrategy(strategy_id="s1").required_history(),
        "taker_fee_bps": str(capital.taker_fee_bps),
        "fee_tax_ratio": str(capital.fee_tax_ratio),
        # the fee the account pays per fill, as a fraction of notional: taker fee plus the tax on it
        "fee_rate": str(capital.taker_fee_bps / 10000 * (1 + capital.fee_tax_ratio)),
        "slippage_bps": str(capital.slippage_bps),
        "starting_cash": str(capital.paper_starting_balance),
        "quote": "TRY",
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {sum(bars_per_symbol.values()):,} symbol-bars to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
