"""Acceptance 3: 500 cycles against the simulator over HTTP with random faults (timeouts, 5xx,
429, maintenance windows, stale tickers, delayed visibility, asynchronous cancels, ghosts): no
invariant is ever broken and no exception escapes the error policy; after the faults stop and a
final clean reconcile, the ledger equals the exchange.

In-process for speed: the simulator's manual clock is the bot's clock (``SimLinkedClock``), each
cycle advances market time by 30 s, one long-lived app runs the cycles like ``btcbot run`` does.
Every random draw is seeded (fault schedule, simulator, client retry jitter, strategy), so a
failure reproduces.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from btcbot.adapters.btcturk.client import build_btcturk_client
from btcbot.app import operations
from btcbot.app.admin import reconcile
from btcbot.app.wiring import breaker_settings
from btcbot.config.secrets import load_credentials
from btcbot.config.settings import load_settings
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.enums import TradingState
from btcbot.domain.market import Ticker
from btcbot.persistence.migrations import upgrade
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.services.market_feed import MarketState
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimLinkedClock, running_simulator
from cycle.chaos import FaultSchedule, RecordingRisk, batch_violations, cap_violations
from cycle.harness import bot_settings, consistency_violations, read_book, sqlite_url

pytestmark = pytest.mark.slow

CYCLES = 500
INTERVAL_S = 30.0
SEED = 20261125


def test_500_cycles_with_random_faults_break_no_invariant(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "soak.db")
    upgrade(url)
    config = SimConfig(seed=SEED % 1000, cancel_delay_s=20.0, rate_limits=True)
    with running_simulator(config) as sim:
        env = bot_settings(
            sim, url,
            BTCBOT_TRADING__STRATEGY="cycle.strategies:ChurnStrategy",
            BTCBOT_TRADING__CANDLE_INTERVAL_S="300",
            BTCBOT_TRADING__UNKNOWN_GRACE_S="120",
            BTCBOT_EXCHANGE__API_TIMEOUT="2",
            BTCBOT_RESILIENCE__BREAKER_COOLDOWN_S="60",
            BTCBOT_RISK__MAX_DAILY_LOSS_PCT="0.5",  # churn fees alone reach 3 %: keep the bot buying
        )
        settings = load_settings(environ=env).settings
        clock = SimLinkedClock(sim)
        exchange = build_btcturk_client(
            settings, load_credentials(settings, required=True), clock, rng=random.Random(SEED),
            breakers=BreakerBoard(breaker_settings(settings)),
        )
        app = operations.start(settings, clock=clock, exchange=exchange, candle_store=MemoryCandleStore())
        try:
            cycle = app.cycle()

            def current_cycle() -> int:
                with app.engine.connect() as conn:
                    return int(conn.execute(text("SELECT max(cycle_id) FROM cycles")).scalar() or 0)

            recorder = RecordingRisk(cycle.d.risk, current_cycle)
            cycle.d.risk = recorder  # type: ignore[assignment]
            universe = tuple(settings.trading.symbols)
            cap = settings.capital
            schedule = FaultSchedule(random.Random(SEED))
            violations: list[str] = []
            outcomes: Counter[str] = Counter()
            seen_fill = 0
            checked_approvals: set[int] = set()

            def view_at(prices: dict[str, object]) -> object:
                tickers = {s: Ticker(s, p, p, p, p, p, p, p, clock.now()) for s, p in prices.items()}  # type: ignore[arg-type]
                market = MarketState(tickers, dict.fromkeys(tickers, 0.0), ())
                return cycle.build_view(market, TradingState.ACTIVE)

            for _ in range(CYCLES):
                schedule.apply(sim.admin)
                outcome = operations._guarded_cycle(app)
                outcomes["safe_mode" if outcome.safe_mode else "ok"] += 1
                if outcome.result is None:
                    outcomes["skipped"] += 1
                for cycle_id in sorted(set(recorder.approvals) - checked_approvals):
                    checked_approvals.add(cycle_id)
                    violations += batch_violations(recorder.approvals[cycle_id], universe, cap.taker_fee_bps,
                                                   cap.fee_tax_ratio)
                with app.engine.connect() as conn:
                    new_fills = conn.execute(text(
                        "SELECT f.id, o.cycle_id, f.symbol FROM fills f JOIN orders o "
                        "ON o.client_order_id = f.client_order_id WHERE f.id > :seen AND f.side = 'BUY'"
                    ), {"seen": seen_fill}).all()
                    seen_fill = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM fills")).scalar() or 0)
                for approving in sorted({int(r[1]) for r in new_fills}):
                    approval = recorder.approvals.get(approving)
                    assert approval is not None, f"BUY filled for cycle {approving}, which approved nothing"
                    outcomes["buy_fill_checks"] += 1
                    view = view_at(dict(approval.view.prices))
                    violations += cap_violations(view, approval.policy, universe,  # type: ignore[arg-type]
                                                 f"after fills of cycle {approving}'s buys")
                clock.sleep(INTERVAL_S)

            # Faults stop; let grace periods and asynchronous cancels run out, then settle.
            sim.admin.clear_faults()
            for _ in range(3):
                clock.sleep(200)
                outcome = operations._guarded_cycle(app)
        finally:
            app.close()
        plan = reconcile(settings, apply=False, reason=None, clock=clock, candle_store=MemoryCandleStore())
        state = sim.state()
        book = read_book(url)

    print("SOAK", dict(outcomes), len(state["trades"]), schedule.log)
    assert violations == []
    assert [o for o in state["orders"] if o["symbol"] not in universe] == []
    assert plan.rows == [], plan.rows
    assert consistency_violations(state, book) == []
    assert [c for c, (s, _) in book.orders.items() if s in ("SUBMITTING", "UNKNOWN", "PLANNED")] == []
    assert not outcome.safe_mode
    # The soak really exercised the bot: trades, safe mode, every fault kind, cap-bound buys.
    assert len(state["trades"]) > 100 and outcomes["safe_mode"] > 20 and outcomes["buy_fill_checks"] > 50
    assert set(schedule.log) == {"maintenance", "stale_ticker", "error", "rate_limit", "timeout", "ghost",
                                 "visibility_delay"}
    denied = Counter(d.code.value for a in recorder.approvals.values() for d in a.decisions if hasattr(d, "code"))
    assert denied["RISK_SYMBOL_NOT_ALLOWED"] > 0
