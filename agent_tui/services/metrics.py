"""KPIs for the supervisor monitor and ``agent-tui report``: ``snapshot()``.

Windows: ``Nd`` and ``Nw`` are whole UTC days — today so far and the N−1
days before it, ``[00:00 UTC N−1 days ago, now)`` — read from the daily
counters; ``Nh`` and ``Nm`` are exactly ``[now − window, now)``, read from
the ticket facts. Durations are in seconds. Each family of KPIs counts the
tickets whose own moment falls in the window:

* **Created-window KPIs** — tickets *created* in the window:
  - *first response time*: first public agent reply − creation
    (``ticket.first_response_at``); median and p90 over the tickets answered
    so far;
  - *next response time*: after the first reply, each time the customer
    writes, the time from their first unanswered message to the next public
    agent reply; mean over all such gaps;
  - *resolution rate*: share of the tickets created in the window that are
    solved or closed now;
  - *human-intervention rate*: of the tickets the bot took part in (a bot
    message or a ``bot.*`` event), the share handed to a person (a
    ``bot.handoff`` event, or a public agent reply after the bot spoke).
* **Solved-window KPIs** — tickets whose latest solve is in the window
  (a reopened ticket leaves the window until it is solved again):
  - *resolution time*: latest solve − creation; median and p90;
  - *average handle time* (AHT): there is no effort timer, so each agent
    message (reply or note) is credited with the time since the previous
    message of the thread, capped at 15 minutes; AHT is the mean of that sum
    over solved tickets with at least one agent reply;
  - *first-contact resolution* (FCR): share of solved tickets with at least
    one agent reply that had exactly one public agent reply and were never
    reopened (bot self-service is counted separately);
  - *reopened*: solved tickets that were reopened at least once (an event
    from solved/closed to unsolved, or ``ticket.reopened``);
  - *self-service rate*: share of solved tickets solved by the bot (a
    ``bot.resolved`` event and no public agent reply);
  - *SLA compliance*: share of solved tickets with an SLA target that met
    it — first reply by ``first_response_due_at``, solve by
    ``resolution_due_at`` and no ``sla.breached`` event or flag; *breaches*
    are the solved ones that missed.
* **Rated-window KPIs** — tickets whose latest rating arrived in the window
  (one rating per ticket counts, the latest; a late rating moves the ticket
  into the window it arrived in):
  - *CSAT*: share of 4 and 5 among CSAT scores (1–5);
  - *NPS*: 100 × (promoters 9–10 − detractors 0–6) ÷ NPS answers (0–10).
* **Backlog** — unsolved tickets now (new, open, pending, on hold) by
  status, priority, channel and team, and *past due*: unsolved tickets whose
  nearest SLA due time (``sla_due_at``) has passed. Not split by ``group_by``.

Median is the middle value (the mean of the two middle ones for an even
count); p90 is the nearest-rank 90th percentile (the ⌈0.9·n⌉-th smallest).
On day windows they are read from log-scale histograms (8 buckets per
doubling): within ±4.5 % of the exact value; on hour and minute windows
they are exact. Every count, sum and rate is exact on both.
Rates with nothing to count are ``None``, not 0. ``group_by`` splits the
windowed KPIs by the ticket's channel, team, assignee or UTC day (the day
of the family's own moment: created, solved or rated).

Speed (ARCHITECTURE §6): day windows read ``metric_day`` — one row per
day × channel × team × agent, kept in step with the facts
(``services.metrics_rollup``) — for the counters and ``metric_hist`` —
the duration buckets per day and per 6-day block along the group_by's
one dimension — for the percentiles, so a 30-day report reads whole blocks
plus edge days whatever the store's size; hour windows read
``ticket_fact`` (one derived row per ticket, ``services.metrics_facts``)
through one covering index per family, with GROUP BYs in SQL and the
durations as one concatenated string per group. The backlog reads
``metric_backlog`` plus one count over the partial index of open tickets
by due time. Supervisors and admins only.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Priority, Role
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import (
    Agent,
    MetricBacklog,
    MetricDay,
    Team,
    Ticket,
    TicketFact,
    utcnow,
)
from agent_tui.domain.tables.loop import DAY_COUNTERS, HIST_BLOCK
from agent_tui.domain.views_metrics import (
    Backlog,
    DurationStats,
    GroupBy,
    Kpis,
    MetricGroup,
    MetricsSnapshot,
    parse_window,
)
from agent_tui.services import metrics_rollup as rollup
from agent_tui.services.metrics_facts import pending_facts
from agent_tui.services.perms import require
from agent_tui.store.events import Actor

F = TicketFact.__table__  # type: ignore[attr-defined]
T = Ticket.__table__  # type: ignore[attr-defined]
D = MetricDay.__table__  # type: ignore[attr-defined]
B = MetricBacklog.__table__  # type: ignore[attr-defined]
DAY_S = 86_400
_ALL = "__all__"


def _case(cond: Any, then: Any = 1) -> Any:
    return sa.func.sum(sa.case((cond, then), else_=0))


def _key(group_by: GroupBy | None, moment: Any) -> Any:
    if group_by is None:
        return sa.literal(_ALL)
    return {GroupBy.CHANNEL: F.c.channel, GroupBy.TEAM: F.c.team_id,
            GroupBy.AGENT: F.c.agent_id, GroupBy.DAY: moment // DAY_S}[group_by]


def duration_stats(values: Iterable[int]) -> DurationStats:
    """Count, median, nearest-rank p90 and mean of durations in seconds."""
    ordered = sorted(values)
    if not ordered:
        return DurationStats()
    n = len(ordered)
    return DurationStats(count=n, median_s=float(statistics.median(ordered)),
                         p90_s=float(ordered[math.ceil(0.9 * n) - 1]),
                         mean_s=sum(ordered) / n)


def _hist_duration(hist: Mapping[int, int], total: int | None = None) -> DurationStats:
    n, median, p90 = rollup.hist_stats(hist)
    return DurationStats(count=n, median_s=median, p90_s=p90,
                         mean_s=None if total is None or not n else total / n)


def _share(part: int | None, whole: int | None) -> float | None:
    return None if not whole else (part or 0) / whole


@dataclass
class _Part:
    """The sums of one slice: DAY_COUNTERS in order, plus the two durations."""

    counts: list[int] = field(default_factory=lambda: [0] * len(DAY_COUNTERS))
    frt: DurationStats = field(default_factory=DurationStats)
    res: DurationStats = field(default_factory=DurationStats)


def _kpis(part: _Part) -> Kpis:
    (n_created, resolved_now, nr_total, nr_n, bot_touched, handoff, n_solved, fcr, fcr_base,
     handle, bot_res, sla_n, sla_ok, reopened, csat_n, csat_good, nps_n, promoters,
     detractors) = part.counts
    return Kpis(
        created=n_created, solved=n_solved, first_response=part.frt,
        next_response=DurationStats(count=nr_n, mean_s=nr_total / nr_n if nr_n else None),
        resolution=part.res,
        handle_time_mean_s=handle / fcr_base if fcr_base else None,
        fcr=_share(fcr, fcr_base), fcr_tickets=fcr,
        resolution_rate=_share(resolved_now, n_created), reopened=reopened,
        csat=_share(csat_good, csat_n), csat_responses=csat_n,
        nps=100.0 * (promoters - detractors) / nps_n if nps_n else None, nps_responses=nps_n,
        self_service_rate=_share(bot_res, n_solved), bot_resolved=bot_res,
        bot_handled=bot_touched, human_intervention_rate=_share(handoff, bot_touched),
        sla_compliance=_share(sla_ok, sla_n), sla_breaches=sla_n - sla_ok,
    )


# -- day windows: the counters ------------------------------------------------
_GROUP_COLUMN = {None: "'all'", GroupBy.DAY: "day", GroupBy.CHANNEL: "channel",
                 GroupBy.TEAM: "team_id", GroupBy.AGENT: "agent_id"}
#: The ``metric_hist`` dimension and group column of each group_by.
_HIST_GROUP = {None: ("all", "key"), GroupBy.DAY: ("all", "day"),
               GroupBy.CHANNEL: ("channel", "key"), GroupBy.TEAM: ("team", "key"),
               GroupBy.AGENT: ("agent", "key")}


def _hist_units(first: int, last: int, *, blocks: bool) -> list[tuple[int, int, int]]:
    """(span, first row day, last row day) of the ``metric_hist`` rows that cover the days."""
    a = -(-first // HIST_BLOCK) * HIST_BLOCK  # the first whole block's first day
    b = (last + 1) // HIST_BLOCK * HIST_BLOCK  # the day after the last whole block
    if not blocks or b <= a:
        return [(1, first, last)]
    return [(1, first, a - 1), (HIST_BLOCK, a, b - HIST_BLOCK), (1, b, last)]


def _from_counters(session: Session, first_day: int, last_day: int,
                   group_by: GroupBy | None) -> tuple[_Part, dict[Any, _Part]]:
    """The overall and per-group sums of the days, summed by the database.

    Counters are one GROUP BY over ``metric_day``; the histograms one GROUP
    BY over the group_by's own dimension of ``metric_hist`` — whole blocks
    plus edge days (by day: days) × groups × buckets rows, not the day ×
    channel × team × agent cross product — so Python only sees a few rows
    per group whatever the window's length.
    """
    g = _GROUP_COLUMN[group_by]
    where = "day >= :lo AND day <= :hi"
    args = {"lo": first_day, "hi": last_day}
    sums = ", ".join(f"sum({name})" for name in DAY_COUNTERS)
    acc: dict[Any, tuple[list[int], Counter[int], Counter[int]]] = {}

    def slot(key: Any) -> tuple[list[int], Counter[int], Counter[int]]:
        key = key or None if group_by in (GroupBy.TEAM, GroupBy.AGENT) else key
        found = acc.get(key)
        if found is None:
            found = acc[key] = ([0] * len(DAY_COUNTERS), Counter(), Counter())
        return found

    for row in session.execute(sa.text(
            f"SELECT {g} AS g, {sums} FROM metric_day WHERE {where}"
            + ("" if group_by is None else f" GROUP BY {g}")), args):
        counts = slot(row[0])[0]
        for i, v in enumerate(row[1:]):
            counts[i] += int(v or 0)
    dim, hg = _HIST_GROUP[group_by]
    units = _hist_units(first_day, last_day, blocks=group_by is not GroupBy.DAY)
    hargs: dict[str, Any] = {"dim": dim}
    for i, (span, lo, hi) in enumerate(units):
        hargs.update({f"s{i}": span, f"l{i}": lo, f"h{i}": hi})
    terms = " OR ".join(f"(dim = :dim AND span = :s{i} AND day >= :l{i} AND day <= :h{i})"
                        for i in range(len(units)))
    last: Any = object()
    for key, kind, b, c in session.execute(sa.text(
            f"SELECT {hg} AS g, kind, bucket, sum(n) FROM metric_hist WHERE {terms} "
            f"GROUP BY {hg}, kind, bucket"), hargs).all():  # one fetch: thousands of rows
        if key != last:  # rows come grouped: look the group up once per run
            last = key
            found = slot("all" if group_by is None  # the counters' key (the literal above)
                         else int(key) if group_by in (GroupBy.TEAM, GroupBy.AGENT) else key)
        found[1 if kind == "frt" else 2][b] += int(c)
    total = _Part()
    frt_all: Counter[int] = Counter()
    res_all: Counter[int] = Counter()
    parts: dict[Any, _Part] = {}
    for key, (counts, frt, res) in acc.items():
        total.counts = [a + b for a, b in zip(total.counts, counts, strict=True)]
        frt_all.update(frt)
        res_all.update(res)
        if any(counts):
            parts[key] = _Part(counts=counts, frt=_hist_duration(frt), res=_hist_duration(res))
    total.frt, total.res = _hist_duration(frt_all), _hist_duration(res_all)
    return total, ({} if group_by is None else parts)


# -- hour and minute windows: the facts -----------------------------------------
def _concat(session: Session, value: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.group_concat(value)
    return sa.func.string_agg(sa.cast(value, sa.Text), ",")


def _from_facts(session: Session, lo: int, hi: int, group_by: GroupBy | None) -> dict[Any, _Part]:
    replied = F.c.agent_replies > 0
    families = (
        (F.c.created_s, F.c.first_response_s, [
            sa.func.count(), sa.func.count(F.c.solved_s), sa.func.sum(F.c.next_response_total_s),
            sa.func.sum(F.c.next_responses), sa.func.sum(F.c.bot_touched),
            sa.func.sum(F.c.handoff)]),
        (F.c.solved_s, F.c.resolution_s, [
            sa.func.count(), _case(sa.and_(F.c.agent_replies == 1, F.c.reopens == 0)),
            _case(replied), _case(replied, F.c.handle_s), sa.func.sum(F.c.bot_resolved),
            sa.func.count(F.c.sla_met), sa.func.sum(F.c.sla_met), _case(F.c.reopens > 0)]),
        (F.c.rated_s, None, [
            sa.func.count(F.c.csat), _case(F.c.csat >= 4), sa.func.count(F.c.nps),
            _case(F.c.nps >= 9), _case(F.c.nps <= 6)]),
    )
    parts: dict[Any, _Part] = {}
    offset = 0
    for moment, duration, columns in families:
        g = _key(group_by, moment).label("g")
        stmt = sa.select(g, *columns).where(moment >= lo, moment < hi)
        if group_by is not None:
            stmt = stmt.group_by(g)
        for row in session.execute(stmt):
            if not row[1]:
                continue
            part = parts.setdefault(row[0], _Part())
            for i, v in enumerate(row[1:]):
                part.counts[offset + i] = int(v or 0)
        if duration is not None:
            stmt = sa.select(g, _concat(session, duration)).where(
                moment >= lo, moment < hi, duration.is_not(None))
            if group_by is not None:
                stmt = stmt.group_by(g)
            for key, text in session.execute(stmt):
                if text:
                    stats = duration_stats(int(v) for v in text.split(","))
                    part = parts.setdefault(key, _Part())
                    if duration is F.c.first_response_s:
                        part.frt = stats
                    else:
                        part.res = stats
        offset += len(columns)
    return parts


def _labels(session: Session, group_by: GroupBy, keys: set[Any]) -> dict[Any, str]:
    if group_by is GroupBy.DAY:
        return {k: datetime.fromtimestamp(int(k) * DAY_S, UTC).date().isoformat() for k in keys}
    if group_by is GroupBy.CHANNEL:
        return {k: str(k) for k in keys}
    ids = [k for k in keys if k is not None]
    names: dict[Any, str] = {None: "(none)"}
    if group_by is GroupBy.TEAM and ids:
        names.update(session.execute(sa.select(Team.id, Team.name)  # type: ignore[call-overload]
                                     .where(Team.id.in_(ids))).all())  # type: ignore[union-attr]
    elif ids:
        names.update(session.execute(sa.select(Agent.id, Agent.login)  # type: ignore[call-overload]
                                     .where(Agent.id.in_(ids))).all())  # type: ignore[union-attr]
    return {k: names.get(k, f"#{k}") for k in keys}


def backlog(session: Session, now: datetime) -> Backlog:
    """Unsolved tickets now: the backlog counters, and one count of the overdue ones."""
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    by_team_id: dict[int, int] = {}
    for status, prio, channel, team_id, n in session.execute(sa.select(
            B.c.status, B.c.priority, B.c.channel, B.c.team_id, B.c.n).where(B.c.n != 0)):
        by_status[status] = by_status.get(status, 0) + n
        label = Priority(prio).label
        by_priority[label] = by_priority.get(label, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
        by_team_id[team_id] = by_team_id.get(team_id, 0) + n
    teams: dict[int, str] = {tid: name for tid, name in session.execute(
        sa.text("SELECT id, name FROM team"))}
    is_open = sa.text("ticket.is_open = 1" if session.get_bind().dialect.name == "sqlite"
                      else "ticket.is_open")
    past_due = session.execute(sa.select(sa.func.count()).select_from(T).where(
        is_open, T.c.sla_due_at < now)).scalar() or 0
    return Backlog(total=sum(by_status.values()), past_due=int(past_due),
                   by_status=dict(sorted(by_status.items())),
                   by_priority=dict(sorted(by_priority.items())),
                   by_channel=dict(sorted(by_channel.items())),
                   by_team={teams.get(t, "(none)") if t else "(none)": n
                            for t, n in sorted(by_team_id.items())})


def _group_by(value: GroupBy | str | None) -> GroupBy | None:
    if value is None or isinstance(value, GroupBy):
        return value
    try:
        return GroupBy(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(g.value for g in GroupBy)
        raise Invalid("group_by", f"{value!r} is not one of {allowed}") from None


def snapshot(session: Session, actor: Actor, window: timedelta | str = "7d",
             group_by: GroupBy | str | None = None, *,
             now: datetime | None = None) -> MetricsSnapshot:
    """The KPIs of the window ending ``now``, overall and split by ``group_by``."""
    require(actor, Role.SUPERVISOR, "metrics")
    grouping = _group_by(group_by)
    end = now or utcnow()
    by_day = isinstance(window, str) and window.strip()[-1:].lower() in ("d", "w")
    span = parse_window(window) if isinstance(window, str) else window
    if span <= timedelta(0):
        raise Invalid("window", "must be longer than zero")
    hi = int(end.timestamp()) + 1  # facts keep whole seconds: include this one
    if by_day:
        last_day = int(end.timestamp()) // DAY_S
        first_day = last_day - span.days + 1
        start = datetime.fromtimestamp(first_day * DAY_S, UTC)
        overall, parts = _from_counters(session, first_day, last_day, grouping)
    else:
        start = end - span
        lo = int(start.timestamp())
        overall = _from_facts(session, lo, hi, None).get(_ALL, _Part())
        parts = _from_facts(session, lo, hi, grouping) if grouping is not None else {}
    groups: list[MetricGroup] = []
    if grouping is not None:
        labels = _labels(session, grouping, set(parts))
        groups = sorted((MetricGroup(key=labels[k], kpis=_kpis(p)) for k, p in parts.items()),
                        key=lambda m: m.key)
    return MetricsSnapshot(window_start=start, window_end=end, group_by=grouping,
                           overall=_kpis(overall), groups=groups, backlog=backlog(session, end),
                           facts_pending=pending_facts(session))
