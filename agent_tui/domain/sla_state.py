"""A ticket's three SLA clocks as pure state: start, stop, pause, read.

All clocks of a ticket share one business-time *counter* (how much
business time the ticket has been active: open and not pending/on hold).
A clock is a start position on that counter, a stop position once it has
stopped, and whether its breach has been recorded. Pausing the ticket stops
the counter, so pauses cost nothing to store and never count.

* first response: starts at creation, stops at the first public agent reply
  (or when the ticket is solved unanswered);
* next response: (re)starts at every public agent reply and when the
  customer writes or the ticket reopens after a first response, stops when
  the ticket is solved;
* resolution: starts at creation, stops when solved, restarts on reopen.

``services.sla`` maps this to the ``ticket_sla`` row; the demo generator
and ``bootstrap`` use it without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent_tui.domain.sla_clock import ZERO, Schedule, add_business, business_between

FIRST, NEXT, RESOLUTION = "first_response", "next_response", "resolution"
CLOCKS = (FIRST, NEXT, RESOLUTION)
#: Share of a target used at which a clock is "at risk", unless configured.
DEFAULT_RISK_RATIO = 0.8


@dataclass
class Clock:
    start: timedelta | None = None
    stop: timedelta | None = None
    breached: bool = False

    @property
    def running(self) -> bool:
        return self.start is not None and self.stop is None

    def restart(self, at: timedelta) -> None:
        self.start, self.stop, self.breached = at, None, False

    def halt(self, at: timedelta) -> None:
        if self.running:
            self.stop = at


@dataclass
class State:
    counter: timedelta = ZERO
    segment_start: datetime | None = None
    clocks: dict[str, Clock] = field(default_factory=lambda: {c: Clock() for c in CLOCKS})

    def counter_at(self, sched: Schedule, now: datetime) -> timedelta:
        if self.segment_start is None or now <= self.segment_start:
            return self.counter
        return self.counter + business_between(sched, self.segment_start, now)

    def roll(self, sched: Schedule, now: datetime, *, active: bool) -> None:
        """Bank the running segment up to ``now``; run on from ``now`` if ``active``."""
        self.counter = self.counter_at(sched, now)
        if not active:
            self.segment_start = None
        elif self.segment_start is None or now > self.segment_start:
            # never move a segment back: an earlier "now" must not count twice
            self.segment_start = now


@dataclass(frozen=True)
class Targets:
    first_response: timedelta
    next_response: timedelta | None
    resolution: timedelta

    def of(self, clock: str) -> timedelta | None:
        return {FIRST: self.first_response, NEXT: self.next_response,
                RESOLUTION: self.resolution}[clock]

    @classmethod
    def minutes(cls, first: int, nxt: int | None, resolution: int) -> Targets:
        return cls(timedelta(minutes=first),
                   timedelta(minutes=nxt) if nxt else None, timedelta(minutes=resolution))


@dataclass(frozen=True)
class Reading:
    """One clock at one instant."""

    clock: str
    target: timedelta
    used: timedelta
    due_at: datetime | None
    running: bool  # started and not stopped (it may be paused)
    paused: bool
    at_risk: bool
    breached: bool
    risk_at: datetime | None  # when it will become at risk, if it runs on

    @property
    def used_pct(self) -> float:
        return 100.0 * (self.used / self.target) if self.target else 100.0


def read(state: State, targets: Targets, sched: Schedule, now: datetime, *,
         risk_ratio: float = DEFAULT_RISK_RATIO,
         known_due: dict[str, datetime | None] | None = None) -> list[Reading]:
    """Every started clock with a target. ``known_due`` gives the due times
    stored before, for clocks whose due moment cannot be recomputed (paused,
    stopped or breached before the current segment)."""
    known = known_due or {}
    counter = state.counter_at(sched, now)
    active = state.segment_start is not None
    out: list[Reading] = []
    for name in CLOCKS:
        clock, target = state.clocks[name], targets.of(name)
        if clock.start is None or target is None:
            continue
        used = (clock.stop if clock.stop is not None else counter) - clock.start
        used = max(used, ZERO)
        live = clock.running and active
        risk_at = None
        if live and used < target:
            due: datetime | None = add_business(sched, now, target - used)
            risk_left = target * risk_ratio - used
            if risk_left > ZERO:
                risk_at = add_business(sched, now, risk_left)
        elif live and state.segment_start is not None and state.counter - clock.start < target:
            # Breached inside the running segment: its due moment is recomputable.
            banked = max(state.counter - clock.start, ZERO)
            due = add_business(sched, state.segment_start, target - banked)
        else:
            due = known.get(name)
        breached = clock.breached or used >= target
        out.append(Reading(
            clock=name, target=target, used=used, due_at=due, running=clock.running,
            paused=clock.running and not active,
            at_risk=clock.running and not breached and used >= target * risk_ratio,
            breached=breached, risk_at=risk_at))
    return out


def bootstrap(sched: Schedule, *, created_at: datetime, first_response_at: datetime | None,
              ended_at: datetime | None, last_activity: datetime, paused: bool,
              now: datetime, has_next: bool) -> State:
    """Clocks for a ticket that has no SLA state yet (demo, import), from its timestamps.

    Pause history is unknown: a pending/on-hold ticket is taken as paused
    since its last activity, a solved one as stopped at ``ended_at``, and
    the next-response clock as running since the last activity.
    """
    def pos(t: datetime) -> timedelta:
        return business_between(sched, created_at, t)

    state = State()
    if ended_at is not None:
        counter, active = pos(ended_at), False
    elif paused:
        counter, active = pos(max(last_activity, created_at)), False
    else:
        counter, active = pos(now), True
    state.counter = counter
    state.segment_start = now if active else None
    state.clocks[FIRST].start = ZERO
    state.clocks[RESOLUTION].start = ZERO
    if first_response_at is not None:
        state.clocks[FIRST].stop = min(pos(first_response_at), counter)
        if has_next:
            start = min(pos(max(first_response_at, last_activity)), counter)
            state.clocks[NEXT].start = start
    if ended_at is not None:
        for clock in state.clocks.values():
            clock.halt(counter)
    return state


def bootstrap_due(sched: Schedule, created_at: datetime, state: State,
                  targets: Targets) -> dict[str, datetime | None]:
    """Due instants of a bootstrapped state (no pauses before its counter)."""
    out: dict[str, datetime | None] = {}
    for name in CLOCKS:
        clock, target = state.clocks[name], targets.of(name)
        if clock.start is not None and target is not None:
            out[name] = add_business(sched, created_at, clock.start + target)
    return out


@dataclass(frozen=True)
class Flags:
    """Due times (µs since the epoch) and flags, as the ticket columns hold them."""

    first_response_due: int
    next_response_due: int | None
    resolution_due: int
    sla_due: int | None
    check_at: int | None
    at_risk: bool
    breached: bool


def flags_24x7(*, created: int, first_response: int | None, ended: int | None,
               last_activity: int, paused: bool, now: int, first_target: int,
               next_target: int | None, resolution_target: int,
               risk_ratio: float = DEFAULT_RISK_RATIO) -> Flags:
    """:func:`bootstrap` then :func:`read` for a 24x7 policy, in integer µs.

    The demo generator fills a million tickets with this (no datetimes, no
    zone maths); a property test holds it equal to the general path, so a
    later ``recompute`` of a demo ticket finds the same due times and flags.
    """
    if ended is not None:
        counter, active = ended - created, False
    elif paused:
        counter, active = max(last_activity, created) - created, False
    else:
        counter, active = now - created, True
    # (start, stop, target) per clock, as bootstrap() sets them
    clocks: list[tuple[int, int | None, int]] = []
    fr_stop = (min(first_response - created, counter) if first_response is not None
               else counter if ended is not None else None)
    clocks.append((0, fr_stop, first_target))
    nr_due = None
    if first_response is not None and next_target:
        start = min(max(first_response, last_activity) - created, counter)
        clocks.append((start, counter if ended is not None else None, next_target))
        nr_due = created + start + next_target
    clocks.append((0, counter if ended is not None else None, resolution_target))
    at_risk = breached = False
    live_dues: list[int] = []
    checks: list[int] = []
    for start, stop, target in clocks:
        used = max((stop if stop is not None else counter) - start, 0)
        running = stop is None
        risk = round(target * risk_ratio)
        hit = used >= target
        breached = breached or hit
        if running and not hit and used >= risk:
            at_risk = True
        if running and active:
            due = created + start + target
            live_dues.append(due)
            if not hit:
                checks.append(due)
                if used < risk:
                    checks.append(created + start + risk)
    return Flags(first_response_due=created + first_target, next_response_due=nr_due,
                 resolution_due=created + resolution_target,
                 sla_due=min(live_dues) if live_dues else None,
                 check_at=min(checks) if checks else None, at_risk=at_risk, breached=breached)
