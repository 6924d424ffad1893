"""Acceptance 2 of the observability issue: the span tree of ONE real trading cycle.

The app is built exactly as the CLI builds it (``start`` -> ``build_app``), trading live against
the in-process simulator, with a ``Telemetry`` whose tracer comes from a private SDK
``TracerProvider`` + ``InMemorySpanExporter`` (the global provider is never touched). One read
(GET /api/v2/ticker) is failed once with HTTP 502 so the transport retries it: both attempts must
be events on ONE ``exchange.call`` span, not two spans.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from btcbot.app.operations import start
from btcbot.app.telemetry import Telemetry
from btcbot.config.settings import Settings, load_settings
from btcbot.observability import tracing as tr
from btcbot.observability.metrics import Metrics
from btcbot.persistence.migrations import upgrade
from btcbot.services.candle_store import MemoryCandleStore
from btcbot.sim.config import SimConfig
from btcbot.sim.testing import SimHandle, SimLinkedClock, running_simulator

STAGES = (tr.DATA_FEED_UPDATE, tr.STRATEGY_DECIDE, tr.RISK_PRE_TRADE, tr.EXECUTION_SUBMIT, tr.RECONCILE_SYNC)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    p = TracerProvider()
    p.add_span_processor(SimpleSpanProcessor(exporter))
    yield p
    p.shutdown()


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(SimConfig()) as handle:
        yield handle


def live_settings(sim: SimHandle, db: Path) -> Settings:
    env = {
        "BTCBOT_EXCHANGE__BASE_URL": sim.base_url,
        "BTCBOT_EXCHANGE__GRAPH_URL": sim.graph_url,
        "BTCBOT_AUTH__API_KEY": sim.api_key,
        "BTCBOT_AUTH__API_SECRET": sim.api_secret,
        "BTCBOT_TRADING__DRY_RUN": "false",
        "BTCBOT_TRADING__STRATEGY": "rebalance",
        "BTCBOT_TRADING__CANDLE_INTERVAL_S": "60",
        "BTCBOT_DATABASE__URL": f"sqlite:///{db}",
        "BTCBOT_RESILIENCE__RETRY_BASE_DELAY_S": "0.01",
    }
    settings = load_settings(environ=env).settings
    upgrade(settings.database.url)
    return settings


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def parent_of(span: ReadableSpan, spans: tuple[ReadableSpan, ...]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    matches = [s for s in spans if s.context is not None and s.context.span_id == span.parent.span_id]
    assert len(matches) == 1, f"parent of {span.name} is not among the exported spans"
    return matches[0]


def exchange_calls(spans: tuple[ReadableSpan, ...], endpoint: str) -> list[ReadableSpan]:
    return [s for s in named(spans, tr.EXCHANGE_CALL) if s.attributes and s.attributes.get("endpoint") == endpoint]


def test_one_cycle_span_tree_with_a_retried_read_under_one_call_span(
    sim: SimHandle, tmp_path: Path, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    settings = live_settings(sim, tmp_path / "bot.db")
    telemetry = Telemetry(metrics=Metrics.create(), tracer=tr.get_tracer(provider))
    app = start(settings, clock=SimLinkedClock(sim), telemetry=telemetry, candle_store=MemoryCandleStore())
    try:
        cycle = app.cycle()  # start-up calls (exchangeinfo, genesis balances) happen outside any cycle
        exporter.clear()
        sim.admin.set_fault("GET /api/v2/ticker", kind="error", status=502, count=1)
        result = cycle.run()
    finally:
        app.close()
    assert result.submitted > 0, "the cycle must place orders so execution.submit has exchange calls"
    spans = exporter.get_finished_spans()

    roots = [s for s in spans if s.parent is None]
    assert [s.name for s in roots] == [tr.LIVE_CYCLE]
    root = roots[0]
    assert root.attributes is not None and root.attributes.get("cycle_id") == result.cycle_id
    assert root.context is not None
    assert {s.context.trace_id for s in spans if s.context is not None} == {root.context.trace_id}

    for stage in STAGES:
        found = named(spans, stage)
        assert found, f"no {stage} span"
        assert all(parent_of(s, spans) is root for s in found), f"{stage} is not a child of live_cycle"

    # The retried read: ONE span, two attempt events (502 -> TransientError, then ok).
    tickers = exchange_calls(spans, "tickers")
    assert len(tickers) == 1
    call = tickers[0]
    assert parent_of(call, spans) is not None and parent_of(call, spans).name == tr.DATA_FEED_UPDATE  # type: ignore[union-attr]
    assert call.attributes is not None
    assert call.attributes.get("endpoint_group") == "market_data"
    assert call.attributes.get("attempts") == 2
    assert call.attributes.get("status") == "ok"
    assert call.status.status_code is not StatusCode.ERROR
    attempts = [(e.attributes or {}) for e in call.events if e.name == tr.EXCHANGE_ATTEMPT_EVENT]
    assert [(a.get("attempt"), a.get("status")) for a in attempts] == [(1, "TransientError"), (2, "ok")]

    # Every order POST is its own exchange-call span under execution.submit, one attempt each.
    submits = exchange_calls(spans, "submit_order")
    assert len(submits) == result.submitted
    for s in submits:
        parent = parent_of(s, spans)
        assert parent is not None and parent.name == tr.EXECUTION_SUBMIT
        assert s.attributes is not None and s.attributes.get("attempts") == 1
        assert s.attributes.get("endpoint_group") == "orders"

    # No exchange call floats outside the cycle, and each one has exactly its own attempt events.
    for s in named(spans, tr.EXCHANGE_CALL):
        ancestor = parent_of(s, spans)
        while ancestor is not None and ancestor is not root:
            ancestor = parent_of(ancestor, spans)
        assert ancestor is root, f"{s.attributes} is not inside live_cycle"
        assert s.attributes is not None
        events = [e for e in s.events if e.name == tr.EXCHANGE_ATTEMPT_EVENT]
        assert len(events) == s.attributes.get("attempts")


def test_without_a_tracer_the_client_gets_a_plain_observer_and_opens_no_call_scope() -> None:
    # The no-tracing path: a bound method (metrics + retry count), no span objects per attempt.
    observer = Telemetry(metrics=Metrics.create()).observer()
    assert not hasattr(observer, "call_scope")
    traced = Telemetry(metrics=Metrics.create(), tracer=tr.get_tracer(TracerProvider())).observer()
    assert callable(getattr(traced, "call_scope", None))
