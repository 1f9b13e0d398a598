"""Properties of the pure business-time clock (agent_tui.domain.sla_clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_tui.domain.sla_clock import (
    Schedule,
    add_business,
    add_minutes,
    business_between,
    minutes_between,
    parse_span,
)

ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "UTC", "Asia/Shanghai")
H = timedelta(hours=1)


def office(tz: str, holidays: tuple[date, ...] = ()) -> Schedule:
    weekdays = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    return Schedule.weekly(tz, weekdays, holidays)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    if draw(st.integers(0, 5)) == 0:
        return Schedule.always()
    tz = draw(st.sampled_from(ZONES))
    days: dict[str, list[str]] = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        n = draw(st.integers(0, 2))
        starts = sorted(draw(st.lists(st.integers(0, 23), min_size=n, max_size=n, unique=True)))
        spans = []
        for i, s in enumerate(starts):
            limit = starts[i + 1] if i + 1 < len(starts) else s + 12
            e = draw(st.integers(s + 1, max(s + 1, limit)))
            spans.append(f"{s:02d}:00-{e % 24:02d}:00")
        if spans:
            days[day] = spans
    if not days:
        days["mon"] = ["09:00-17:00"]
    holidays = draw(st.lists(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=20))
    return Schedule.weekly(tz, days, holidays)


instants = st.datetimes(datetime(2025, 1, 1), datetime(2027, 6, 30)).map(
    lambda d: d.replace(tzinfo=UTC))
amounts = st.integers(0, 60 * 24 * 20).map(lambda m: timedelta(minutes=m))


@st.composite
def pause_lists(draw: st.DrawFn, around: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        start = around + timedelta(minutes=draw(st.integers(-600, 60 * 24 * 10)))
        out.append((start, start + timedelta(minutes=draw(st.integers(1, 60 * 24 * 3)))))
    return out


@settings(max_examples=150, deadline=None)
@given(schedules(), instants, amounts, st.data())
def test_add_then_elapsed_round_trips(sched: Schedule, t: datetime, amount: timedelta,
                                      data: st.DataObject) -> None:
    pauses = data.draw(pause_lists(t))
    due = add_business(sched, t, amount, pauses)
    assert due.tzinfo is UTC
    assert due >= t
    assert business_between(sched, t, due, pauses) == amount


@settings(max_examples=150, deadline=None)
@given(schedules(), instants, st.integers(0, 60 * 24 * 15), st.integers(0, 60 * 24 * 15))
def test_elapsed_is_monotonic_and_additive(sched: Schedule, t: datetime, a: int, b: int) -> None:
    t1 = t + timedelta(minutes=a)
    t2 = t1 + timedelta(minutes=b)
    first, second = business_between(sched, t, t1), business_between(sched, t1, t2)
    assert first <= t1 - t and second <= t2 - t1
    assert business_between(sched, t, t2) == first + second


@settings(max_examples=150, deadline=None)
@given(schedules(), instants, amounts, amounts)
def test_add_is_monotonic_in_amount(sched: Schedule, t: datetime, a: timedelta,
                                    b: timedelta) -> None:
    lo, hi = sorted((a, b))
    assert add_business(sched, t, lo) <= add_business(sched, t, hi)


@settings(max_examples=150, deadline=None)
@given(schedules(), instants, st.integers(1, 60 * 24 * 10), st.data())
def test_pauses_never_count(sched: Schedule, t: datetime, minutes: int,
                            data: st.DataObject) -> None:
    pauses = data.draw(pause_lists(t))
    end = t + timedelta(minutes=minutes)
    with_pauses = business_between(sched, t, end, pauses)
    assert with_pauses <= business_between(sched, t, end)
    for start, stop in pauses:
        assert business_between(sched, max(start, t), min(stop, end) if stop > t else t,
                                pauses) == timedelta(0)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_holidays_and_weekends_never_count(tz: str, day: date) -> None:
    sched = office(tz, holidays=(day,))
    zone = ZoneInfo(tz)
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    assert business_between(sched, start, end) == timedelta(0)
    monday = day - timedelta(days=day.weekday())
    sat = datetime.combine(monday + timedelta(days=5), datetime.min.time(), zone)
    mon = datetime.combine(monday + timedelta(days=7), datetime.min.time(), zone)
    assert business_between(sched, sat.astimezone(UTC), mon.astimezone(UTC)) == timedelta(0)


@pytest.mark.parametrize(("tz", "day", "hours"), [
    ("Europe/London", date(2026, 3, 29), 23),     # spring forward: a 23-hour day
    ("Europe/London", date(2026, 10, 25), 25),    # fall back: a 25-hour day
    ("America/New_York", date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 11, 1), 25),
    ("Australia/Sydney", date(2026, 4, 5), 25),   # southern hemisphere: April falls back
    ("Australia/Sydney", date(2026, 10, 4), 23),
])
def test_dst_days_count_wall_clock_hours(tz: str, day: date, hours: int) -> None:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    assert end - start == hours * H
    assert business_between(Schedule.always(), start, end) == hours * H
    # A 09:00-17:00 day is 8 business hours whatever the day's length (a Sunday here).
    sunday = Schedule.weekly(tz, {day.strftime("%a").lower(): ["09:00-17:00"]})
    assert business_between(sunday, start, end) == 8 * H
    opens = datetime.combine(day, datetime.min.time(), zone).replace(hour=9).astimezone(UTC)
    assert add_business(sunday, start, 8 * H) == opens + 8 * H


def test_overnight_spans_and_worked_example() -> None:
    assert parse_span("22:00-06:00") == (22 * 60, 30 * 60)
    night = Schedule.weekly("UTC", {"mon": ["22:00-06:00"]})
    mon = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)  # a Monday
    assert minutes_between(night, mon, mon + 10 * H) == 8 * 60
    # Friday 16:00 London + 2 business hours = Monday 10:00 (Mon 09:00-17:00 office).
    sched = office("Europe/London")
    fri = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert add_minutes(sched, fri, 120) == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    # ... unless Monday is a holiday.
    hol = office("Europe/London", holidays=(date(2026, 11, 30),))
    assert add_minutes(hol, fri, 120) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_stored_forms_round_trip_and_bad_input_is_refused() -> None:
    sched = Schedule.from_stored("Europe/Berlin", '{"mon": ["09:00", "17:00"], '
                                 '"tue": ["08:00-12:00", "13:00-17:00"]}')
    again = Schedule.from_stored("Europe/Berlin", sched.to_stored())
    assert again == sched
    with pytest.raises(ValueError):
        Schedule.weekly("UTC", {})
    with pytest.raises(ValueError):
        parse_span("9-5pm")
    with pytest.raises(ValueError):
        business_between(Schedule.always(), datetime(2026, 1, 1), datetime(2026, 1, 2))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.one_of(st.none(), st.integers(0, 10**11)),
       st.sampled_from(["active", "paused", "ended"]), st.integers(0, 10**11),
       st.integers(1, 10**11), st.integers(1, 10**10), st.one_of(st.none(),
                                                                  st.integers(1, 10**10)),
       st.integers(1, 10**10))
def test_fast_24x7_flags_match_bootstrap_and_read(
        created: int, fr_after: int | None, kind: str, activity_after: int, now_after: int,
        first: int, nxt: int | None, res: int) -> None:
    from agent_tui.domain.sla_state import Targets, bootstrap, bootstrap_due, flags_24x7, read

    epoch = datetime(2020, 1, 1, tzinfo=UTC)
    us = timedelta(microseconds=1)
    now = created + now_after + activity_after + (fr_after or 0)
    first_response = created + fr_after if fr_after is not None else None
    activity = max(first_response or created, created + activity_after)
    ended = activity if kind == "ended" else None
    fast = flags_24x7(created=created, first_response=first_response, ended=ended,
                      last_activity=activity, paused=kind == "paused", now=now,
                      first_target=first, next_target=nxt, resolution_target=res)
    at = lambda v: epoch + v * us  # noqa: E731
    sched = Schedule.always()
    targets = Targets(first * us, nxt * us if nxt else None, res * us)
    state = bootstrap(sched, created_at=at(created),
                      first_response_at=at(first_response) if first_response is not None
                      else None, ended_at=at(ended) if ended is not None else None,
                      last_activity=at(activity), paused=kind == "paused", now=at(now),
                      has_next=True)
    readings = read(state, targets, sched, at(now),
                    known_due=bootstrap_due(sched, at(created), state, targets))
    live = [r for r in readings if r.running and not r.paused]
    assert fast.breached == any(r.breached for r in readings)
    assert fast.at_risk == any(r.at_risk for r in readings)
    dues = [r.due_at for r in live if r.due_at is not None]
    assert (at(fast.sla_due) if fast.sla_due is not None else None) == (min(dues) if dues
                                                                          else None)
