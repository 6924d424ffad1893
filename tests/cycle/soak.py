"""The soak driver of acceptance 3 (see ``test_chaos_soak``): N cycles in-process against the
simulator with an optional seeded fault schedule, the invariant checks of ``cycle.chaos`` after
every cycle, then a clean settle and a final reconcile plan. Returns everything the tests assert on.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from btcbot.services.risk.engine import RiskEngine
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimLinkedClock, running_simulator
from cycle.chaos import Approval, FaultSchedule, RecordingRisk, batch_violations, cap_violations
from cycle.harness import LocalBook, bot_settings, read_book, sqlite_url

INTERVAL_S = 30.0
SEED = 20261125


@dataclass
class SoakReport:
    violations: list[str]
    outcomes: Counter[str]
    state: dict[str, Any]
    book: LocalBook
    plan_rows: list[tuple[str, str, str]]
    final_safe_mode: bool
    fault_log: dict[str, int]
    approvals: dict[int, Approval]
    universe: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def run_soak(
    tmp_path: Path,
    cycles: int,
    faults: bool = True,
    risk: Callable[[RiskEngine, Callable[[], int]], RecordingRisk] = RecordingRisk,
) -> SoakReport:
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

            recorder = risk(cycle.d.risk, current_cycle)
            cycle.d.risk = recorder  # type: ignore[assignment]
            universe = tuple(settings.trading.symbols)
            cap = settings.capital
            schedule = FaultSchedule(random.Random(SEED))
            violations: list[str] = []
            outcomes: Counter[str] = Counter()
            seen_fill = 0
            checked_approvals: set[int] = set()
            crashed = False

            def view_at(prices: dict[str, Any]) -> Any:
                tickers = {s: Ticker(s, p, p, p, p, p, p, p, clock.now()) for s, p in prices.items()}
                market = MarketState(tickers, dict.fromkeys(tickers, 0.0), ())
                return cycle.build_view(market, TradingState.ACTIVE)

            for _ in range(cycles):
                if faults:
                    schedule.apply(sim.admin)
                try:
                    outcome = operations._guarded_cycle(app)
                except Exception as exc:  # the error policy let it through: that IS a finding
                    violations.append(f"unhandled {type(exc).__name__}: {exc}")
                    crashed = True
                else:
                    outcomes["safe_mode" if outcome.safe_mode else "ok"] += 1
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
                    if approval is None:
                        violations.append(f"BUY filled for cycle {approving}, which approved nothing")
                        continue
                    outcomes["buy_fill_checks"] += 1
                    violations += cap_violations(view_at(dict(approval.view.prices)), approval.policy, universe,
                                                 f"after fills of cycle {approving}'s buys")
                if crashed:
                    break
                clock.sleep(INTERVAL_S)

            # Faults stop; let grace periods and asynchronous cancels run out, then settle.
            sim.admin.clear_faults()
            final_safe_mode = True
            for _ in range(0 if crashed else 3):
                clock.sleep(200)
                try:
                    final_safe_mode = operations._guarded_cycle(app).safe_mode
                except Exception as exc:
                    violations.append(f"unhandled {type(exc).__name__}: {exc}")
                    break
        finally:
            app.close()
        plan = reconcile(settings, apply=False, reason=None, clock=clock, candle_store=MemoryCandleStore())
        state = sim.state()
        book = read_book(url)
    return SoakReport(violations, outcomes, state, book, plan.rows, final_safe_mode, dict(schedule.log),
                      dict(recorder.approvals), universe)
