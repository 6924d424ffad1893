"""A cycle that sends nothing says why: the strategy's hold reason (or the risk denials) in the
``cycle.finished`` log record (field ``hold_reason``), in ``btcbot status`` and in the
``strategy_holding{reason}`` gauge. A user strategy written before ``hold_reason`` existed
(``examples/my_strategy.py``) runs unchanged and is reported as ``not_reported``.

End to end: a paper bot (``trading.dry_run``, the real application in-process) against the
simulator's public routes, whose history is too short for the strategy on purpose."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from btcbot.app.hold_report import NOT_REPORTED, HoldTracker, risk_hold, strategy_hold
from btcbot.app.operations import start
from btcbot.app.status import status
from btcbot.cli.commands.status_view import render
from btcbot.cli.main import main
from btcbot.config.settings import Settings, load_settings
from btcbot.contracts.strategy import HoldReason, MarketSnapshot
from btcbot.domain.enums import OrderType, Side, TradingState
from btcbot.domain.intents import Approved, DecisionCode, Denied, OrderIntent
from btcbot.domain.portfolio import PortfolioView
from btcbot.observability.metrics import Metrics
from btcbot.persistence.migrations import upgrade
from btcbot.sim.testing import SimConfig, SimHandle, SimLinkedClock, running_simulator
from cycle.harness import wall_sim_config

SYMBOLS = ("AVAXTRY", "BTCTRY", "ETHTRY", "SOLTRY", "XRPTRY")


@pytest.fixture
def short_sim() -> Iterator[SimHandle]:
    """10 hours of history: 10 closed hourly bars, far fewer than ``trend`` needs (144)."""
    with running_simulator(SimConfig(seed=7, rate_limits=False, history_minutes=600)) as handle:
        yield handle


def paper_settings(sim: SimHandle, tmp_path: Path, strategy: str) -> Settings:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    environ = {
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_TRADING__STRATEGY": strategy,
        "BTCBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'paper.db'}",
        "BTCBOT_OBSERVABILITY__METRICS_TEXTFILE": str(tmp_path / "btcbot.prom"),  # metrics on
    }
    settings = load_settings(env_file=empty, environ=environ).settings
    assert settings.trading.dry_run
    upgrade(settings.database.url)
    return settings


def one_cycle(sim: SimHandle, settings: Settings) -> tuple[Any, list[dict[str, Any]], str]:
    """Run one cycle; returns the result, the ``cycle.finished`` records' extras, the metrics."""
    finished: list[dict[str, Any]] = []
    sink = logger.add(lambda m: finished.append(dict(m.record["extra"])),
                      filter=lambda r: r["extra"].get("event") == "cycle.finished")
    app = start(settings, clock=SimLinkedClock(sim))
    try:
        result = app.cycle().run()
        metrics = app.telemetry.metrics.render().decode()
    finally:
        app.close()
        logger.remove(sink)
    return result, finished, metrics


def test_warming_up_is_said_in_the_cycle_log_status_and_metric(short_sim: SimHandle, tmp_path: Path) -> None:
    settings = paper_settings(short_sim, tmp_path, "trend")
    result, finished, metrics = one_cycle(short_sim, settings)
    assert result.intents == 0 and not result.safe_mode, result.reasons

    detail = f"warming up: 10 of 144 bars ({', '.join(SYMBOLS)})"
    assert [r["hold_reason"] for r in finished] == [f"warming_up: {detail}"]
    assert result.hold_reason == f"warming_up: {detail}"
    assert 'strategy_holding{reason="warming_up"} 1.0' in metrics

    doc = status(settings, clock=SimLinkedClock(short_sim))
    assert doc["strategy_hold_code"] == "warming_up"
    assert doc["strategy_hold_reason"] == detail
    assert doc["last_decisions"]["hold_reason"] == {"code": "warming_up", "detail": detail}
    assert doc["why_no_trades"] == [f"strategy held: {detail}"]
    assert f"strategy        held (warming_up): {detail}" in render(doc)


def test_an_old_user_strategy_runs_unchanged_and_is_reported_as_not_reported(
    short_sim: SimHandle, tmp_path: Path
) -> None:
    # examples/my_strategy.py has no hold_reason(); with 10 bars (< its 24) it holds.
    settings = paper_settings(short_sim, tmp_path, "examples.my_strategy:SmaFilterStrategy")
    result, finished, metrics = one_cycle(short_sim, settings)
    assert result.intents == 0 and not result.safe_mode, result.reasons
    assert [r["hold_reason"] for r in finished] == [f"not_reported: {NOT_REPORTED.detail}"]
    assert 'strategy_holding{reason="not_reported"} 1.0' in metrics
    doc = status(settings, clock=SimLinkedClock(short_sim))
    assert (doc["strategy_hold_code"], doc["strategy_hold_reason"]) == ("not_reported", NOT_REPORTED.detail)


def test_the_once_summary_says_why_it_held_instead_of_no_intents(
    tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_cwd / 'paper.db'}"
    upgrade(db)
    with running_simulator(wall_sim_config(history_minutes=600)) as sim:  # wall clock: fresh tickers
        for name, value in {"BTCBOT_EXCHANGE__BASE_URL": sim.base_url, "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
                            "BTCBOT_DATABASE__URL": db, "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console"}.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        assert main(["once"]) == 0
        out = capsys.readouterr().out
    assert "cycle 1: held (warming_up: warming up: " in out and " of 144 bars (" in out, out
    assert "no intents" not in out


# ---- the tracker, without a cycle ----------------------------------------------------------------

class _Holds:
    """A user strategy that holds, explaining itself with whatever ``answer`` is."""

    strategy_id = "u1"

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def required_history(self) -> int:
        return 0

    def decide(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> list[OrderIntent]:
        return []

    def hold_reason(self, snapshot: MarketSnapshot, portfolio: PortfolioView, tradable: Sequence[str]) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _inputs() -> tuple[MarketSnapshot, PortfolioView]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cash = Decimal(1000)
    view = PortfolioView("TRY", cash, cash, {}, {}, cash, cash, cash, trading_state=TradingState.ACTIVE)
    return MarketSnapshot(now=now, interval_s=60, tickers={}, candles={}), view


def test_what_a_user_hold_reason_returns_is_reported_safely() -> None:
    snap, view = _inputs()
    assert strategy_hold(_Holds(HoldReason("my_code", "mine")), snap, view, ["BTCTRY"]) == HoldReason("my_code", "mine")
    assert strategy_hold(_Holds("waiting  for\nthe dip"), snap, view, ["BTCTRY"]) == HoldReason(
        "other", "waiting for the dip")
    assert strategy_hold(_Holds(None), snap, view, ["BTCTRY"]).code == "not_reported"
    broken = strategy_hold(_Holds(ZeroDivisionError("x")), snap, view, ["BTCTRY"])  # never costs the cycle
    assert broken == HoldReason("not_reported", "not reported (hold_reason() raised ZeroDivisionError)")
    assert len(strategy_hold(_Holds("x" * 2000), snap, view, ["BTCTRY"]).detail) == 500


def _intent(symbol: str) -> OrderIntent:
    return OrderIntent("s1", symbol, Side.BUY, OrderType.MARKET, Decimal(1), Decimal(100), Decimal(10))


def test_denied_intents_give_the_risk_reason_and_a_trade_clears_the_gauge() -> None:
    edge = [Denied(_intent(s), DecisionCode.ALPHA_EDGE_BELOW_MINIMUM, "edge 10 < 44") for s in ("ETHTRY", "BTCTRY")]
    assert risk_hold(edge) == HoldReason(
        "edge_below_minimum", "BUY denied by risk: ALPHA_EDGE_BELOW_MINIMUM (BTCTRY, ETHTRY)")
    cap = Denied(_intent("XRPTRY"), DecisionCode.RISK_ASSET_EXPOSURE_LIMIT, "cap")
    assert risk_hold([cap]) is not None and risk_hold([cap]).code == "position_cap"  # type: ignore[union-attr]
    approved = Approved(_intent("BTCTRY"), _intent("BTCTRY"), risk_increasing=True)
    assert risk_hold([*edge, approved]) is None  # something is sent: not holding

    metrics, tracker = Metrics.create(enabled=True), HoldTracker()
    snap, view = _inputs()
    assert tracker.decide(_Holds(HoldReason("warming_up", "w")), snap, view, ["BTCTRY"]) == []
    assert tracker.finish([], [], metrics) == HoldReason("warming_up", "w")
    assert tracker.finish([_intent("BTCTRY")] * 2, edge, metrics) == risk_hold(edge)
    text = metrics.render().decode()
    assert 'strategy_holding{reason="edge_below_minimum"} 1.0' in text
    assert 'strategy_holding{reason="warming_up"} 0.0' in text
    assert tracker.finish([_intent("BTCTRY")], [approved], metrics) is None  # traded
    assert tracker.finish([], [], metrics) is None  # not asked (HALTED, no fresh data): no reason
    gauges = [line for line in metrics.render().decode().splitlines() if line.startswith("strategy_holding{")]
    assert len(gauges) == 2 and all(line.endswith(" 0.0") for line in gauges), gauges
