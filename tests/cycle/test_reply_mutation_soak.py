"""Issue 11 item 3, short version of ``benchmarks/reply_mutation_soak.py``: the real bot's cycles
against a simulator that carries requests out and then answers with a seeded schedule of
mutated replies on every private endpoint (2xx success:false, flipped flags, missing/mistyped
fields, wrong statuses, HTML/empty/truncated/malformed bodies, resets, hangs).

After every cycle, on the exchange's own books: no client id sent twice, no exchange order
unknown to the database, no exposure past the approving cycle's asset cap, no exception escaping
the error policy. At the end, after a few quiet cycles and without ``reconcile --apply``: every
exchange order in the database with its real final state and fills, the ledger equal to the
exchange's balances, an empty reconcile plan, trading ACTIVE. And no halt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from btcbot.domain.errors import AmbiguousOutcome
from btcbot.domain.exchange_models import OrderRequest, SubmitAck
from btcbot.sim.mutation import REPLY_CLASSES
from cycle.soak import run_mutation_soak
from cycle.test_chaos_checks import RecklessRisk

pytestmark = pytest.mark.slow

CYCLES = 150
SEED = 11


def test_reply_mutations_on_every_private_endpoint_break_no_invariant(tmp_path: Path) -> None:
    report = run_mutation_soak(tmp_path, CYCLES, seed=SEED, quiet_cycles=4, hang_s=1.2, api_timeout_s=1.0)
    figures = report.figures()
    shown = ("cycles", "private_requests", "faulted_share_of_private_requests", "safe_mode_share", "halts",
             "violations", "elapsed_s")
    print("REPLY-MUTATION SOAK", {k: figures[k] for k in shown}, report.violations[:10], report.halts[:10])
    # The soak really exercised the bot: trades, and mutated replies of every class.
    assert len(report.state["trades"]) > 50
    assert set(REPLY_CLASSES) <= set(figures["replies"])  # every reply class really reached the bot
    assert figures["faulted_share_of_private_requests"] > 0.04
    assert report.violations == []
    assert report.halts == []


class ResendingClient:
    """What a naive bot does: on an ambiguous submit, send the same order again."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def submit_order(self, request: OrderRequest) -> SubmitAck:
        try:
            ack: SubmitAck = self._inner.submit_order(request)
        except AmbiguousOutcome:
            ack = self._inner.submit_order(request)
        return ack

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_the_soak_catches_a_bot_that_resends_an_ambiguous_order(tmp_path: Path) -> None:
    report = run_mutation_soak(tmp_path, 30, seed=SEED, quiet_cycles=1, hang_s=1.2, api_timeout_s=1.0,
                               rates={"POST /api/v1/order": 0.8}, wrap_exchange=ResendingClient)
    assert any("sent twice" in v for v in report.violations), report.violations


def test_the_soak_catches_exchange_exposure_past_the_caps(tmp_path: Path) -> None:
    report = run_mutation_soak(tmp_path, 40, seed=SEED, quiet_cycles=0, rates={}, risk=RecklessRisk)
    assert any("exchange" in v and "asset cap" in v for v in report.violations), report.violations
