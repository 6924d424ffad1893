"""The exchange's clock, as this process knows it: stamps for ``X-Stamp`` and "now" on BTC Turk.

BTC Turk rejects stamps more than 5 s away from its clock, so the server time
(``GET /api/v2/server/time``) is measured and applied. Rules:

- One measurement is ONE attempt: the server is assumed to stamp its answer at the midpoint of
  that attempt's send and receive times, so the error is at most half the round trip. A retried
  call must never be measured as a whole (a timeout and a retry once made the offset ~5 s wrong).
  A round trip longer than ``max_round_trip_s`` is not trusted (the caller measures again).
- The exchange's "now" is the measured server time plus the MONOTONIC time elapsed since, so a
  wall clock that jumps (NTP step, an operator, a VM resume) cannot move it. When the wall
  clock and the monotonic clock disagree by more than ``jump_tolerance_s`` since the measurement,
  the measurement is re-taken (``needs_sync``) and, until it is, ``server_now`` is not trusted.
- Stamps are strictly increasing: a 2019 staff reply asked for a nonce different from the
  previous one, and "signature used before" is a listed 401 cause, so two requests in the same
  millisecond get consecutive stamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from btcbot.contracts.clock import Clock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Default longest round trip whose midpoint is trusted (error <= 0.5 s of the 5 s window).
DEFAULT_MAX_ROUND_TRIP_S = 1.0
#: Wall-versus-monotonic disagreement (s) that counts as a clock jump.
DEFAULT_JUMP_TOLERANCE_S = 2.0


def _wall_ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Instant:
    """One reading of both local clocks (wall ms and monotonic s)."""

    wall_ms: int
    mono_s: float


class TimeSync:
    """Holds the last measurement and the last stamp handed out (plain state, one per client)."""

    def __init__(
        self,
        clock: Clock,
        *,
        resync_after_s: float = 300.0,
        max_round_trip_s: float = DEFAULT_MAX_ROUND_TRIP_S,
        jump_tolerance_s: float = DEFAULT_JUMP_TOLERANCE_S,
    ) -> None:
        if max_round_trip_s <= 0 or jump_tolerance_s <= 0:
            raise ValueError("max_round_trip_s and jump_tolerance_s must be > 0")
        self._clock = clock
        self._resync_after_s = resync_after_s
        self.max_round_trip_s = max_round_trip_s
        self._jump_tolerance_ms = jump_tolerance_s * 1000
        self._server_ms = 0  # server time at the anchor
        self._anchor: Instant | None = None  # local clocks at the midpoint of the measurement
        self._offset_ms = 0  # server minus local wall at the measurement
        self._valid = False
        self._last_stamp = 0

    # ------------------------------------------------------------------ state

    @property
    def offset_ms(self) -> int:
        """Server time minus local wall time, in ms, as of now (positive: the server is ahead)."""
        if self._anchor is None:
            return self._offset_ms
        return self._server_now_ms() - _wall_ms(self._clock)

    @property
    def measured(self) -> bool:
        """True once any measurement was recorded (a stale offset beats no offset)."""
        return self._anchor is not None

    @property
    def trusted(self) -> bool:
        """A measurement exists and the local clocks have not jumped since it was taken."""
        return self._anchor is not None and not self.jumped()

    def jumped(self) -> bool:
        """The wall clock moved differently from the monotonic clock since the measurement (an
        NTP step, a manual change, a suspended machine)."""
        if self._anchor is None:
            return False
        wall = _wall_ms(self._clock) - self._anchor.wall_ms
        mono = (self._clock.monotonic() - self._anchor.mono_s) * 1000
        return abs(wall - mono) > self._jump_tolerance_ms

    def needs_sync(self) -> bool:
        """Before the first measurement, after ``invalidate``, when the measurement is old and
        when the local clocks jumped since it."""
        if self._anchor is None or not self._valid:
            return True
        if self._clock.monotonic() - self._anchor.mono_s >= self._resync_after_s:
            return True
        return self.jumped()

    def invalidate(self) -> None:
        """Force a new measurement before the next private call (e.g. after a stamp 401)."""
        self._valid = False

    # ------------------------------------------------------------------ measuring

    def mark(self) -> Instant:
        """Read both local clocks (before sending and after receiving one attempt)."""
        return Instant(_wall_ms(self._clock), self._clock.monotonic())

    def round_trip_s(self, sent: Instant, received: Instant) -> float:
        return max(0.0, received.mono_s - sent.mono_s)

    def acceptable(self, sent: Instant, received: Instant) -> bool:
        """Whether one attempt's round trip is short enough to trust its midpoint."""
        return self.round_trip_s(sent, received) <= self.max_round_trip_s

    def record(self, server_ms: int, sent: Instant, received: Instant) -> None:
        """Record ONE attempt: the server is assumed to stamp at the round trip's midpoint."""
        mid_wall = (sent.wall_ms + received.wall_ms) // 2
        self._anchor = Instant(mid_wall, (sent.mono_s + received.mono_s) / 2)
        self._server_ms = server_ms
        self._offset_ms = server_ms - mid_wall
        self._valid = True

    # ------------------------------------------------------------------ reading

    def _server_now_ms(self) -> int:
        assert self._anchor is not None
        return self._server_ms + round((self._clock.monotonic() - self._anchor.mono_s) * 1000)

    def server_now(self) -> datetime | None:
        """The exchange's current time, or None when no trusted measurement exists."""
        if not self.trusted:
            return None
        return _EPOCH + timedelta(milliseconds=self._server_now_ms())

    def now_ms(self) -> int:
        """Local wall time in ms."""
        return _wall_ms(self._clock)

    def next_stamp(self) -> int:
        """The next ``X-Stamp``: the exchange's time as best known, strictly increasing."""
        base = self._server_now_ms() if self._anchor is not None else _wall_ms(self._clock)
        stamp = max(base, self._last_stamp + 1)
        self._last_stamp = stamp
        return stamp
