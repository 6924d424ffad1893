"""OpenTelemetry tracing: a root span per cycle, a child per stage, one span per exchange call.

Only ``opentelemetry-api`` is required. Without ``configure_tracing`` (or without an endpoint) the
API's no-op provider is in place and every span costs a few microseconds and records nothing.
With an OTLP endpoint and the optional packages (``pip install 'btcbot[otel]'``: opentelemetry-sdk and
opentelemetry-exporter-otlp-proto-http; a missing one is a configuration error) an SDK ``TracerProvider`` with a ``BatchSpanProcessor``
exports spans. The batch processor runs its own export thread; it only reads finished spans and
never touches trading state.

OpenTelemetry allows the global provider to be set once per process, so:

* the app calls ``configure_tracing(...)`` exactly once at startup and keeps the returned
  :class:`TracingSetup` (call ``shutdown()`` on exit to flush);
* tests never touch the global: they build an SDK ``TracerProvider`` and pass it to
  ``get_tracer(provider)`` or ``configure_tracing(..., install_global=False)``.

Span tree of one cycle (names are constants below)::

    live_cycle
      data_feed.update      -> exchange.call (endpoint_group, endpoint, status, attempts)
      strategy.decide                           + one "exchange.attempt" event per HTTP attempt
      risk.pre_trade
      execution.submit      -> exchange.call ...
      reconcile.sync        -> exchange.call ...

Hooking :class:`ExchangeCallTracer` into the exchange client (which calls an
``observer(endpoint_group, endpoint, status, attempt, latency_ms)`` after every attempt):

1. wrap the whole retry loop of one logical call in ``with call_tracer.call(group, endpoint):``
   (or ``call_tracer.trace_call(group, endpoint, fn)``), so every retry shares one span;
2. pass ``combine_observers(metrics.api_call, call_tracer.observe)`` as the client's observer;
   each attempt becomes an event on the enclosing call span (attempt, status, latency_ms).

The BTC Turk transport does both when its observer is a :class:`TracingObserver`: it opens
``observer.call_scope(group, endpoint)`` around its retry loop (after any clock sync, so the
server-time call gets a span of its own). With tracing off the app passes a plain function and
the transport opens no scope at all.

If the client cannot wrap its loop, ``observe`` alone still works: without an enclosing call span it
emits one short ``exchange.call`` span per attempt (retries then share only the parent stage span).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

TRACER_NAME = "btcbot"

LIVE_CYCLE = "live_cycle"
DATA_FEED_UPDATE = "data_feed.update"
STRATEGY_DECIDE = "strategy.decide"
RISK_PRE_TRADE = "risk.pre_trade"
EXECUTION_SUBMIT = "execution.submit"
RECONCILE_SYNC = "reconcile.sync"
EXCHANGE_CALL = "exchange.call"
EXCHANGE_ATTEMPT_EVENT = "exchange.attempt"

#: ``status`` of a successful attempt, as reported by the exchange client's observer.
OK_STATUS = "ok"

AttributeValue = str | bool | int | float
ApiObserver = Callable[[str, str, str, int, float], None]
"""``(endpoint_group, endpoint, status, attempt, latency_ms) -> None``, called once per attempt."""

T = TypeVar("T")


def get_tracer(provider: TracerProvider | None = None) -> Tracer:
    """The btcbot tracer from ``provider``, or from the global provider (no-op unless configured)."""
    if provider is None:
        return trace.get_tracer(TRACER_NAME)
    return provider.get_tracer(TRACER_NAME)


@dataclass(frozen=True, slots=True)
class TracingSetup:
    """Result of :func:`configure_tracing`: the tracer to use and, if exporting, the SDK provider."""

    tracer: Tracer
    provider: TracerProvider | None = None

    @property
    def exporting(self) -> bool:
        return self.provider is not None

    def shutdown(self) -> None:
        """Flush pending spans and stop the exporter (no-op when not exporting)."""
        shutdown = getattr(self.provider, "shutdown", None)
        if callable(shutdown):
            shutdown()


def _traces_url(endpoint: str) -> str:
    # The OTLP/HTTP exporter takes the full URL; accept the collector base URL as operators write it.
    parts = urlsplit(endpoint)
    if parts.path in ("", "/"):
        return endpoint.rstrip("/") + "/v1/traces"
    return endpoint


def configure_tracing(
    service_name: str,
    endpoint: str | None,
    *,
    exporter: object | None = None,
    install_global: bool = True,
) -> TracingSetup:
    """Set up span export to ``endpoint`` (OTLP/HTTP), or keep the no-op provider.

    ``exporter`` replaces the OTLP exporter (tests pass an ``InMemorySpanExporter``); then
    ``endpoint`` may be ``None``. With ``install_global`` the provider becomes the process-wide one
    (allowed once per process); otherwise use ``setup.tracer`` / ``get_tracer(setup.provider)``.
    A configured endpoint with the ``otel`` extra missing raises ConfigError naming the install
    command (:mod:`btcbot.observability.extras`): what is configured must be installed, tracing is
    never silently off.
    """
    if endpoint is None and exporter is None:
        return TracingSetup(tracer=get_tracer())
    from btcbot.observability.extras import require_tracing_packages

    if exporter is None:
        require_tracing_packages(endpoint)
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
    except ImportError:  # an exporter was passed in (tests) without the SDK: same answer
        require_tracing_packages("in-process exporter")
        raise
    if exporter is None:
        assert endpoint is not None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=_traces_url(endpoint))
    if not isinstance(exporter, SpanExporter):
        raise TypeError("exporter must be an opentelemetry SpanExporter")
    provider = SdkTracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if install_global:
        trace.set_tracer_provider(provider)
    return TracingSetup(tracer=get_tracer(provider), provider=provider)


@contextmanager
def span(name: str, /, tracer: Tracer | None = None, **attributes: AttributeValue) -> Iterator[Span]:
    """A span named ``name`` as a child of the current one; exceptions are recorded and re-raised."""
    t = tracer if tracer is not None else get_tracer()
    with t.start_as_current_span(name, attributes=attributes or None) as s:
        yield s


class TracingObserver:
    """Exchange-client observer that also scopes every logical call in one ``exchange.call`` span.

    Calling it is the per-attempt observer (the ``observers`` in order, then the span event);
    ``call_scope(group, endpoint)`` is the context manager the transport opens around the whole
    retry loop of one call, so all attempts land as events on the same span. A client that does
    not know ``call_scope`` still works (one short span per attempt, see the module docstring).
    """

    __slots__ = ("_calls", "_observers")

    def __init__(self, call_tracer: ExchangeCallTracer, *observers: ApiObserver) -> None:
        self._calls = call_tracer
        self._observers = observers

    def __call__(self, endpoint_group: str, endpoint: str, status: str, attempt: int, latency_ms: float) -> None:
        for o in self._observers:
            o(endpoint_group, endpoint, status, attempt, latency_ms)
        self._calls.observe(endpoint_group, endpoint, status, attempt, latency_ms)

    def call_scope(self, endpoint_group: str, endpoint: str) -> AbstractContextManager[Span]:
        """The span around all attempts of one call (see :meth:`ExchangeCallTracer.call`)."""
        return self._calls.call(endpoint_group, endpoint)


def combine_observers(*observers: ApiObserver) -> ApiObserver:
    """One observer that calls each of ``observers`` in order (e.g. metrics and tracing)."""

    def observe(endpoint_group: str, endpoint: str, status: str, attempt: int, latency_ms: float) -> None:
        for o in observers:
            o(endpoint_group, endpoint, status, attempt, latency_ms)

    return observe


class _ActiveCall:
    """Mutable bookkeeping of one open exchange-call span (lives only inside ``call``)."""

    __slots__ = ("attempts", "endpoint", "group", "last_status", "span")

    def __init__(self, span: Span, group: str, endpoint: str) -> None:
        self.span = span
        self.group = group
        self.endpoint = endpoint
        self.attempts = 0
        self.last_status: str | None = None


class ExchangeCallTracer:
    """One span per logical exchange call; one event per HTTP attempt (see module docstring).

    Meant for the synchronous exchange client: open calls are kept on a plain stack, so one
    instance must not be shared by concurrent threads.
    """

    def __init__(self, tracer: Tracer | None = None) -> None:
        self._tracer = tracer if tracer is not None else get_tracer()
        self._stack: list[_ActiveCall] = []

    @contextmanager
    def call(self, endpoint_group: str, endpoint: str) -> Iterator[Span]:
        """Span around every attempt of one call; ends with attributes ``status`` and ``attempts``."""
        attrs: dict[str, AttributeValue] = {"endpoint_group": endpoint_group, "endpoint": endpoint}
        with self._tracer.start_as_current_span(EXCHANGE_CALL, kind=SpanKind.CLIENT, attributes=attrs) as s:
            active = _ActiveCall(s, endpoint_group, endpoint)
            self._stack.append(active)
            try:
                yield s
            finally:
                self._stack.pop()
                status = active.last_status or "no_attempt"
                s.set_attribute("status", status)
                s.set_attribute("attempts", active.attempts)
                if status != OK_STATUS:
                    s.set_status(Status(StatusCode.ERROR, status))

    def trace_call(self, endpoint_group: str, endpoint: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (the whole retry loop) inside :meth:`call` and return its result."""
        with self.call(endpoint_group, endpoint):
            return fn()

    def observe(
        self, endpoint_group: str, endpoint: str, status: str, attempt: int, latency_ms: float
    ) -> None:
        """The client observer: record one attempt on the enclosing call span."""
        active = self._stack[-1] if self._stack else None
        event: dict[str, AttributeValue] = {"attempt": attempt, "status": status, "latency_ms": latency_ms}
        if active is None or active.group != endpoint_group or active.endpoint != endpoint:
            attrs: dict[str, AttributeValue] = {
                "endpoint_group": endpoint_group,
                "endpoint": endpoint,
                **event,
            }
            with self._tracer.start_as_current_span(
                EXCHANGE_CALL, kind=SpanKind.CLIENT, attributes=attrs
            ) as s:
                if status != OK_STATUS:
                    s.set_status(Status(StatusCode.ERROR, status))
            return
        active.span.add_event(EXCHANGE_ATTEMPT_EVENT, event)
        active.attempts = max(active.attempts, attempt)
        active.last_status = status
