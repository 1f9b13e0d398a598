"""The supervisor monitor: ``monitor_snapshot()`` — backlog, SLA, forecast, agents, KPIs.

What each part reads (ARCHITECTURE §6: indexed ranges and counters only,
never a scan of all open tickets):

* **Backlog** by status, priority, channel and team, and the status ×
  priority matrix: the ``metric_backlog`` counters (a few hundred rows at
  most) plus the past-due count over the partial ``ix_q_open_due`` index
  (``metrics.backlog``).
* **Hourly series** of the last ``SERIES_HOURS`` hours: tickets created and
  solved per hour from ``ticket_fact`` through its covering
  ``ix_fact_created`` / ``ix_fact_solved`` indexes; the backlog at the end of
  each hour is reconstructed backwards from the backlog now (backlog at the
  end of hour h = backlog now − created after h + solved after h; reopens
  are not subtracted, so an hour with many reopens reads a little low).
* **SLA**: *at risk* are open tickets whose nearest running clock
  (``sla_due_at``) is still ahead and flagged ``sla_at_risk``, soonest due
  first; *breached* are open tickets whose nearest clock is past, most
  recently breached first. Both are range reads of ``ix_q_open_due`` starting
  at now, one forwards and one backwards; the at-risk total counts the
  flagged tickets among the clocks still running ahead (at most
  ``RISK_SCAN`` of them are looked at; beyond that the total is a lower
  bound and says so).
* **Forecast** (``domain.forecast``) per team: the due times of the clocks
  that end in the next hour (``ix_q_open_due``), the arrival and handling
  rates of the last ``RATE_WINDOW`` (created / solved facts per team), and
  the typical clock length of the newest open tickets (``ix_q_open_age``)
  as the target new arrivals get.
* **Agents** (``monitor_agents``): active agents, their active load counted
  like routing does, solved tickets and mean handle time today from
  ``metric_day``, and their current ticket.
* **KPIs** today and over the chosen window: ``metrics.snapshot`` (daily
  counters); the window also per day, for the small charts.

Supervisors and admins only.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Priority, Role
from agent_tui.domain.forecast import DueTicket, TeamLoad, forecast
from agent_tui.domain.safe_text import safe_line
from agent_tui.domain.tables import MetricBacklog, Ticket, TicketFact, utcnow
from agent_tui.domain.views_metrics import GroupBy, parse_window
from agent_tui.domain.views_monitor import (
    HourlySeries,
    MonitorSnapshot,
    SlaTicket,
)
from agent_tui.services import metrics
from agent_tui.services.monitor_agents import agent_board
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, last_seq

T = Ticket.__table__  # type: ignore[attr-defined]
F = TicketFact.__table__  # type: ignore[attr-defined]
B = MetricBacklog.__table__  # type: ignore[attr-defined]

SERIES_HOURS = 12
RATE_WINDOW = timedelta(hours=1)
FORECAST_REACH = timedelta(minutes=60)  # the longest horizon
LIST_LIMIT = 40
RISK_SCAN = 20_000
FORECAST_SCAN = 20_000
TARGET_SAMPLE = 50
_NO_TEAM = 0


def _is_open(session: Session) -> Any:
    return sa.text("ticket.is_open = 1" if session.get_bind().dialect.name == "sqlite"
                   else "ticket.is_open")


def status_priority(session: Session) -> dict[str, dict[str, int]]:
    """Unsolved tickets by status, then priority label, from the backlog counters."""
    out: dict[str, dict[str, int]] = {}
    for status, prio, n in session.execute(
            sa.select(B.c.status, B.c.priority, sa.func.sum(B.c.n))
            .group_by(B.c.status, B.c.priority)):
        if n:
            out.setdefault(status, {})[Priority(prio).label] = int(n)
    return out


def hourly_series(session: Session, now: datetime, backlog_now: int,
                  hours: int = SERIES_HOURS) -> HourlySeries:
    """Created, solved and the backlog per hour over the last ``hours`` (see module doc)."""
    this_hour = int(now.timestamp()) // 3600
    first = this_hour - hours + 1
    counts: dict[str, dict[int, int]] = {}
    for name, moment in (("created", F.c.created_s), ("solved", F.c.solved_s)):
        hour = (moment // 3600).label("h")
        rows = session.execute(sa.select(hour, sa.func.count()).where(
            moment >= first * 3600).group_by(hour))
        counts[name] = {int(h): int(n) for h, n in rows}
    hour_ids = list(range(first, this_hour + 1))
    arrivals = [counts["created"].get(h, 0) for h in hour_ids]
    solved = [counts["solved"].get(h, 0) for h in hour_ids]
    backlog = [0] * len(hour_ids)
    level = backlog_now
    for i in range(len(hour_ids) - 1, -1, -1):
        backlog[i] = max(level, 0)
        level = level - arrivals[i] + solved[i]
    starts = [datetime.fromtimestamp(h * 3600, now.tzinfo) for h in hour_ids]
    return HourlySeries(hour_starts=starts, arrivals=arrivals, solved=solved, backlog=backlog)


def _names(session: Session, table: str, column: str) -> dict[int, str]:
    return {int(i): str(n) for i, n in session.execute(
        sa.text(f"SELECT id, {column} FROM {table}"))}


def _sla_rows(session: Session, where: Any, order: Any, limit: int,
              teams: dict[int, str], logins: dict[int, str], now: datetime) -> list[SlaTicket]:
    rows = session.execute(sa.select(
        T.c.id, T.c.subject, T.c.status, T.c.priority, T.c.channel, T.c.assignee_id,
        T.c.team_id, T.c.sla_due_at, T.c.sla_at_risk, T.c.version)
        .where(_is_open(session), where).order_by(*order).limit(limit))
    return [SlaTicket(id=r.id, subject=safe_line(r.subject), status=r.status,
                      priority=Priority(r.priority), channel=r.channel,
                      assignee=logins.get(r.assignee_id) if r.assignee_id else None,
                      team=teams.get(r.team_id) if r.team_id else None, due_at=r.sla_due_at,
                      at_risk=bool(r.sla_at_risk), breached=r.sla_due_at < now,
                      version=r.version) for r in rows]


def at_risk_total(session: Session, now: datetime, scan: int = RISK_SCAN) -> tuple[int, bool]:
    """Flagged at-risk tickets among the open clocks still ahead; (count, exact)."""
    ahead = (sa.select(T.c.sla_at_risk).where(_is_open(session), T.c.sla_due_at >= now)
             .order_by(T.c.sla_due_at).limit(scan + 1).subquery())
    looked, flagged = session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((ahead.c.sla_at_risk, 1),
                                                              else_=0)), 0))).one()
    return int(flagged), int(looked) <= scan


def _rates(session: Session, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
    lo = int((now - RATE_WINDOW).timestamp())
    out: list[dict[int, int]] = []
    for moment in (F.c.created_s, F.c.solved_s):
        rows = session.execute(sa.select(F.c.team_id, sa.func.count())
                               .where(moment >= lo).group_by(F.c.team_id))
        out.append({int(t or _NO_TEAM): int(n) for t, n in rows})
    return out[0], out[1]


def arrival_target(session: Session) -> timedelta | None:
    """The median clock length (due − created) of the newest open tickets with a clock."""
    rows = session.execute(sa.select(T.c.created_at, T.c.sla_due_at).where(
        _is_open(session), T.c.sla_due_at.is_not(None))
        .order_by(T.c.created_at.desc(), T.c.id.desc()).limit(TARGET_SAMPLE)).all()
    spans = [(due - created).total_seconds() for created, due in rows if due > created]
    return timedelta(seconds=statistics.median(spans)) if spans else None


def breach_forecast(session: Session, now: datetime) -> tuple[list[Any], float, float]:
    """(forecast per horizon, arrivals per hour, handled per hour) over all teams."""
    created, solved = _rates(session, now)
    per_hour = timedelta(hours=1) / RATE_WINDOW
    due: dict[int, list[DueTicket]] = defaultdict(list)
    for tid, team_id, due_at in session.execute(
            sa.select(T.c.id, T.c.team_id, T.c.sla_due_at).where(
                _is_open(session), T.c.sla_due_at >= now,
                T.c.sla_due_at <= now + FORECAST_REACH)
            .order_by(T.c.sla_due_at).limit(FORECAST_SCAN)):
        due[int(team_id or _NO_TEAM)].append(DueTicket(int(tid), due_at))
    target = arrival_target(session)
    teams = set(due) | set(created) | set(solved)
    loads = [TeamLoad(due=due.get(t, []), handled_per_hour=solved.get(t, 0) * per_hour,
                      arrivals_per_hour=created.get(t, 0) * per_hour, arrival_target=target)
             for t in sorted(teams)]
    return (forecast(loads, now), sum(created.values()) * per_hour,
            sum(solved.values()) * per_hour)


def monitor_snapshot(session: Session, actor: Actor, *, window: str = "7d",
                     now: datetime | None = None, list_limit: int = LIST_LIMIT) -> MonitorSnapshot:
    """Everything the monitor shows as of ``now`` (see the module docstring)."""
    require(actor, Role.SUPERVISOR, "the queue monitor")
    parse_window(window)  # a clear Invalid before any work
    now = now or utcnow()
    seq = last_seq(session)  # first: a change after this is seen by the next refresh
    today = metrics.snapshot(session, actor, "1d", now=now)
    span = metrics.snapshot(session, actor, window, GroupBy.DAY, now=now)
    teams = _names(session, "team", "name")
    logins = _names(session, "agent", "login")
    at_risk = _sla_rows(session, sa.and_(T.c.sla_due_at >= now, T.c.sla_at_risk),
                        (T.c.sla_due_at, T.c.id), list_limit, teams, logins, now)
    breached = _sla_rows(session, T.c.sla_due_at < now, (T.c.sla_due_at.desc(), T.c.id.desc()),
                         list_limit, teams, logins, now)
    risk_n, exact = at_risk_total(session, now)
    fc, arrivals, handled = breach_forecast(session, now)
    return MonitorSnapshot(
        at=now, last_seq=seq, backlog=today.backlog, by_status_priority=status_priority(session),
        series=hourly_series(session, now, today.backlog.total), at_risk=at_risk,
        breached=breached, at_risk_total=risk_n, at_risk_exact=exact,
        arrivals_per_hour=arrivals, handled_per_hour=handled, forecast=fc,
        agents=agent_board(session, now, teams), today=today.overall, window=window,
        window_kpis=span.overall, window_days=span.groups, facts_pending=today.facts_pending)
