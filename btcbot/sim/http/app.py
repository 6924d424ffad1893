"""SimApp: routes BTC Turk-shaped requests to the engine, with auth, rate limits and faults.

Transport-neutral (``Request`` -> ``Response``); ``server.py`` binds it to ``http.server``. Every
non-admin request first brings the engine up to the market clock, so wall mode needs no thread.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btcbot.sim.clock import SimClock
from btcbot.sim.config import SimConfig
from btcbot.sim.engine.exchange import SimExchange
from btcbot.sim.engine.orders import SimReject
from btcbot.sim.faults import FaultRegistry, FaultSpec
from btcbot.sim.http import auth, wire
from btcbot.sim.http.request import BadParam, Request, Response
from btcbot.sim.mutation import mutate
from btcbot.sim.ratelimit import RateLimiter

Handler = Callable[[Request, "CallContext"], Response]

_HTML_5XX = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
_MAINTENANCE = {
    "SYSTEM_UNDER_MAINTENANCE": (503, 1112),  # sim codes: the reference documents names only
    "ORDER_INSERT_BLOCKED": (400, 1113),
    "ORDER_CANCEL_BLOCKED": (400, 1114),
}


@dataclass(slots=True)
class CallContext:
    """Per-call values derived from the path and from fired faults."""

    match: re.Match[str]
    visibility_delay_s: float = 0.0
    ticker_lag_s: float = 0.0


class Counters:
    """Thread-safe request and fault counts since start (or the last ``reset``); admin routes excluded.

    ``faulted`` counts requests on which at least one fault fired; ``replies`` the reply classes
    applied by ``mutate`` faults (``unchanged`` when a field class found nothing to change).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.private_requests = 0
            self.faulted = 0
            self.by_route: Counter[str] = Counter()
            self.faulted_by_route: Counter[str] = Counter()
            self.kinds: Counter[str] = Counter()
            self.replies: Counter[str] = Counter()
            self.route_replies: Counter[str] = Counter()

    def record(self, method: str, template: str, fired: list[FaultSpec], reply: str | None, private: bool) -> None:
        route = f"{method} {template}"
        with self._lock:
            self.requests += 1
            self.private_requests += int(private)
            self.by_route[route] += 1
            if fired:
                self.faulted += 1
                self.faulted_by_route[route] += 1
            self.kinds.update(f.kind for f in fired)
            if reply is not None:
                self.replies[reply] += 1
                self.route_replies[f"{route} {reply}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "private_requests": self.private_requests,
                "faulted": self.faulted,
                "by_route": dict(self.by_route),
                "faulted_by_route": dict(self.faulted_by_route),
                "kinds": dict(self.kinds),
                "replies": dict(self.replies),
                "route_replies": dict(self.route_replies),
            }


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler
    private: bool


class SimApp:
    """The simulator behind the HTTP server; thread-safe (one engine lock)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = SimClock(config.start_time, config.clock_mode, config.speed)
        self.engine = SimExchange(config.engine_config(), self.clock.now_ms())
        self.lock = threading.RLock()
        self.faults = FaultRegistry(config.seed)
        self.limiter = RateLimiter() if config.rate_limits else None
        self.request_log: deque[dict[str, Any]] = deque(maxlen=config.request_log_size)
        self.counters = Counters()
        self._mutation_rng = random.Random(f"{config.seed}:mutations")  # noqa: S311 - seeded faults
        self.stop_event = threading.Event()
        from btcbot.sim.http import admin, routes  # local: both modules import SimApp's types

        self._routes = routes.build(self) + admin.build(self)

    # ---------------------------------------------------------------- plumbing
    def sync(self) -> int:
        """Bring the engine to the market clock; returns now (ms). Caller holds ``lock``."""
        now = self.clock.now_ms()
        self.engine.advance_to(now)
        return self.engine.now_ms

    def _find(self, method: str, path: str) -> tuple[Route | None, re.Match[str] | None, bool]:
        lowered = path.rstrip("/").lower() or "/"
        path_known = False
        for route in self._routes:
            m = route.pattern.fullmatch(lowered)
            if m is None:
                continue
            path_known = True
            if route.method == method:
                return route, m, True
        return None, None, path_known

    def handle(self, req: Request) -> Response:
        route, match, path_known = self._find(req.method, req.path)
        if route is None or match is None:
            resp = Response(405 if path_known else 404, raw=b"")
            self._log(req, "?", resp, [])
            return resp
        if route.template.startswith("/__sim/"):
            resp = self._guarded(route, req, CallContext(match))
            return resp
        fired = self.faults.fire(req.method, route.template)
        resp = self._handle_with_faults(route, req, CallContext(match), fired)
        applied = next((f.reply for f in fired if f.kind == "mutate"), None)
        if applied is not None:
            # The request has taken effect (or been refused); now the answer is replaced.
            spec = next(f for f in fired if f.kind == "mutate")
            with self.lock:
                resp, applied = mutate(applied, resp, self._mutation_rng, spec.seconds, spec.field)
        self.counters.record(req.method, route.template, fired, applied, route.private)
        self._log(req, route.template, resp, fired, applied)
        return resp

    def _handle_with_faults(
        self, route: Route, req: Request, ctx: CallContext, fired: list[FaultSpec]
    ) -> Response:
        for f in fired:
            if f.kind == "latency":
                self.stop_event.wait(f.seconds)
        for f in fired:
            if f.kind == "rate_limit":
                retry = max(1, round(f.seconds))
                body = {
                    "message": "TOO_MANY_REQUESTS",
                    "success": False,
                    "code": 429,
                    "details": f"Quota exceeded. Please try again in {retry} second(s).",
                    "limit": "0",
                    "period": "1m",
                    "policy": "ip",
                }
                return Response(429, body, headers={"Retry-After": str(retry)})
            if f.kind == "error":
                if f.status == 500:
                    return Response(500, wire.fail("INTERNAL_SERVER_ERROR", 500))
                text = _HTML_5XX[f.status]
                html = (
                    f"<html><head><title>{f.status} {text}</title></head><body><h1>{text}</h1></body></html>"
                )
                return Response(f.status, raw=html.encode(), content_type="text/html")
            if f.kind == "maintenance":
                status, code = _MAINTENANCE[f.message]
                return Response(status, wire.fail(f.message, code))
            if f.kind == "visibility_delay":
                ctx.visibility_delay_s = max(ctx.visibility_delay_s, f.seconds)
            if f.kind == "stale_ticker":
                ctx.ticker_lag_s = max(ctx.ticker_lag_s, f.seconds)
        if self.limiter is not None:
            with self.lock:
                now_s = self.clock.monotonic()
            verdict = self.limiter.check(
                req.method, route.template, req.client_ip, req.headers.get("x-pck") or req.client_ip, now_s
            )
            if verdict is not None:
                return Response(429, verdict.body, headers={"Retry-After": str(verdict.retry_after_s)})
        timeout = next((f for f in fired if f.kind == "timeout"), None)
        if timeout is not None and not timeout.process:
            return Response(drop=True, hang_s=timeout.seconds)
        resp = self._guarded(route, req, ctx)
        if timeout is not None:
            return Response(drop=True, hang_s=timeout.seconds)
        if any(f.kind == "ghost" for f in fired):
            return Response(drop=True)
        return resp

    def _guarded(self, route: Route, req: Request, ctx: CallContext) -> Response:
        try:
            if route.private:
                denied = self._authenticate(req)
                if denied is not None:
                    # Observed 2019 body: success:true with code 1037 on a 401 (reference §2).
                    return Response(401, {"success": True, "message": denied, "code": 1037})
            with self.lock:
                if not route.template.startswith("/__sim/"):
                    self.sync()
                return route.handler(req, ctx)
        except SimReject as exc:
            return Response(exc.http_status, wire.fail(exc.message, exc.code))
        except BadParam as exc:
            return Response(400, wire.fail(exc.message, exc.code))

    def _authenticate(self, req: Request) -> str | None:
        mode = self.config.effective_auth_clock  # "sim" unless a test asked otherwise

        def candidates() -> tuple[int, ...]:
            sim_now = self.clock.now_ms()
            wall_now = int(time.time() * 1000)
            if mode == "sim":
                return (sim_now,)
            if mode == "wall":
                return (wall_now,)
            return (sim_now, wall_now)

        return auth.verify(
            req.headers,
            api_key=self.config.api_key,
            api_secret=self.config.api_secret,
            now_ms_candidates=candidates,
            window_s=self.config.stamp_window_s,
        )

    def _log(
        self, req: Request, template: str, resp: Response, fired: list[FaultSpec], reply: str | None = None
    ) -> None:
        entry = {
            "at_ms": self.clock.now_ms(),
            "method": req.method,
            "path": req.path,
            "route": template,
            "query": {k: v for k, v in req.query.items()},
            "status": None if resp.drop else resp.status,
            "dropped": resp.drop,
            "faults": [f.kind for f in fired],
            "reply": reply,
        }
        with self.lock:
            self.request_log.append(entry)

    @staticmethod
    def json_body(req: Request) -> Any:
        """Parse a JSON body with Decimal for every non-integer number."""
        if not req.body:
            return {}
        try:
            return json.loads(req.body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise BadParam("FAILED_ORDER_PARAMETER") from None
