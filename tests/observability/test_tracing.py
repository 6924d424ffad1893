"""Tracing: span tree of a simulated cycle, retries under one exchange-call span, setup paths.

Every test uses its own SDK TracerProvider; the global provider is never set.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from btcbot.observability import tracing as tr
from btcbot.observability.metrics import Metrics
from btcbot.observability.tracing import ApiObserver, ExchangeCallTracer, configure_tracing, get_tracer, span

from .http_receiver import Receiver


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    p = TracerProvider()
    p.add_span_processor(SimpleSpanProcessor(exporter))
    yield p
    p.shutdown()


class FlakyClient:
    """Stands in for the exchange client: a retry loop that reports each attempt to its observer."""

    def __init__(self, observer: ApiObserver, call_tracer: ExchangeCallTracer, script: list[str]) -> None:
        self.observer = observer
        self.calls = call_tracer
        self.script = script

    def request(self, group: str, endpoint: str) -> str:
        def loop() -> str:
            attempt = 0
            while True:
                attempt += 1
                status = self.script.pop(0)
                self.observer(group, endpoint, status, attempt, 10.0 * attempt)
                if status == "ok":
                    return "payload"
                if not self.script:
                    raise TimeoutError(endpoint)

        return self.calls.trace_call(group, endpoint, loop)


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def parent_name(spans: tuple[ReadableSpan, ...], child: ReadableSpan) -> str | None:
    if child.parent is None:
        return None
    for s in spans:
        if s.context is not None and s.context.span_id == child.parent.span_id:
            return s.name
    return "?"


def test_cycle_span_tree_with_retries_under_one_exchange_call(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = get_tracer(provider)
    calls = ExchangeCallTracer(tracer)
    metrics = Metrics.create()
    observer = tr.combine_observers(metrics.api_call, calls.observe)
    client = FlakyClient(observer, calls, ["timeout", "http_5xx", "ok", "ok", "ok"])

    with span(tr.LIVE_CYCLE, tracer=tracer, cycle_id="c-1"):
        with span(tr.DATA_FEED_UPDATE, tracer=tracer):
            client.request("market_data", "GET /api/v2/ticker")
        with span(tr.STRATEGY_DECIDE, tracer=tracer):
            pass
        with span(tr.RISK_PRE_TRADE, tracer=tracer):
            pass
        with span(tr.EXECUTION_SUBMIT, tracer=tracer, symbol="BTCTRY"):
            client.request("orders", "POST /api/v1/order")
        with span(tr.RECONCILE_SYNC, tracer=tracer):
            client.request("orders", "GET /api/v1/openOrders")

    spans = exporter.get_finished_spans()
    assert len({s.context.trace_id for s in spans if s.context is not None}) == 1
    (root,) = by_name(spans, tr.LIVE_CYCLE)
    assert root.parent is None
    assert root.attributes is not None and root.attributes["cycle_id"] == "c-1"
    for stage in (
        tr.DATA_FEED_UPDATE,
        tr.STRATEGY_DECIDE,
        tr.RISK_PRE_TRADE,
        tr.EXECUTION_SUBMIT,
        tr.RECONCILE_SYNC,
    ):
        (s,) = by_name(spans, stage)
        assert parent_name(spans, s) == tr.LIVE_CYCLE

    exchange_calls = by_name(spans, tr.EXCHANGE_CALL)
    assert [parent_name(spans, s) for s in exchange_calls] == [
        tr.DATA_FEED_UPDATE,
        tr.EXECUTION_SUBMIT,
        tr.RECONCILE_SYNC,
    ]
    ticker = exchange_calls[0]
    assert ticker.attributes is not None
    assert dict(ticker.attributes) == {
        "endpoint_group": "market_data",
        "endpoint": "GET /api/v2/ticker",
        "status": "ok",
        "attempts": 3,
    }
    assert [(e.name, dict(e.attributes or {})) for e in ticker.events] == [
        (tr.EXCHANGE_ATTEMPT_EVENT, {"attempt": 1, "status": "timeout", "latency_ms": 10.0}),
        (tr.EXCHANGE_ATTEMPT_EVENT, {"attempt": 2, "status": "http_5xx", "latency_ms": 20.0}),
        (tr.EXCHANGE_ATTEMPT_EVENT, {"attempt": 3, "status": "ok", "latency_ms": 30.0}),
    ]
    assert ticker.status.status_code is not StatusCode.ERROR
    # No extra spans: the retries did not produce spans of their own.
    assert len(spans) == 6 + 3
    # The same observer fed the metrics.
    assert b'api_errors_total{endpoint_group="market_data",kind="timeout"} 1.0' in metrics.render()


def test_failed_call_span_is_marked_error_and_records_the_exception(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    calls = ExchangeCallTracer(get_tracer(provider))
    client = FlakyClient(calls.observe, calls, ["timeout", "timeout"])
    with pytest.raises(TimeoutError):
        client.request("account", "GET /api/v1/users/balances")
    (s,) = exporter.get_finished_spans()
    assert s.attributes is not None
    assert s.attributes["status"] == "timeout"
    assert s.attributes["attempts"] == 2
    assert s.status.status_code is StatusCode.ERROR
    assert any(e.name == "exception" for e in s.events)


def test_observe_without_enclosing_call_emits_one_span_per_attempt(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    calls = ExchangeCallTracer(get_tracer(provider))
    calls.observe("orders", "POST /api/v1/order", "http_5xx", 1, 5.0)
    calls.observe("orders", "POST /api/v1/order", "ok", 2, 6.0)
    spans = exporter.get_finished_spans()
    assert [dict(s.attributes or {})["attempt"] for s in spans] == [1, 2]
    assert [s.status.status_code for s in spans] == [StatusCode.ERROR, StatusCode.UNSET]


def test_call_without_attempts_reports_no_attempt(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    calls = ExchangeCallTracer(get_tracer(provider))
    with calls.call("orders", "DELETE /api/v1/order"):
        pass
    (s,) = exporter.get_finished_spans()
    assert dict(s.attributes or {})["status"] == "no_attempt"


def test_configure_without_endpoint_is_a_no_op() -> None:
    setup = configure_tracing("btcbot", None)
    assert not setup.exporting
    with span(tr.LIVE_CYCLE, tracer=setup.tracer) as s:
        assert not s.is_recording()
    setup.shutdown()


def test_configure_with_exporter_builds_an_sdk_provider_without_touching_the_global() -> None:
    exporter = InMemorySpanExporter()
    setup = configure_tracing("btcbot-test", None, exporter=exporter, install_global=False)
    assert setup.exporting
    with span(tr.RECONCILE_SYNC, tracer=setup.tracer, attempt=1):
        pass
    setup.shutdown()  # flushes the batch processor
    (s,) = exporter.get_finished_spans()
    assert s.name == tr.RECONCILE_SYNC
    assert s.resource.attributes["service.name"] == "btcbot-test"
    assert not get_tracer().start_span("x").is_recording()  # global still no-op


def test_configure_with_endpoint_but_no_otlp_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is configured is installed: an endpoint without the exporter package is not silently
    ignored any more (it used to leave tracing off with a warning); it names the install command."""
    from btcbot.domain.errors import ConfigError

    # A None entry in sys.modules makes the import fail, as if the extra were absent.
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(ConfigError, match=r"opentelemetry-exporter-otlp-proto-http is not installed.*pip install"):
        configure_tracing("btcbot", "http://127.0.0.1:4318", install_global=False)


def test_configure_with_endpoint_exports_otlp_over_http(receiver: Receiver) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    setup = configure_tracing("btcbot-otlp", receiver.url, install_global=False)
    assert setup.exporting
    with span(tr.LIVE_CYCLE, tracer=setup.tracer, cycle_id="c-9"):
        pass
    setup.shutdown()  # flushes the batch processor: one POST to the collector
    (req,) = receiver.received()
    assert req.path == "/v1/traces"
    assert req.headers["content-type"] == "application/x-protobuf"
    assert b"live_cycle" in req.body and b"btcbot-otlp" in req.body


def test_configure_rejects_a_non_exporter() -> None:
    with pytest.raises(TypeError):
        configure_tracing("btcbot", None, exporter=object(), install_global=False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("https://otel.example/custom/path", "https://otel.example/custom/path"),
    ],
)
def test_traces_url(given: str, expected: str) -> None:
    assert tr._traces_url(given) == expected


def test_combine_observers_calls_each_in_order() -> None:
    seen: list[tuple[str, int]] = []

    def make(tag: str) -> Callable[[str, str, str, int, float], None]:
        def o(g: str, e: str, s: str, a: int, ms: float) -> None:
            seen.append((tag, a))

        return o

    tr.combine_observers(make("a"), make("b"))("orders", "x", "ok", 4, 1.0)
    assert seen == [("a", 4), ("b", 4)]
