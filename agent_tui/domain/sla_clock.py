"""Business-time arithmetic for SLA clocks. Pure: no I/O, no "now".

A :class:`Schedule` is a time zone, weekly open intervals per weekday (any
number a day, an interval may run past midnight: ``22:00-06:00``) and
holidays (local dates on which nothing counts). ``Schedule.always()`` is
24x7: every instant counts. Pauses (pending / on hold) are UTC intervals
that never count either.

Open intervals are built on local wall-clock times and converted to UTC
through ``zoneinfo``, so a 09:00-17:00 day is 8 business hours on a 23-hour
or a 25-hour day alike; an interval that starts in a spring-forward gap is
shifted the way ``zoneinfo`` resolves the wall time (fold=0). Durations are
``timedelta`` (exact microseconds); the ``*_minutes`` helpers wrap them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ``add`` looks ahead before it gives up (a schedule with no open time).
MAX_SEARCH_DAYS = 3 * 366
ZERO = timedelta(0)

Interval = tuple[datetime, datetime]


def _parse_hhmm(text: str) -> int:
    hh, sep, mm = text.strip().partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and len(mm) == 2):
        raise ValueError(f"not a time of day: {text!r} (use HH:MM)")
    hours, minutes = int(hh), int(mm)
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        raise ValueError(f"not a time of day: {text!r} (use HH:MM)")
    return hours * 60 + minutes


def parse_span(text: str) -> tuple[int, int]:
    """``"09:00-17:00"`` -> minutes from local midnight; an end at or before
    the start runs into the next day (``"22:00-06:00"`` is 8 hours)."""
    start_s, sep, end_s = text.partition("-")
    if not sep:
        raise ValueError(f"not an interval: {text!r} (use HH:MM-HH:MM)")
    start, end = _parse_hhmm(start_s), _parse_hhmm(end_s)
    if end <= start:
        end += 1440
    return start, end


def format_span(span: tuple[int, int]) -> str:
    start, end = span
    end %= 1440
    return f"{start // 60:02d}:{start % 60:02d}-{(end or 1440) // 60:02d}:{end % 60:02d}"


@dataclass(frozen=True)
class Schedule:
    """When SLA time counts. ``week`` is ``None`` for 24x7."""

    tz: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...] | None
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.week is None:
            return
        if len(self.week) != 7:
            raise ValueError("a week has 7 days")
        if not any(self.week):
            raise ValueError("business hours need at least one open interval")
        for spans in self.week:
            for start, end in spans:
                if not (0 <= start < end <= start + 1440):
                    raise ValueError(f"bad interval {format_span((start, end))}")

    @classmethod
    def always(cls) -> Schedule:
        return cls(tz=ZoneInfo("UTC"), week=None)

    @classmethod
    def weekly(cls, tz: str, days: Mapping[str, Sequence[str]],
               holidays: Iterable[date] = ()) -> Schedule:
        """``days`` maps ``mon``..``sun`` to spans like ``"09:00-17:00"``."""
        unknown = set(days) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown day(s): {', '.join(sorted(unknown))}")
        week = tuple(tuple(sorted(parse_span(s) for s in days.get(d, ()))) for d in DAYS)
        return cls(tz=ZoneInfo(tz), week=week, holidays=frozenset(holidays))

    @classmethod
    def from_stored(cls, tz: str, schedule_json: str, holidays: Iterable[date] = ()) -> Schedule:
        """The ``business_hours.schedule`` JSON: ``{"mon": ["09:00", "17:00"]}`` (one
        interval) or ``{"mon": ["09:00-12:00", "13:00-17:00"]}`` (several)."""
        raw = json.loads(schedule_json or "{}")
        days: dict[str, list[str]] = {}
        for day, value in raw.items():
            items = list(value)
            if len(items) == 2 and all("-" not in str(v) for v in items):
                days[day] = [f"{items[0]}-{items[1]}"]
            else:
                days[day] = [str(v) for v in items]
        return cls.weekly(tz, days, holidays)

    def to_stored(self) -> str:
        if self.week is None:
            return "{}"
        return json.dumps({d: [format_span(s) for s in spans]
                           for d, spans in zip(DAYS, self.week, strict=True) if spans})

    @property
    def is_24x7(self) -> bool:
        return self.week is None


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("naive datetime: SLA clocks need timezone-aware times")
    return t.astimezone(UTC)


def _wall(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(0)) + timedelta(minutes=minutes)
    return local.replace(tzinfo=tz).astimezone(UTC)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """``intervals`` minus ``holes``; both sorted and merged."""
    out: list[Interval] = []
    j = 0
    for start, end in intervals:
        while j < len(holes) and holes[j][1] <= start:
            j += 1
        k, cur = j, start
        while k < len(holes) and holes[k][0] < end:
            if holes[k][0] > cur:
                out.append((cur, holes[k][0]))
            cur = max(cur, holes[k][1])
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def _day_intervals(schedule: Schedule, day: date) -> list[Interval]:
    """Open UTC intervals of spans that start on local ``day``, holidays removed."""
    assert schedule.week is not None
    spans = schedule.week[day.weekday()]
    found = [(_wall(day, s, schedule.tz), _wall(day, e, schedule.tz)) for s, e in spans]
    return _merge(found)


def _holiday_intervals(schedule: Schedule, first: date, last: date) -> list[Interval]:
    return _merge((_wall(d, 0, schedule.tz), _wall(d, 1440, schedule.tz))
                  for d in schedule.holidays if first <= d <= last)


def _open_between(schedule: Schedule, t0: datetime, t1: datetime) -> list[Interval]:
    """Merged open UTC intervals clipped to ``[t0, t1)`` (both UTC)."""
    if schedule.week is None:
        return [(t0, t1)] if t0 < t1 else []
    first = t0.astimezone(schedule.tz).date() - timedelta(days=2)
    last = t1.astimezone(schedule.tz).date() + timedelta(days=1)
    found: list[Interval] = []
    day = first
    while day <= last:
        found.extend(_day_intervals(schedule, day))
        day += timedelta(days=1)
    merged = _subtract(_merge(found), _holiday_intervals(schedule, first, last + timedelta(1)))
    return [(max(s, t0), min(e, t1)) for s, e in merged if e > t0 and s < t1]


def _pauses(pauses: Iterable[Interval]) -> list[Interval]:
    return _merge((_utc(s), _utc(e)) for s, e in pauses)


def business_between(schedule: Schedule, t0: datetime, t1: datetime,
                     pauses: Iterable[Interval] = ()) -> timedelta:
    """Business time in ``[t0, t1)``, pauses excluded; zero when ``t1 <= t0``."""
    a, b = _utc(t0), _utc(t1)
    if b <= a:
        return ZERO
    counted = _subtract(_open_between(schedule, a, b), _pauses(pauses))
    return sum((e - s for s, e in counted), ZERO)


def _windows(schedule: Schedule, start: datetime) -> Iterator[list[Interval]]:
    """Open intervals from ``start`` on, a few days at a time, for ``add``."""
    step = timedelta(days=7)
    lo = start
    for _ in range(MAX_SEARCH_DAYS // 7 + 1):
        hi = lo + step
        yield _open_between(schedule, lo, hi)
        lo = hi
    raise ValueError("no business time within the search horizon")


def add_business(schedule: Schedule, t: datetime, amount: timedelta,
                 pauses: Iterable[Interval] = ()) -> datetime:
    """The instant at which ``amount`` of business time after ``t`` has passed.

    ``amount == 0`` returns ``t`` itself; otherwise the result lies at the
    end of counted time (never inside a closed period or a pause), so
    ``business_between(t, add_business(t, x)) == x``.
    """
    start = _utc(t)
    if amount < ZERO:
        raise ValueError("cannot add negative business time")
    if amount == ZERO:
        return start
    holes = _pauses(pauses)
    left = amount
    for window in _windows(schedule, start):
        for s, e in _subtract(window, holes):
            if e - s >= left:
                return s + left
            left -= e - s
    raise AssertionError("unreachable")  # pragma: no cover


def minutes_between(schedule: Schedule, t0: datetime, t1: datetime,
                    pauses: Iterable[Interval] = ()) -> float:
    """Business minutes in ``[t0, t1)``."""
    return business_between(schedule, t0, t1, pauses) / timedelta(minutes=1)


def add_minutes(schedule: Schedule, t: datetime, minutes: float,
                pauses: Iterable[Interval] = ()) -> datetime:
    """``t`` plus ``minutes`` business minutes."""
    return add_business(schedule, t, timedelta(minutes=minutes), pauses)
