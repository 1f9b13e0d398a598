"""Read models of the SLA engine (re-exported by ``agent_tui.backend``)."""

from __future__ import annotations

from datetime import date, datetime

from agent_tui.domain.enums import Priority
from agent_tui.domain.views import ReadModel


class BusinessHoursView(ReadModel):
    """A schedule: ``days`` maps ``mon``..``sun`` to spans like ``09:00-17:00``."""

    id: int
    name: str
    timezone: str
    days: dict[str, list[str]] = {}
    holidays: list[date] = []


class SlaPolicyView(ReadModel):
    """Targets in business minutes; ``None`` matchers mean "any"."""

    id: int
    name: str
    priority: Priority | None = None
    tier: str | None = None
    category: str | None = None
    first_response_minutes: int
    next_response_minutes: int | None = None
    resolution_minutes: int
    hours: str | None = None  # business hours name; None = 24x7
    active: bool = True


class EscalationRuleView(ReadModel):
    id: int
    name: str
    action: str  # raise_priority | reassign_lead | notify_supervisor
    policy: str | None = None
    priority: Priority | None = None
    clock: str | None = None  # first_response | next_response | resolution
    active: bool = True


class SlaClock(ReadModel):
    """One of a ticket's clocks, now."""

    ticket_id: int
    clock: str  # first_response | next_response | resolution
    policy: str | None
    target_minutes: float
    used_minutes: float
    used_pct: float
    due_at: datetime | None
    running: bool  # started and not yet stopped (it may be paused)
    paused: bool
    at_risk: bool
    breached: bool


class SweepAction(ReadModel):
    ticket_id: int
    at_risk: bool = False
    breached: list[str] = []
    actions: list[str] = []


class SweepResult(ReadModel):
    """What one sweep did."""

    checked: int
    changed: list[SweepAction] = []
