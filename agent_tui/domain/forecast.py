"""Breach forecast: how many SLA clocks will run out in the next 15/30/60 minutes.

Pure arithmetic, no I/O; ``services.monitor`` feeds it measured rates.

The model, per team (a queue with its own people):

* The team works its open tickets **earliest due first** at its measured
  *handling rate* ``mu`` (tickets per minute: solves in the last hour).
  Ticket *k* in due order (1-based) is reached ``k / mu`` minutes from now;
  it breaches if that is after its due time. A team that handled nothing
  in the last hour (``mu = 0``) reaches nothing, so every clock that ends
  in the horizon is forecast to breach.
* New tickets keep arriving at the measured *arrival rate* ``lam`` (tickets
  per minute, created in the last hour), evenly spaced, the *j*-th at
  ``j / lam`` minutes. Each gets ``arrival_target`` minutes on its clock
  (measured: the typical clock length of the newest tickets); those whose
  clock ends inside the horizon join the same due order and use the same
  capacity. An arrival cannot be worked before it arrives.
* Tickets already past due are breached already: they are counted by the
  monitor, not forecast, and are not in the queue of the model (how fast
  they are caught up does not change how many have breached).
* Paused clocks (pending, on hold) have no due time and are not in the
  model: they cannot breach while paused.

The result per horizon: tickets whose clock ends inside it (``due``), how
many of them the team cannot reach in time (``from_backlog``) and how many
expected arrivals will run out too (``from_arrivals``), plus the ids of the
tickets forecast to breach, soonest due first. Deterministic (a fluid
approximation of the queue): the same inputs give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent_tui.domain.views_monitor import BreachForecast

HORIZONS_MIN: tuple[int, ...] = (15, 30, 60)
#: How many ids of tickets forecast to breach each horizon keeps.
MAX_IDS = 20


@dataclass(frozen=True)
class DueTicket:
    """An open ticket with a running clock: its id and when that clock ends."""

    ticket_id: int
    due_at: datetime


@dataclass(frozen=True)
class TeamLoad:
    """One team's open running clocks and measured rates (tickets per hour)."""

    due: Sequence[DueTicket]
    handled_per_hour: float
    arrivals_per_hour: float = 0.0
    arrival_target: timedelta | None = None  # None: arrivals do not run out in any horizon


@dataclass(frozen=True)
class _Item:
    due_min: float  # minutes from now
    ready_min: float  # minutes from now when it can be worked (0: it is here)
    ticket_id: int | None  # None: an expected arrival


def _items(load: TeamLoad, now: datetime, horizon_min: float) -> list[_Item]:
    items = [_Item((t.due_at - now).total_seconds() / 60, 0.0, t.ticket_id)
             for t in load.due if now <= t.due_at <= now + timedelta(minutes=horizon_min)]
    lam = max(load.arrivals_per_hour, 0.0) / 60
    if lam > 0 and load.arrival_target is not None:
        target = load.arrival_target.total_seconds() / 60
        # Arrival j at j/lam is due at j/lam + target; keep those due inside the horizon.
        last = math.floor((horizon_min - target) * lam + 1e-9)
        items += [_Item(j / lam + target, j / lam, None) for j in range(1, last + 1)]
    return sorted(items, key=lambda i: (i.due_min, i.ticket_id is None, i.ticket_id or 0))


def forecast_team(load: TeamLoad, now: datetime,
                  horizons: Iterable[int] = HORIZONS_MIN) -> list[BreachForecast]:
    """The breach forecast of one team for each horizon (minutes), in that order."""
    mu = max(load.handled_per_hour, 0.0) / 60
    out: list[BreachForecast] = []
    for horizon in horizons:
        clock = 0.0  # minutes from now when the team is free for the next ticket
        due = from_backlog = from_arrivals = 0
        ids: list[int] = []
        for item in _items(load, now, horizon):
            if item.ticket_id is not None:
                due += 1
            if mu > 0:
                clock = max(clock, item.ready_min) + 1 / mu
                late = clock > item.due_min
            else:
                late = True
            if not late:
                continue
            if item.ticket_id is None:
                from_arrivals += 1
            else:
                from_backlog += 1
                if len(ids) < MAX_IDS:
                    ids.append(item.ticket_id)
        out.append(BreachForecast(horizon_min=horizon, due=due, from_backlog=from_backlog,
                                  from_arrivals=from_arrivals, ticket_ids=ids))
    return out


def forecast(loads: Iterable[TeamLoad], now: datetime,
             horizons: Sequence[int] = HORIZONS_MIN) -> list[BreachForecast]:
    """The forecast of several teams added up; ids merged in due order (see module doc)."""
    per_team = [(load, forecast_team(load, now, horizons)) for load in loads]
    out: list[BreachForecast] = []
    for i, horizon in enumerate(horizons):
        due_at: dict[int, datetime] = {}
        for load, result in per_team:
            wanted = set(result[i].ticket_ids)
            due_at.update({t.ticket_id: t.due_at for t in load.due if t.ticket_id in wanted})
        ids = sorted(due_at, key=lambda tid: (due_at[tid], tid))[:MAX_IDS]
        out.append(BreachForecast(
            horizon_min=horizon,
            due=sum(r[i].due for _l, r in per_team),
            from_backlog=sum(r[i].from_backlog for _l, r in per_team),
            from_arrivals=sum(r[i].from_arrivals for _l, r in per_team),
            ticket_ids=ids))
    return out
