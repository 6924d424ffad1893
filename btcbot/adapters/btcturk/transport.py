"""The one seam where requests meet the network.

Per attempt: breaker check -> rate-limit slot -> stamp + signature (private routes) -> HTTP ->
classify (``errors``) -> parse (``wire``) -> breaker/limiter/time-sync bookkeeping -> observer.
Idempotent reads are retried by the RetryPolicy; writes never are, and anything unreadable after
a write is sent becomes AmbiguousOutcome.
"""

from __future__ import annotations

import json
import random
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar

import requests
from loguru import logger

from btcbot.adapters.btcturk import endpoints as ep
from btcbot.adapters.btcturk.errors import classify_response, classify_transport_error
from btcbot.adapters.btcturk.rate_limit import RateLimiter
from btcbot.adapters.btcturk.retry import RetryPolicy
from btcbot.adapters.btcturk.signing import auth_headers
from btcbot.adapters.btcturk.time_sync import TimeSync
from btcbot.adapters.btcturk.wire import parse_server_time
from btcbot.config.secrets import Credentials
from btcbot.contracts.clock import Clock
from btcbot.domain.breaker import BreakerBoard
from btcbot.domain.errors import (
    AmbiguousOutcome,
    AuthError,
    CircuitOpen,
    ExchangeError,
    MaintenanceError,
    MalformedPayload,
    RateLimited,
    StampRejected,
    TransientError,
)

T = TypeVar("T")

#: Prepared GET requests kept per (url, params, header names); cleared when it grows past this.
_MAX_TEMPLATES = 64


#: Called once per attempt: (endpoint_group, endpoint, status, attempt, latency_ms). ``status`` is
#: "ok" or the error class name ("TransientError", "CircuitOpen" ...). Metrics and tracing attach
#: here without the client importing them.
Observer = Callable[[str, str, str, int, float], None]
#: Optional attribute of an observer: ``call_scope(endpoint_group, endpoint)`` returns a context
#: manager the transport opens around ALL attempts of one logical call (tracing uses it to put every
#: retry under one span). Looked up once at construction; a plain function observer has none.
CallScope = Callable[[str, str], AbstractContextManager[object]]


def _send_settings(session: requests.Session) -> dict[str, Any]:
    """What ``session.merge_environment_settings(url, {}, None, None, None)`` returns while
    ``session.trust_env`` is off (the only case it is used in): the session's proxies without the
    None entries, its stream, verify and cert. Read from the session on every call, but without
    requests' generic merging (``to_key_val_list``'s isinstance check against a runtime Protocol
    cost more CPU than the rest of it)."""
    proxies: Any = session.proxies
    if proxies is None:
        proxies = {}
    elif isinstance(proxies, Mapping):
        proxies = OrderedDict((k, v) for k, v in proxies.items() if v is not None)
    else:  # not a mapping: merge_setting keeps the request's own setting
        proxies = {}
    return {"proxies": proxies, "stream": session.stream, "verify": session.verify, "cert": session.cert}


class Transport:
    """HTTP + resilience for one client. Holds no secrets in its repr."""

    def __init__(
        self,
        *,
        base_url: str,
        graph_url: str,
        credentials: Credentials | None,
        clock: Clock,
        retry: RetryPolicy,
        breakers: BreakerBoard,
        limiter: RateLimiter,
        rng: random.Random,
        session: requests.Session,
        timeout_s: float,
        observer: Observer | None = None,
        time_sync: TimeSync | None = None,
    ) -> None:
        self._hosts = {"rest": base_url.rstrip("/"), "graph": graph_url.rstrip("/")}
        self._credentials = credentials
        self._clock = clock
        self.retry = retry
        self.breakers = breakers
        self.limiter = limiter
        self._rng = rng
        self._session = session
        self._timeout_s = timeout_s
        self._observer = observer
        self._call_scope: CallScope | None = getattr(observer, "call_scope", None)
        self.time_sync = time_sync or TimeSync(clock)
        self.counts: Counter[str] = Counter()
        self._templates: dict[tuple[str, tuple[tuple[str, Any], ...], tuple[str, ...]], requests.PreparedRequest] = {}

    def __repr__(self) -> str:
        return f"Transport(base_url={self._hosts['rest']!r}, authenticated={self._credentials is not None})"

    # ------------------------------------------------------------------ public

    def call(
        self,
        endpoint: ep.Endpoint,
        parse: Callable[[Any], T],
        *,
        path_args: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, str] | None = None,
    ) -> T:
        """Send (with retries for reads) and return ``parse(decoded document)``.

        A 401 that blames the stamp (StampRejected) resyncs the server time and sends a read or a
        cancel once more; a second 401 is an AuthError (halt). An order POST is never sent twice:
        after a stamp 401 it is AmbiguousOutcome (looked up by client id), see docs/exchange.md.
        """
        if endpoint.private and self._credentials is None:
            raise AuthError("no credentials", endpoint=endpoint.name)
        if endpoint.private:
            self._ensure_time()
        try:
            return self._scoped(endpoint, parse, path_args, params, body)
        except StampRejected as first:
            return self._after_stamp_rejected(first, endpoint, parse, path_args, params, body)

    def _ensure_time(self) -> None:
        if not self.time_sync.needs_sync():
            return
        try:
            self.sync_time()
        except ExchangeError as exc:
            # Without any measurement nothing private is sent; with one, a failed refresh keeps it.
            if not self.time_sync.measured:
                raise
            logger.warning("time sync failed ({}); keeping the previous offset", type(exc).__name__)

    def _scoped(
        self,
        endpoint: ep.Endpoint,
        parse: Callable[[Any], T],
        path_args: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        body: Mapping[str, str] | None,
    ) -> T:
        if self._call_scope is None:
            return self._retry_loop(endpoint, parse, path_args, params, body)
        with self._call_scope(endpoint.group.value, endpoint.name):
            return self._retry_loop(endpoint, parse, path_args, params, body)

    def _after_stamp_rejected(
        self,
        first: StampRejected,
        endpoint: ep.Endpoint,
        parse: Callable[[Any], T],
        path_args: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        body: Mapping[str, str] | None,
    ) -> T:
        """One resync, then (reads and cancels) one more send; a repeated 401 halts."""
        logger.bind(event="exchange.stamp_rejected", endpoint=endpoint.name).warning(
            "stamp rejected ({}); resyncing the server time", first
        )
        self.time_sync.invalidate()
        try:
            self.sync_time()
        except ExchangeError as exc:
            # A clock problem we could not fix now: not a credential problem, so no halt.
            if endpoint.never_resent:
                raise AmbiguousOutcome(f"stamp rejected, resync failed ({type(exc).__name__})",
                                       endpoint=endpoint.name) from None
            raise TransientError(f"stamp rejected and the time resync failed ({type(exc).__name__})",
                                 endpoint=endpoint.name) from None
        if endpoint.never_resent:
            # A real BTC Turk 401 comes from the auth layer before the order is read, but an answer
            # is all we have: a proxy or a confused venue can say 401 about an order it placed. A
            # resend could then double it, so the order is looked up by client id instead.
            raise AmbiguousOutcome("stamp rejected (401); time resynced, the order is looked up, not resent",
                                   endpoint=endpoint.name) from None
        try:
            return self._scoped(endpoint, parse, path_args, params, body)
        except StampRejected as again:
            words = str(again).removeprefix(f"{again.endpoint}: ")
            raise AuthError(f"{words} (again after a server-time resync)", endpoint=endpoint.name) from None

    def _retry_loop(
        self,
        endpoint: ep.Endpoint,
        parse: Callable[[Any], T],
        path_args: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        body: Mapping[str, str] | None,
    ) -> T:
        """Attempts of one call: reads are retried per the RetryPolicy, writes are sent once."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(endpoint, parse, attempt, path_args, params, body)
            except ExchangeError as err:
                if isinstance(err, CircuitOpen):
                    raise
                delay = self.retry.next_delay(endpoint.method, err, attempt, self._rng)
                if delay is None:
                    raise
                if delay > 0:
                    self._clock.sleep(delay)

    def sync_time(self) -> None:
        """Measure the server-clock offset (GET /api/v2/server/time) from ONE attempt.

        Not through the market-data breaker: private calls depend on this measurement, and a
        503 on a public endpoint must not block them for the breaker's cooldown. Attempts whose
        round trip exceeds ``time_sync.max_round_trip_s`` are measured again, not trusted; other
        failures are tried again when the RetryPolicy would retry a read; up to
        ``retry.max_attempts`` attempts, then the last error is raised (the caller keeps an
        earlier measurement if it has one).
        """
        e = ep.SERVER_TIME
        url = self._hosts[e.host] + e.path
        last: ExchangeError | None = None
        for attempt in range(1, max(1, self.retry.max_attempts) + 1):
            if attempt > 1 and not isinstance(last, RateLimited):
                self._clock.sleep(self.retry.backoff_s(attempt - 1, self._rng))
            try:
                self.limiter.acquire(e.limit_key)
            except RateLimited:
                self._observe(e, "RateLimited", attempt, 0.0)
                raise
            sent = self.time_sync.mark()
            server_ms: int | None = None
            error: ExchangeError | None = None
            try:
                self.counts[e.name] += 1
                response = self._request(e.method, url, None, None, {"Accept": "application/json"})
                doc = classify_response(e.name, response.status_code, response.content, response.headers, write=False)
                server_ms = int(parse_server_time(e.name, doc).timestamp() * 1000)
            except requests.RequestException as exc:
                error = classify_transport_error(e.name, exc, write=False)
            except ExchangeError as exc:
                error = exc
            received = self.time_sync.mark()
            if error is None and not self.time_sync.acceptable(sent, received):
                rtt = self.time_sync.round_trip_s(sent, received)
                error = TransientError(
                    f"round trip {rtt:.3f} s > {self.time_sync.max_round_trip_s} s: midpoint not trusted", endpoint=e.name
                )
            self._observe(e, "ok" if error is None else type(error).__name__, attempt,
                          self.time_sync.round_trip_s(sent, received) * 1000.0)
            if error is None and server_ms is not None:
                self.time_sync.record(server_ms, sent, received)
                return
            assert error is not None
            if isinstance(error, RateLimited):
                self.limiter.block(e.limit_key, error.retry_after_s)
            if not self.retry.is_retryable("GET", error):
                raise error  # maintenance, a long Retry-After: asking again now cannot help
            last = error
        assert last is not None
        raise last

    def exchange_now(self) -> datetime | None:
        """The exchange's current time (synced now if due), or None when it cannot be known."""
        if self.time_sync.needs_sync():
            try:
                self.sync_time()
            except ExchangeError as exc:
                logger.warning("time sync failed ({}); exchange clock {}", type(exc).__name__,
                               "kept" if self.time_sync.trusted else "unknown")
        return self.time_sync.server_now()

    # ------------------------------------------------------------------ one attempt

    def _attempt(
        self,
        endpoint: ep.Endpoint,
        parse: Callable[[Any], T],
        attempt: int,
        path_args: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        body: Mapping[str, str] | None,
    ) -> T:
        group = endpoint.group
        try:
            self.breakers.check(group, self._clock.now())
        except CircuitOpen:
            self._observe(endpoint, "CircuitOpen", attempt, 0.0)
            raise
        try:
            self.limiter.acquire(endpoint.limit_key)
        except RateLimited:
            self._observe(endpoint, "RateLimited", attempt, 0.0)
            raise
        url = self._hosts[endpoint.host] + endpoint.path.format(**(path_args or {}))
        headers = self._headers(endpoint)
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        started = self._clock.monotonic()
        error: ExchangeError | None = None
        results: list[T] = []
        try:
            self.counts[endpoint.name] += 1
            response = self._request(endpoint.method, url, params, data, headers)
            doc = classify_response(
                endpoint.name, response.status_code, response.content, response.headers,
                write=endpoint.write, route=endpoint.route,
            )
            results.append(parse(doc))
        except requests.RequestException as exc:
            error = classify_transport_error(endpoint.name, exc, write=endpoint.write)
        except MalformedPayload as exc:
            # A write whose answer we cannot read may have happened: never call it a failure.
            error = AmbiguousOutcome(f"unreadable answer: {exc}", endpoint=endpoint.name) if endpoint.write else exc
        except ExchangeError as exc:
            error = exc
        except Exception as exc:
            if not endpoint.write:
                raise  # a bug on a read surfaces as itself
            # Anything unexpected once a write may have been sent must still mean "maybe placed".
            error = AmbiguousOutcome(f"unexpected {type(exc).__name__} after sending", endpoint=endpoint.name)
        latency_ms = (self._clock.monotonic() - started) * 1000.0
        self._bookkeep(endpoint, error)
        self._observe(endpoint, "ok" if error is None else type(error).__name__, attempt, latency_ms)
        if error is not None:
            raise error
        return results[0]

    def _request(
        self, method: str, url: str, params: Mapping[str, Any] | None, data: bytes | None, headers: dict[str, str]
    ) -> requests.Response:
        """``session.request(...)``; a GET reuses a request prepared by the session for the same
        url, params and header names (the header values are set anew: stamps change), skipping
        requests' per-call merging. Only while that merging could not differ: no cookies in the
        session, no session auth, ``trust_env`` off (``client._session``); else the plain call."""
        session = self._session
        if method != "GET" or data is not None or session.cookies or session.auth is not None or session.trust_env:
            return session.request(method, url, params=params, data=data, headers=headers, timeout=self._timeout_s)
        try:
            key = (url, tuple(params.items()) if params else (), tuple(headers))
            template = self._templates.get(key)
        except TypeError:  # an unhashable parameter value
            return session.request(method, url, params=params, data=data, headers=headers, timeout=self._timeout_s)
        if template is None:
            if len(self._templates) >= _MAX_TEMPLATES:
                self._templates.clear()
            template = self._templates[key] = session.prepare_request(
                requests.Request(method, url, headers=headers, params=params or {}))
        prepared = template.copy()
        for name, value in headers.items():
            requests.utils.check_header_validity((name, value))
            prepared.headers[name] = value
        return session.send(prepared, timeout=self._timeout_s, allow_redirects=True, **_send_settings(session))

    def _headers(self, endpoint: ep.Endpoint) -> dict[str, str]:
        if not endpoint.private:
            return {"Accept": "application/json"}
        assert self._credentials is not None
        stamp = self.time_sync.next_stamp()
        headers = auth_headers(self._credentials.api_key, self._credentials.api_secret.get_secret_value(), stamp)
        headers["Accept"] = "application/json"
        return headers

    def _bookkeep(self, endpoint: ep.Endpoint, error: ExchangeError | None) -> None:
        """Breaker: venue-health failures count, business answers are successes."""
        now = self._clock.now()
        group = endpoint.group
        if error is None:
            self.breakers.success(group, now)
        elif isinstance(error, MaintenanceError):
            self.breakers.failure(group, now, immediate=True)
        elif isinstance(error, RateLimited):
            self.limiter.block(endpoint.limit_key, error.retry_after_s)
        elif isinstance(error, TransientError | MalformedPayload | AmbiguousOutcome):
            self.breakers.failure(group, now)
        elif isinstance(error, AuthError):
            self.time_sync.invalidate()  # a stale offset is a common 401 cause; re-measure next time
        else:
            self.breakers.success(group, now)  # ExchangeRejected / OrderNotFound: the venue answered

    def _observe(self, endpoint: ep.Endpoint, status: str, attempt: int, latency_ms: float) -> None:
        if self._observer is None:
            return
        try:
            self._observer(endpoint.group.value, endpoint.name, status, attempt, latency_ms)
        except Exception:  # an observer bug must never change a trading outcome
            logger.exception("exchange observer failed for {}", endpoint.name)
