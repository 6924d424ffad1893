"""A compact, append-only ``(time, value)`` series: the backtest's per-bar curves.

A year of 1-minute bars is 525,600 points per curve. As a list of ``(datetime, Decimal)`` tuples
a point costs ~230 bytes (tuple, datetime, Decimal, list slot); here it costs the Decimal plus
16 bytes (the time as integer microseconds since the epoch in an ``array('q')``, one list slot).
Reading a point builds its tuple and datetime again (equal to the appended ones: same instant,
same ``tzinfo`` object), so it reads like the list it replaces: ``len``, indexing (negative too),
slices (as tuples), iteration, ``==`` with any sequence of pairs.

Every time of one series must carry the same ``tzinfo`` object (the backtest's are all UTC).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import overload

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

Point = tuple[datetime, Decimal]


class TimeSeries(Sequence[Point]):
    """Append-only ``(aware datetime, Decimal)`` points, stored compactly (see module doc)."""

    __slots__ = ("_times", "_values", "_tz")

    def __init__(self, points: Iterable[Point] = ()) -> None:
        self._times = array("q")
        self._values: list[Decimal] = []
        self._tz: tzinfo | None = None
        for point in points:
            self.append(point)

    def append(self, point: Point) -> None:
        when, value = point
        zone = when.tzinfo
        if self._tz is None:
            if zone is None or when.utcoffset() is None:
                raise ValueError("TimeSeries times must be timezone-aware")
            self._tz = zone
        elif zone is not self._tz:
            raise ValueError("every time of a TimeSeries must carry the same tzinfo")
        self._times.append((when - _EPOCH) // _MICRO)
        self._values.append(value)

    def _time(self, index: int) -> datetime:
        return (_EPOCH + self._times[index] * _MICRO).astimezone(self._tz)

    def time_at(self, index: int) -> datetime:
        """The time of point ``index`` (without building the pair)."""
        return self._time(index)

    def value_at(self, index: int) -> Decimal:
        return self._values[index]

    @property
    def values(self) -> Sequence[Decimal]:
        """The values, in order (the stored list: read it, do not change it)."""
        return self._values

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Point, ...]: ...

    def __getitem__(self, index: int | slice) -> Point | tuple[Point, ...]:
        if isinstance(index, slice):
            return tuple((self._time(i), self._values[i]) for i in range(*index.indices(len(self._values))))
        return self._time(index), self._values[index]

    def __iter__(self) -> Iterator[Point]:
        zone = self._tz
        for micros, value in zip(self._times, self._values, strict=True):
            yield (_EPOCH + micros * _MICRO).astimezone(zone), value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TimeSeries):
            return self._values == other._values and self._times == other._times and (
                not self._values or self._tz == other._tz)
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TimeSeries({len(self)} points)"


def times_of(curve: Sequence[Point]) -> Iterator[datetime]:
    """The times of ``curve`` (a TimeSeries or any sequence of pairs), one at a time."""
    if isinstance(curve, TimeSeries):
        return (curve.time_at(i) for i in range(len(curve)))
    return (when for when, _ in curve)


__all__ = ["Point", "TimeSeries", "times_of"]
