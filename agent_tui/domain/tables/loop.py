"""Closed loop and metrics tables: survey requests, loop settings, ticket facts.

``ticket_fact`` is derived data: one row per ticket with what the KPIs need
(epoch seconds, counts, flags), recomputed from the ticket, its messages,
its events and its latest rating whenever the ticket changes. Windowed
metrics then read one covering index range instead of joining the thread
and the event log of every ticket in the window (ARCHITECTURE §6).
Flags are 0/1 integers so that ``sum()`` works the same on SQLite and
PostgreSQL.

``metric_day`` and ``metric_backlog`` are counters kept in step with the
facts: every fact write adds the new row's contribution and takes the old
one's away, in the same transaction. A day row sums, for one UTC day and
one (channel, team, agent), the created-family KPIs of tickets created that
day, the solved-family ones of tickets last solved that day and the
rated-family ones of tickets last rated that day; durations are kept as
log-scale histograms (JSON ``{bucket: count}``). ``0`` stands for "no team"
or "no agent" in their keys (primary-key columns cannot be NULL).

``metric_hist`` holds the same histograms per day along ONE dimension at a
time (``dim`` all / channel / team / agent, ``key`` the channel, team id or
agent id as text, "" for all), one row per bucket: a 30-day report then
sums 30 days × its own groups' buckets instead of unnesting the JSON of
every day × channel × team × agent row. Each bucket is kept twice: in its
day's row (``span`` 1) and in its block's (``span`` ``HIST_BLOCK``, ``day`` the
block's first day, a multiple of the span), so a long window reads whole
blocks and only its edge days. Kept by the same difference as
``metric_day`` (whose JSON stays the cross-product source, e.g. for the
0008 backfill).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.tables.base import ts_column, utcnow


class SurveyRequest(SQLModel, table=True):
    """A CSAT/NPS survey sent when a ticket was solved; a rating answers it."""

    __tablename__ = "survey_request"
    __table_args__ = (sa.Index("ix_survey_request_ticket", "ticket_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    customer_id: int = Field(foreign_key="customer.id")
    status: str = Field(default="pending", max_length=16)  # pending | answered
    requested_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    answered_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    rating_id: int | None = Field(default=None, foreign_key="rating.id")


class LoopSetting(SQLModel, table=True):
    """Store-wide settings of the closed loop (e.g. days before auto-close)."""

    __tablename__ = "loop_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


def _big(nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.BigInteger, nullable=nullable)


class TicketFact(SQLModel, table=True):
    """What the KPIs need of one ticket; see ``agent_tui.services.metrics``."""

    __tablename__ = "ticket_fact"
    __table_args__ = (
        sa.Index("ix_fact_created", "created_s", "channel", "team_id", "agent_id",
                 "first_response_s", "next_response_total_s", "next_responses",
                 "bot_touched", "handoff", "solved_s"),
        sa.Index("ix_fact_solved", "solved_s", "channel", "team_id", "agent_id",
                 "resolution_s", "agent_replies", "reopens", "handle_s", "bot_resolved",
                 "sla_met"),
        sa.Index("ix_fact_rated", "rated_s", "channel", "team_id", "agent_id", "csat", "nps"),
    )

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    channel: str = Field(max_length=16)
    team_id: int | None = None
    agent_id: int | None = None
    priority: int = 2
    status: str = Field(default="new", max_length=16)
    created_s: int = Field(sa_column=_big(nullable=False))  # epoch seconds, UTC
    first_response_s: int | None = Field(default=None, sa_column=_big())  # after creation
    next_response_total_s: int = Field(default=0, sa_column=_big(nullable=False))
    next_responses: int = 0
    solved_s: int | None = Field(default=None, sa_column=_big())  # epoch s of the last solve
    resolution_s: int | None = Field(default=None, sa_column=_big())  # creation to last solve
    agent_replies: int = 0  # public agent replies
    reopens: int = 0
    handle_s: int = Field(default=0, sa_column=_big(nullable=False))
    bot_touched: int = 0
    handoff: int = 0
    bot_resolved: int = 0
    sla_met: int | None = None  # 1 met, 0 missed, None: no target
    rated_s: int | None = Field(default=None, sa_column=_big())  # epoch s of the latest rating
    csat: int | None = None
    nps: int | None = None


#: Additive counters of a ``metric_day`` row, in a fixed order.
DAY_COUNTERS = (
    "created_n", "resolved_n", "nr_total", "nr_n", "bot_touched", "handoff",
    "solved_n", "fcr", "fcr_base", "handle", "bot_resolved", "sla_n", "sla_ok", "reopened",
    "csat_n", "csat_good", "nps_n", "promoters", "detractors",
)


def _counter() -> Any:
    return Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))


class MetricDay(SQLModel, table=True):
    """KPI counters of one UTC day × channel × team × agent (see the module docs)."""

    __tablename__ = "metric_day"

    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # since 1970
    channel: str = Field(primary_key=True, max_length=16)
    team_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    agent_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    created_n: int = _counter()
    resolved_n: int = _counter()
    nr_total: int = _counter()
    nr_n: int = _counter()
    bot_touched: int = _counter()
    handoff: int = _counter()
    solved_n: int = _counter()
    fcr: int = _counter()
    fcr_base: int = _counter()
    handle: int = _counter()
    bot_resolved: int = _counter()
    sla_n: int = _counter()
    sla_ok: int = _counter()
    reopened: int = _counter()
    csat_n: int = _counter()
    csat_good: int = _counter()
    nps_n: int = _counter()
    promoters: int = _counter()
    detractors: int = _counter()
    frt_hist: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))
    res_hist: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False))


class MetricBacklog(SQLModel, table=True):
    """How many unsolved tickets have this status × priority × channel × team (0 = none)."""

    __tablename__ = "metric_backlog"

    status: str = Field(primary_key=True, max_length=16)
    priority: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    channel: str = Field(primary_key=True, max_length=16)
    team_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0


#: Days per block row of ``metric_hist``: a 30-day window reads ~9 units, not 30.
HIST_BLOCK = 6


class MetricHist(SQLModel, table=True):
    """Histogram buckets of one UTC day along one dimension (see the module docs)."""

    __tablename__ = "metric_hist"
    __table_args__ = {"sqlite_with_rowid": False}

    dim: str = Field(primary_key=True, max_length=8)  # all | channel | team | agent
    span: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # days
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    key: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=4)  # frt | res
    bucket: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = _counter()
