"""Read models of the supervisor monitor: ``MonitorSnapshot`` and its parts.

Plain pydantic, no tables: they cross the wire in team mode. Times are
timezone-aware UTC, durations seconds, rates tickets per hour. Customer
text (subjects) has passed ``safe_text`` when a service builds them. How
each figure is computed is in the docstring of ``agent_tui.services.monitor``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from agent_tui.domain.enums import AgentStatus, Channel, PresenceState, Priority, Role, Status
from agent_tui.domain.views_metrics import Backlog, Kpis, MetricGroup


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class HourlySeries(_Model):
    """The last hours, oldest first: tickets created and solved in each hour and the
    backlog at the end of it (the last hour is the current, partial one)."""

    hour_starts: list[datetime] = []
    arrivals: list[int] = []
    solved: list[int] = []
    backlog: list[int] = []


class SlaTicket(_Model):
    """An open ticket whose nearest SLA clock is at risk or has run out."""

    id: int
    subject: str
    status: Status
    priority: Priority
    channel: Channel
    assignee: str | None = None  # login
    team: str | None = None
    due_at: datetime
    at_risk: bool = False
    breached: bool = False  # the nearest clock has run out (due_at is past)
    version: int


class BreachForecast(_Model):
    """Breaches expected within ``horizon_min`` minutes (``agent_tui.domain.forecast``)."""

    horizon_min: int
    #: Open tickets whose running clock ends inside the horizon.
    due: int = 0
    #: Of those, the ones the team's handling rate cannot reach in time...
    from_backlog: int = 0
    #: ...plus tickets expected to arrive and run out inside the horizon.
    from_arrivals: int = 0
    #: The first tickets forecast to breach, soonest due first.
    ticket_ids: list[int] = []

    @property
    def expected(self) -> int:
        """All breaches expected inside the horizon."""
        return self.from_backlog + self.from_arrivals


class AgentBoardRow(_Model):
    """One agent on the board: status, load, today's work, what they are on now."""

    login: str
    name: str
    role: Role
    status: AgentStatus
    teams: list[str] = []
    #: Active (new/open) tickets assigned, counted up to ``capacity + 1``.
    load: int = 0
    capacity: int = 0
    handled_today: int = 0  # tickets solved today (UTC) with this agent as assignee
    handle_time_today_s: float | None = None  # mean handle time of those tickets
    current_ticket_id: int | None = None
    current_subject: str | None = None
    #: ``viewing``/``composing`` (live presence) or ``None`` (latest assigned ticket touched).
    current_state: PresenceState | None = None

    @property
    def over_capacity(self) -> bool:
        return self.load > self.capacity


class MonitorSnapshot(_Model):
    """Everything the monitor shows, as of ``at`` (and of event ``last_seq``)."""

    at: datetime
    last_seq: int = 0
    backlog: Backlog
    #: Unsolved tickets by status, then by priority label.
    by_status_priority: dict[str, dict[str, int]] = {}
    series: HourlySeries = HourlySeries()
    #: Open tickets at risk, soonest due first (at most ``list_limit``).
    at_risk: list[SlaTicket] = []
    #: Open tickets past their nearest due time, most recently breached first.
    breached: list[SlaTicket] = []
    at_risk_total: int = 0
    #: False when ``at_risk_total`` was counted over a bounded scan (a lower bound).
    at_risk_exact: bool = True
    arrivals_per_hour: float = 0.0
    handled_per_hour: float = 0.0
    forecast: list[BreachForecast] = []
    agents: list[AgentBoardRow] = []
    today: Kpis = Kpis()
    window: str = "7d"
    window_kpis: Kpis = Kpis()
    #: The window's KPIs per UTC day, oldest first (for the small charts).
    window_days: list[MetricGroup] = []
    facts_pending: int = 0


class AssignResult(_Model):
    """What happened to one ticket of a bulk reassignment."""

    ticket_id: int
    ok: bool
    version: int | None = None
    assignee: str | None = None
    team: str | None = None
    error: str | None = None  # one line: why this ticket was not changed
