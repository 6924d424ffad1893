"""Reply-mutation soak (issue 11 item 3): the real bot against an exchange that carries requests
out and then answers in ways nobody planned for.

The bot runs ``btcbot run``'s cycle code in-process (``operations._guarded_cycle``, one long-lived
app, the churning test strategy) against the simulator on loopback HTTP, on the simulator's
manual clock (30 s of market time per cycle). Before every cycle a seeded schedule arms reply
mutations (the simulator's ``mutate`` fault) over every private endpoint and every reply class
(``docs/simulator.md``): the request TAKES EFFECT, then the bot gets a 200 with success:false, a
flipped flag, a mistyped or missing field, a wrong status, an HTML/empty/truncated/malformed
body, a reset or a hang. Checked after every cycle, on the simulator's own books: no client id
sent twice, no exchange order unknown to the database, no exposure grown past the approving
cycle's asset cap (+3 %), no exception escaping the error policy; halts are counted apart (each
is resumed like an operator would, and the soak goes on). At the end, after the
faults stop and a few quiet cycles (and WITHOUT ``reconcile --apply``): every exchange order in
the database with its real final state and filled amount, every trade booked once, the ledger
equal to the exchange's balances, an empty reconcile plan, and trading ACTIVE (or REDUCING for a
risk reason: the churn's fees reach the last drawdown tier in long runs).

Run: .venv/bin/python benchmarks/reply_mutation_soak.py [--cycles 2000] [--seed 20261125]
Prints the figures and saves benchmarks/results/reply_mutation_soak.json. Exit 1 on a violation
or a halt.
The short version is ``tests/cycle/test_reply_mutation_soak.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "reply_mutation_soak.json"
sys.path.insert(0, str(ROOT / "tests"))  # the soak driver and test strategy live with the cycle tests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cycles", type=int, default=2000, help="faulted cycles (default 2000)")
    parser.add_argument("--seed", type=int, default=20261125, help="seed of the schedule, simulator and client")
    parser.add_argument("--quiet-cycles", type=int, default=5, help="fault-free settle cycles at the end")
    parser.add_argument("--hang", type=float, default=2.5, help="hang of the timeout reply class (s)")
    parser.add_argument("--api-timeout", type=float, default=2.0, help="the bot's exchange.api_timeout (s)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--verbose", action="store_true", help="keep the bot's INFO logs")
    parser.add_argument("--keep-db", type=Path, default=None, metavar="DIR",
                        help="write the bot's SQLite database to DIR and keep it (for triage)")
    args = parser.parse_args(argv)
    if args.cycles < 1 or args.quiet_cycles < 0 or not 0 < args.api_timeout < args.hang:
        parser.error("need --cycles >= 1, --quiet-cycles >= 0 and 0 < --api-timeout < --hang")

    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="INFO" if args.verbose else "ERROR")

    from cycle.soak import run_mutation_soak

    started = time.perf_counter()

    def progress(done: int, _: Any) -> None:
        print(f"... {done}/{args.cycles} cycles, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="reply-mutation-soak-") as tmp:
        workdir = Path(tmp)
        if args.keep_db is not None:
            args.keep_db.mkdir(parents=True, exist_ok=True)
            workdir = args.keep_db
        report = run_mutation_soak(workdir, args.cycles, seed=args.seed, quiet_cycles=args.quiet_cycles,
                                   hang_s=args.hang, api_timeout_s=args.api_timeout, progress=progress)
    figures = report.figures()
    figures["environment"] = {"python": platform.python_version(), "machine": platform.machine(),
                              "api_timeout_s": args.api_timeout, "hang_s": args.hang}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")

    print(f"cycles                  {figures['cycles']} (+{figures['quiet_settle_cycles']} quiet settle cycles)")
    print(f"requests                {figures['requests']} ({figures['private_requests']} private)")
    print(f"mutated replies         {figures['mutated_replies']} = "
          f"{figures['mutated_share_of_private_requests']:.1%} of private requests")
    print(f"faulted requests        {figures['faulted_requests']} = "
          f"{figures['faulted_share_of_requests']:.1%} of all requests (incl. "
          f"{figures['stale_ticker_cycles']} cycles of stale-ticker windows)")
    print(f"(route, class) covered  {figures['route_class_pairs_covered']}/{figures['route_class_pairs_total']}"
          " on the private routes the bot called"
          + (f"; never called: {', '.join(figures['private_routes_never_called'])}"
             if figures["private_routes_never_called"] else ""))
    print("replies by class        " + ", ".join(f"{k} {v}" for k, v in figures["replies"].items()))
    print(f"cycles in safe mode     {figures['safe_mode_cycles']} = {figures['safe_mode_share']:.1%}")
    print(f"cycles REDUCING         {figures['reducing_cycles']}")
    print(f"halts                   {figures['halts']} (each resumed as an operator would)")
    for line in figures["halt_list"][:10]:
        print(f"  - {line}")
    print(f"exchange orders/trades  {figures['exchange_orders']}/{figures['exchange_trades']}")
    print(f"final trading state     {figures['final_trading_state']}"
          + (f" ({figures['final_trading_state_reason'][:100]})" if figures["final_trading_state"] != "ACTIVE" else ""))
    print(f"violations              {figures['violations']}")
    for line in figures["violation_list"][:30]:
        print(f"  - {line}")
    print(f"elapsed                 {figures['elapsed_s']} s; saved {args.out}")
    return 1 if figures["violations"] or figures["halts"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
