"""Stamps for ``X-Stamp``: the injected clock corrected by the measured server-clock offset.

BTC Turk rejects stamps more than 5 s away from its clock, so the offset to ``serverTime`` is
measured (``GET /api/v2/server/time``) and applied. Stamps are strictly increasing: a 2019 staff
reply asked for a nonce different from the previous one, and "signature used before" is a listed
401 cause, so two requests in the same millisecond get consecutive stamps.
"""

from __future__ import annotations

from btcbot.contracts.clock import Clock


def _wall_ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


class TimeSync:
    """Holds the server offset and the last stamp handed out (plain state, one per client)."""

    def __init__(self, clock: Clock, *, resync_after_s: float = 300.0) -> None:
        self._clock = clock
        self._resync_after_s = resync_after_s
        self._offset_ms = 0
        self._synced_at: float | None = None
        self._measured = False
        self._last_stamp = 0

    @property
    def offset_ms(self) -> int:
        """server time minus local time, in ms (positive: the server is ahead)."""
        return self._offset_ms

    @property
    def measured(self) -> bool:
        """True once any measurement was recorded (a stale offset beats no offset)."""
        return self._measured

    def needs_sync(self) -> bool:
        """True before the first measurement, after ``invalidate`` and when the measurement is old."""
        if self._synced_at is None:
            return True
        return self._clock.monotonic() - self._synced_at >= self._resync_after_s

    def invalidate(self) -> None:
        """Force a new measurement before the next private call (e.g. after a 401)."""
        self._synced_at = None

    def record(self, server_ms: int, sent_wall_ms: int, received_wall_ms: int) -> None:
        """Record one measurement; the server is assumed to stamp at the round trip's midpoint."""
        midpoint = (sent_wall_ms + received_wall_ms) // 2
        self._offset_ms = server_ms - midpoint
        self._synced_at = self._clock.monotonic()
        self._measured = True

    def now_ms(self) -> int:
        """Local wall time in ms (for measuring a round trip)."""
        return _wall_ms(self._clock)

    def next_stamp(self) -> int:
        """The next ``X-Stamp``: corrected wall time, never equal to or below the previous stamp."""
        stamp = max(_wall_ms(self._clock) + self._offset_ms, self._last_stamp + 1)
        self._last_stamp = stamp
        return stamp
