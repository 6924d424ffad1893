"""Acceptance 3: 500 cycles against the simulator over HTTP with random faults (timeouts, 5xx,
429, maintenance windows, stale tickers, delayed visibility, asynchronous cancels, ghosts): no
invariant is ever broken and no exception escapes the error policy; after the faults stop and a
final clean reconcile, the ledger equals the exchange.

In-process for speed: the simulator's manual clock is the bot's clock (``SimLinkedClock``), each
cycle advances market time by 30 s, one long-lived app runs the cycles like ``btcbot run`` does.
Every random draw is seeded (fault schedule, simulator, client retry jitter, strategy), so a
failure reproduces. ``test_chaos_checks`` shows the same checks catch a reckless risk engine.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cycle.harness import consistency_violations
from cycle.soak import run_soak

pytestmark = pytest.mark.slow

CYCLES = 500


def test_500_cycles_with_random_faults_break_no_invariant(tmp_path: Path) -> None:
    report = run_soak(tmp_path, CYCLES)
    state, book, outcomes = report.state, report.book, report.outcomes
    print("SOAK", dict(outcomes), len(state["trades"]), report.fault_log)
    assert report.violations == []
    assert [o for o in state["orders"] if o["symbol"] not in report.universe] == []
    assert report.plan_rows == []
    assert consistency_violations(state, book) == []
    assert [c for c, (s, _) in book.orders.items() if s in ("SUBMITTING", "UNKNOWN", "PLANNED")] == []
    assert not report.final_safe_mode
    # The soak really exercised the bot: trades, safe mode, every fault kind, cap-bound buys.
    assert len(state["trades"]) > 100 and outcomes["safe_mode"] > 20 and outcomes["buy_fill_checks"] > 50
    assert set(report.fault_log) == {"maintenance", "stale_ticker", "error", "rate_limit", "timeout", "ghost",
                                     "visibility_delay"}
    denied = Counter(getattr(d, "code", None) for a in report.approvals.values() for d in a.decisions)
    assert any(code is not None and code.value == "RISK_SYMBOL_NOT_ALLOWED" for code in denied)
