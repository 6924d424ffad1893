"""Fixed-window rate limits as published by BTC Turk (reference §7), counted in market time.

A window opens at the first call; calls beyond ``limit`` inside it block the key for ``block_s``.
Blocked calls get 429 with ``Retry-After`` (whole seconds, rounded up) and the documented body.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Rule:
    """One published limit: ``limit`` calls per ``period_s`` for a route, ``policy`` ip|account."""

    name: str
    method: str
    template: str
    limit: int
    period_s: int
    block_s: int
    policy: str

    @property
    def period_label(self) -> str:
        if self.period_s % 60 == 0:
            return f"{self.period_s // 60}m"
        return f"{self.period_s}s"


def _order(name: str, method: str, per_min: int, per_sec: int) -> tuple[Rule, Rule]:
    tpl = "/api/v1/order/{id}" if method == "GET" else "/api/v1/order"
    return (
        Rule(f"{name}-1m", method, tpl, per_min, 60, 60, "account"),
        Rule(f"{name}-1s", method, tpl, per_sec, 1, 1, "account"),
    )


PUBLISHED_RULES: tuple[Rule, ...] = (
    Rule("balances", "GET", "/api/v1/users/balances", 120, 60, 60, "ip"),
    *_order("order-post", "POST", 300, 10),
    *_order("order-delete", "DELETE", 300, 10),
    *_order("order-get", "GET", 900, 30),
    Rule("open-orders", "GET", "/api/v1/openorders", 300, 60, 60, "ip"),
    Rule("all-orders", "GET", "/api/v1/allorders", 300, 60, 60, "ip"),
    Rule("trades-v1", "GET", "/api/v1/trades", 90, 60, 60, "ip"),
    Rule("user-trades", "GET", "/api/v1/users/transactions/trade", 120, 60, 60, "ip"),
    Rule("ticker", "GET", "/api/v2/ticker", 600, 60, 60, "ip"),
    Rule("orderbook", "GET", "/api/v2/orderbook", 180, 60, 60, "ip"),
    Rule("ohlcs", "GET", "/v1/ohlcs", 120, 60, 60, "ip"),
    Rule("graph-all", "GET", "/v1/*", 600, 600, 600, "ip"),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A refusal: seconds to wait and the documented 429 body."""

    retry_after_s: int
    body: dict[str, Any]


@dataclass(slots=True)
class _Window:
    start: float
    count: int
    blocked_until: float


def _matches(rule: Rule, method: str, template: str) -> bool:
    if rule.method != method:
        return False
    if rule.template.endswith("/*"):
        return template.startswith(rule.template[:-1])
    return rule.template == template


class RateLimiter:
    """Thread-safe fixed-window limiter keyed by (rule, ip or api key)."""

    def __init__(self, rules: tuple[Rule, ...] = PUBLISHED_RULES) -> None:
        self._rules = rules
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def check(self, method: str, template: str, ip: str, account: str, now_s: float) -> Verdict | None:
        """Count this call; return a Verdict if it must be refused."""
        method = method.upper()
        with self._lock:
            for rule in self._rules:
                if not _matches(rule, method, template):
                    continue
                key = (rule.name, account if rule.policy == "account" else ip)
                window = self._windows.get(key)
                if window is not None and window.blocked_until > now_s:
                    return self._verdict(rule, window.blocked_until - now_s)
                if window is None or now_s >= window.start + rule.period_s:
                    window = _Window(now_s, 0, 0.0)
                    self._windows[key] = window
                window.count += 1
                if window.count > rule.limit:
                    window.blocked_until = now_s + rule.block_s
                    return self._verdict(rule, float(rule.block_s))
        return None

    @staticmethod
    def _verdict(rule: Rule, wait_s: float) -> Verdict:
        retry = max(1, math.ceil(wait_s - 1e-9))
        details = f"Quota exceeded. Maximum allowed: {rule.limit} per {rule.period_label}."
        if rule.policy == "account":
            details += f" Please try again in {retry} second(s)."
        body = {
            "message": "TOO_MANY_REQUESTS",
            "success": False,
            "code": 429,
            "details": details,
            "limit": str(rule.limit),
            "period": rule.period_label,
            "policy": rule.policy,
        }
        return Verdict(retry, body)
