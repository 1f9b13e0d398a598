"""Read models of the metrics contract: ``MetricsSnapshot`` and its parts.

Plain pydantic, no tables: they cross the wire in team mode. Durations are
seconds (floats); rates are shares in 0..1 and ``None`` when nothing was
there to count (no division by zero dressed up as 0 %). The definitions
are in the docstring of ``agent_tui.services.metrics``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from agent_tui.domain.errors import Invalid


class GroupBy(StrEnum):
    """How a snapshot splits its KPIs besides the overall figures."""

    CHANNEL = "channel"
    TEAM = "team"
    AGENT = "agent"
    DAY = "day"


_WINDOW = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
         "w": timedelta(weeks=1)}
MAX_WINDOW = timedelta(days=400)


def parse_window(text: str, *, field: str = "window") -> timedelta:
    """``"7d"``, ``"24h"``, ``"90m"``, ``"2w"`` as a timedelta; anything else is Invalid."""
    match = _WINDOW.match(text or "")
    if not match:
        raise Invalid(field, f"{text!r} is not a duration like 7d, 24h, 90m or 2w")
    value = int(match.group(1)) * _UNIT[match.group(2).lower()]
    if not timedelta(0) < value <= MAX_WINDOW:
        raise Invalid(field, f"must be more than 0 and at most {MAX_WINDOW.days} days")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class DurationStats(_Model):
    """A distribution of durations in seconds: how many, median, 90th percentile, mean."""

    count: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    mean_s: float | None = None


class Kpis(_Model):
    """The KPIs of one slice (overall, one channel, team, agent or day)."""

    created: int = 0
    solved: int = 0
    first_response: DurationStats = DurationStats()
    next_response: DurationStats = DurationStats()  # only count and mean_s are filled
    resolution: DurationStats = DurationStats()
    handle_time_mean_s: float | None = None
    fcr: float | None = None
    fcr_tickets: int = 0
    resolution_rate: float | None = None
    reopened: int = 0
    csat: float | None = None
    csat_responses: int = 0
    nps: float | None = None
    nps_responses: int = 0
    self_service_rate: float | None = None
    bot_resolved: int = 0
    bot_handled: int = 0
    human_intervention_rate: float | None = None
    sla_compliance: float | None = None
    sla_breaches: int = 0


class MetricGroup(_Model):
    """The KPIs of one value of ``group_by`` (a channel, team name, agent login, day)."""

    key: str
    kpis: Kpis


class Backlog(_Model):
    """Unsolved tickets now (new, open, pending, on hold), whatever the window."""

    total: int = 0
    past_due: int = 0
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    by_team: dict[str, int] = {}


class MetricsSnapshot(_Model):
    """KPIs over ``[window_start, window_end)``, overall and per group, plus the backlog."""

    window_start: datetime
    window_end: datetime
    group_by: GroupBy | None = None
    overall: Kpis
    groups: list[MetricGroup] = []
    backlog: Backlog
    #: Tickets written by bulk paths (demo, import) whose facts are not built yet.
    facts_pending: int = 0
