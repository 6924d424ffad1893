"""A fixed reference workload: how fast THIS machine runs pure-Python code like btcbot's, right now.

Why: the figures of the other benchmarks are CPU seconds of a pure-Python process, and the
machines these are measured on are shared virtual machines whose speed differs between machines
(an earlier machine of this project ran the same code 1.8x faster) and drifts within minutes
(+-35 % seen between two runs ten minutes apart). A raw figure ("81,600 symbol-bars per
CPU-second") is only comparable with one taken on the same machine at the same moment. So the
benchmarks time this workload around their own runs and report both: the raw figure, the
reference time, and the figure per REFERENCE SECOND (raw figure x reference CPU seconds). Between
machines of different speed the product is the better figure to compare (not yet checked: the
earlier machine's reference time was not recorded). Within a session it does NOT cancel
the drift: on 2026-12-07 the per-reference figure spread ~20 % over ten repeats, the raw one
~30 % (the machine's speed changes faster than a 0.15 s reference can follow). For a change's
effect, interleave old and new code runs, or count instructions (valgrind --tool=callgrind).

The workload (deterministic, no I/O, ~0.11-0.16 s on the machine of the figures in docs/benchmarks.md)
mixes what btcbot's hot paths do: Python calls and attribute reads on slotted objects, small dict
and tuple traffic, and Decimal arithmetic with quantize. It never changes: a change would break
every comparison with earlier figures (write a new one under another name instead).

Usage: ``python benchmarks/machine_ref.py`` prints the reference CPU seconds (min of 5).
"""

from __future__ import annotations

import statistics
import time
from decimal import ROUND_DOWN, Decimal

#: The version of the workload; part of every figure that uses it.
REFERENCE = "machine_ref/1"

_STEP = Decimal("0.00000001")


class _Account:
    __slots__ = ("cash", "held", "trades")

    def __init__(self) -> None:
        self.cash = Decimal("100000")
        self.held: dict[str, Decimal] = {}
        self.trades = 0

    def buy(self, symbol: str, quote: Decimal, price: Decimal) -> None:
        qty = (quote / price).quantize(_STEP, rounding=ROUND_DOWN)
        self.cash -= qty * price
        self.held[symbol] = self.held.get(symbol, Decimal(0)) + qty
        self.trades += 1

    def value(self, prices: dict[str, Decimal]) -> Decimal:
        return self.cash + sum((q * prices[s] for s, q in self.held.items()), Decimal(0))


def workload(rounds: int = 150_000) -> Decimal:
    """The reference work; returns a checksum so nothing is optimised away."""
    symbols = ("BTCTRY", "ETHTRY", "XRPTRY", "AVAXTRY", "SOLTRY")
    prices = {s: Decimal(1000 + 137 * i) for i, s in enumerate(symbols)}
    account = _Account()
    ema = {s: 0.0 for s in symbols}
    quote = Decimal("500")
    total = Decimal(0)
    for n in range(rounds):
        symbol = symbols[n % 5]
        price = prices[symbol] + Decimal(n % 97)
        x = float(price)
        ema[symbol] = (x - ema[symbol]) * 0.15 + ema[symbol]
        if n % 7 == 0:
            account.buy(symbol, quote, price)
        if n % 50 == 0:
            total += account.value(prices)
    return total + Decimal(account.trades)


def reference_cpu_s(repeats: int = 5) -> float:
    """The workload's CPU seconds (``time.process_time``), the minimum of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        workload()
        times.append(time.process_time() - start)
    return min(times)


def per_reference_second(rate: float, ref_cpu_s: float) -> float:
    """A rate per CPU-second, put per reference second (machine speed mostly cancelled)."""
    return rate * ref_cpu_s


def main() -> None:
    runs = [reference_cpu_s(repeats=5) for _ in range(3)]
    print(f"{REFERENCE}: {statistics.median(runs):.4f} CPU s (runs: {', '.join(f'{r:.4f}' for r in runs)})")


if __name__ == "__main__":
    main()
