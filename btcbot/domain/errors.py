"""The one error taxonomy (ARCHITECTURE.md section 6).

Every exception's docstring is its runbook entry: what it means and what the operator should do.
The runner maps each class to an action in one table (``btcbot.app.error_policy``); nothing else
decides what an error means. Exception text must never contain a secret: build messages from
endpoint names, field names and exchange error names only.
"""

from __future__ import annotations


class BtcbotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(BtcbotError):
    """Bad settings or command-line arguments.

    Operator: fix the named setting (``btcbot config check`` shows the effective values) and
    start again. Nothing was written. Exit code 2.
    """


class ExchangeError(BtcbotError):
    """Base of everything that comes back from (or fails to come back from) the exchange."""

    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(f"{endpoint}: {message}" if endpoint else message)
        self.endpoint = endpoint


class TransientError(ExchangeError):
    """Timeout, connection reset, 5xx or 429 on an idempotent request.

    Operator: nothing to do; reads are retried with backoff and the breaker opens if it persists.
    """


class RateLimited(TransientError):
    """HTTP 429 TOO_MANY_REQUESTS. ``retry_after_s`` comes from the Retry-After header.

    Operator: nothing unless it repeats; then lower the cycle cadence or stop other programs
    that use the same API key or IP.
    """

    def __init__(self, message: str, *, endpoint: str = "", retry_after_s: float = 1.0) -> None:
        super().__init__(message, endpoint=endpoint)
        self.retry_after_s = retry_after_s


class AmbiguousOutcome(ExchangeError):
    """A write (submit or cancel) whose result is unknown: it may or may not have reached the venue.

    Never a rejection and never retried blindly. The order goes to UNKNOWN and is resolved by
    looking its client order id up in open orders and all orders. Operator: nothing; if an order
    stays UNKNOWN run ``btcbot reconcile``.
    """


class ExchangeRejected(ExchangeError):
    """A definitive business error from the exchange (HTTP 4xx with success=false).

    ``error_name`` is the exchange's ``message`` (e.g. BALANCE_NOT_ENOUGH), ``code`` its numeric
    code. The order is recorded as REJECTED with both. Operator: read the name; repeated
    rejections usually mean the venue rules or balances changed.
    """

    def __init__(self, error_name: str, *, code: int | None = None, endpoint: str = "") -> None:
        super().__init__(f"{error_name} (code {code})", endpoint=endpoint)
        self.error_name = error_name
        self.code = code


class OrderNotFound(ExchangeRejected):
    """The exchange does not know this order id (``Order not found`` / NO_ORDER_MATCHES_YOUR_REQUEST)."""


class MaintenanceError(ExchangeError):
    """SYSTEM_UNDER_MAINTENANCE, ORDER_INSERT_BLOCKED or ORDER_CANCEL_BLOCKED (BTC Turk's own words).

    The endpoint group's breaker opens at once and the bot runs in safe mode (no new entries,
    exits allowed) until the cooldown passes. A bare HTTP 503 is NOT maintenance: it is a
    TransientError (reads) or AmbiguousOutcome (writes) and only counts toward the breaker's
    threshold. Operator: nothing; check BTC Turk's status page if long.
    """


class AuthError(ExchangeError):
    """HTTP 401 that blames the credentials (key, signature, permission, IP whitelist), or a 401
    that came back again after the server time was resynced.

    Never retried in a loop (repeated 401s get the IP blocked). Trading halts. Operator: check the
    key, its permissions (Total Funds, Trade, Account), the IP whitelist and the machine clock.
    """


class StampRejected(AuthError):
    """A 401 that blames the stamp (``Unauthorized - Invalid Nonce``) or gives no cause.

    A clock hiccup, not a revoked key: the client resyncs the server time and sends the request
    once more (BTC Turk authenticates before it reads a request, so even an order POST is safe to
    resend after a 401). Only when the 401 repeats does it reach the runner, as an AuthError
    (halt). Operator: nothing unless it repeats; then check the machine clock (NTP).
    """


class MalformedPayload(ExchangeError):
    """The exchange answered something we cannot parse: missing field, wrong type, non-JSON, HTML.

    Treated like a transient failure of that endpoint (reads) or an ambiguous outcome (writes).
    Operator: if it persists, the API changed; report the endpoint and field named here.
    """

    def __init__(self, endpoint: str, field: str, problem: str) -> None:
        super().__init__(f"field {field!r}: {problem}", endpoint=endpoint)
        self.field = field
        self.problem = problem


class CircuitOpen(ExchangeError):
    """A call was refused locally because its endpoint group's circuit breaker is open.

    Operator: nothing; the bot is in safe mode until the cooldown ends and a probe succeeds.
    """

    def __init__(self, group: str) -> None:
        super().__init__(f"circuit breaker for {group!r} is open", endpoint=group)
        self.group = group


class InvariantViolation(BtcbotError):
    """The ledger or the order state is inconsistent (postings do not balance, negative wallet ...).

    Trading moves to HALTED and an alert is sent. Operator: run ``btcbot reconcile``, read the
    journal for the named order or asset, repair, then ``btcbot resume``.
    """


class IllegalTransition(InvariantViolation):
    """An order event that the transition table does not allow from the order's current state."""


class LeaseHeld(BtcbotError):
    """Another btcbot process holds the instance lease. Exit code 75; nothing was changed.

    Operator: nothing if a cron run overlapped; otherwise stop the other process (named here).
    """


class LeaseLost(BtcbotError):
    """This process lost its lease (fencing token superseded); its writes are refused.

    Operator: make sure only one bot runs against this database.
    """
