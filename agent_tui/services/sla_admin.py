"""Setting up the SLA engine: policies, business hours, escalation rules, team
leads, the at-risk share; and the read side (policy views, a ticket's clocks).

Every change is an admin's and writes one event. Changing a policy or the
hours does not rewrite open tickets at once: ``agent-tui sla recompute``
does that (batched), and every ticket picks it up on its next change or
sweep anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Priority, Role
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.sla_clock import DAYS, Schedule
from agent_tui.domain.sla_state import CLOCKS
from agent_tui.domain.tables import (
    Agent,
    BusinessHours,
    Holiday,
    SlaEscalationRule,
    SLAPolicy,
    SlaSetting,
    Team,
    Ticket,
    utcnow,
)
from agent_tui.domain.views_sla import (
    BusinessHoursView,
    EscalationRuleView,
    SlaClock,
    SlaPolicyView,
)
from agent_tui.services.agents import get_agent, get_team
from agent_tui.services.perms import require
from agent_tui.services.sla import _readings
from agent_tui.services.sla_book import ACTIONS, load_book
from agent_tui.store.events import Actor, append_event


def _name(text: str, what: str = "name") -> str:
    name = " ".join(text.split())
    if not name or len(name) > 100:
        raise Invalid(what, "must be 1-100 characters")
    return name


def get_hours(session: Session, name: str) -> BusinessHours:
    row = session.exec(select(BusinessHours).where(BusinessHours.name == name)).first()
    if row is None:
        raise NotFound("business hours", name)
    return row


def set_hours(session: Session, actor: Actor, *, name: str, timezone: str,
              days: Mapping[str, Sequence[str]], holidays: Sequence[date] | None = None
              ) -> BusinessHoursView:
    """Create or replace a schedule; ``holidays`` replaces the list when given."""
    require(actor, Role.ADMIN, "setting business hours")
    name = _name(name)
    try:
        sched = Schedule.weekly(timezone, days, holidays or ())
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise Invalid("hours", str(exc).strip("'\"")) from exc
    row = session.exec(select(BusinessHours).where(BusinessHours.name == name)).first()
    created = row is None
    if row is None:
        row = BusinessHours(name=name)
    row.timezone, row.schedule = timezone, sched.to_stored()
    session.add(row)
    session.flush()
    assert row.id is not None
    if holidays is not None:
        session.execute(sa.delete(Holiday).where(col(Holiday.business_hours_id) == row.id))
        for day in sorted(set(holidays)):
            session.add(Holiday(business_hours_id=row.id, day=day))
    append_event(session, actor, kind="business_hours.created" if created
                 else "business_hours.updated", entity="business_hours", entity_id=row.id,
                 after={"name": name, "timezone": timezone, "schedule": json.loads(row.schedule),
                        **({"holidays": sorted(set(holidays))} if holidays is not None else {})})
    session.flush()
    return hours_view(session, row)


def hours_view(session: Session, row: BusinessHours) -> BusinessHoursView:
    assert row.id is not None
    days = sorted(h.day for h in session.exec(
        select(Holiday).where(Holiday.business_hours_id == row.id)))
    sched = Schedule.from_stored(row.timezone, row.schedule)
    stored = json.loads(sched.to_stored())
    return BusinessHoursView(id=row.id, name=row.name, timezone=row.timezone,
                             days={d: stored[d] for d in DAYS if d in stored}, holidays=days)


def list_hours(session: Session) -> list[BusinessHoursView]:
    return [hours_view(session, h)
            for h in session.exec(select(BusinessHours).order_by(BusinessHours.name))]


def set_policy(session: Session, actor: Actor, *, name: str, priority: Priority | None = None,
               tier: str | None = None, category: str | None = None, first_response: int,
               next_response: int | None = None, resolution: int, hours: str | None = None,
               active: bool = True) -> SlaPolicyView:
    """Create or replace a policy (targets in business minutes)."""
    require(actor, Role.ADMIN, "setting an SLA policy")
    name = _name(name)
    for field, value in (("first-response", first_response), ("resolution", resolution),
                         ("next-response", next_response)):
        if value is not None and value <= 0:
            raise Invalid(field, "must be a positive duration")
    row = session.exec(select(SLAPolicy).where(SLAPolicy.name == name)).first()
    created = row is None
    before = _policy_dict(session, row) if row else None
    if row is None:
        row = SLAPolicy(name=name, first_response_minutes=first_response,
                        resolution_minutes=resolution)
    row.priority = int(priority) if priority is not None else None
    row.tier = tier.strip().lower() if tier and tier.strip() else None
    row.category = " ".join(category.split()).lower() if category and category.strip() else None
    row.first_response_minutes, row.next_response_minutes = first_response, next_response
    row.resolution_minutes, row.active = resolution, active
    row.business_hours_id = get_hours(session, hours).id if hours else None
    session.add(row)
    session.flush()
    assert row.id is not None
    after = _policy_dict(session, row)
    append_event(session, actor, kind="sla_policy.created" if created else "sla_policy.updated",
                 entity="sla_policy", entity_id=row.id, before=before, after=after)
    return policy_view(session, row)


def _policy_dict(session: Session, row: SLAPolicy) -> dict[str, object]:
    v = policy_view(session, row)
    return {**v.model_dump(exclude={"id"}),
            "priority": v.priority.label if v.priority is not None else None}


def policy_view(session: Session, row: SLAPolicy) -> SlaPolicyView:
    assert row.id is not None
    hours = session.get(BusinessHours, row.business_hours_id) if row.business_hours_id else None
    return SlaPolicyView(
        id=row.id, name=row.name,
        priority=Priority(row.priority) if row.priority is not None else None,
        tier=row.tier, category=row.category, first_response_minutes=row.first_response_minutes,
        next_response_minutes=row.next_response_minutes,
        resolution_minutes=row.resolution_minutes, hours=hours.name if hours else None,
        active=row.active)


def list_policies(session: Session) -> list[SlaPolicyView]:
    return [policy_view(session, p)
            for p in session.exec(select(SLAPolicy).order_by(col(SLAPolicy.id)))]


def set_rule(session: Session, actor: Actor, *, name: str, action: str,
             policy: str | None = None, priority: Priority | None = None,
             clock: str | None = None, active: bool = True) -> EscalationRuleView:
    """Create or replace an escalation rule: on a breach matching it, run ``action``."""
    require(actor, Role.ADMIN, "setting an escalation rule")
    name = _name(name)
    if action not in ACTIONS:
        raise Invalid("action", f"use one of {', '.join(ACTIONS)}")
    if clock is not None and clock not in CLOCKS:
        raise Invalid("clock", f"use one of {', '.join(CLOCKS)}")
    policy_row = None
    if policy:
        policy_row = session.exec(select(SLAPolicy).where(SLAPolicy.name == policy)).first()
        if policy_row is None:
            raise NotFound("SLA policy", policy)
    row = session.exec(select(SlaEscalationRule).where(SlaEscalationRule.name == name)).first()
    created = row is None
    if row is None:
        row = SlaEscalationRule(name=name, action=action)
    row.action, row.clock, row.active = action, clock, active
    row.policy_id = policy_row.id if policy_row else None
    row.priority = int(priority) if priority is not None else None
    session.add(row)
    session.flush()
    view = rule_view(session, row)
    append_event(session, actor, kind="sla_rule.created" if created else "sla_rule.updated",
                 entity="sla_escalation_rule", entity_id=view.id,
                 after={**view.model_dump(exclude={"id"}),
                        "priority": view.priority.label if view.priority else None})
    return view


def rule_view(session: Session, row: SlaEscalationRule) -> EscalationRuleView:
    assert row.id is not None
    policy = session.get(SLAPolicy, row.policy_id) if row.policy_id else None
    return EscalationRuleView(
        id=row.id, name=row.name, action=row.action, policy=policy.name if policy else None,
        priority=Priority(row.priority) if row.priority is not None else None, clock=row.clock,
        active=row.active)


def list_rules(session: Session) -> list[EscalationRuleView]:
    return [rule_view(session, r)
            for r in session.exec(select(SlaEscalationRule).order_by(col(SlaEscalationRule.id)))]


def set_team_lead(session: Session, actor: Actor, team: str, lead: str | None) -> str | None:
    """Name the agent SLA escalations reassign a team's tickets to (``None`` clears)."""
    require(actor, Role.ADMIN, "setting a team lead")
    row: Team = get_team(session, team)
    agent = get_agent(session, lead.strip().lower()) if lead else None
    if agent is not None and not agent.active:
        raise Invalid("lead", f"{agent.login} is disabled")
    before = get_agent_login(session, row.lead_agent_id)
    row.lead_agent_id = agent.id if agent else None
    session.add(row)
    session.flush()
    append_event(session, actor, kind="team.updated", entity="team", entity_id=row.id,
                 before={"lead": before}, after={"lead": agent.login if agent else None})
    return agent.login if agent else None


def get_agent_login(session: Session, agent_id: int | None) -> str | None:
    agent = session.get(Agent, agent_id) if agent_id else None
    return agent.login if agent else None


def set_risk_percent(session: Session, actor: Actor, percent: int) -> int:
    """The share of a target used at which a clock counts as at risk (store-wide)."""
    require(actor, Role.ADMIN, "setting the at-risk share")
    if not 1 <= percent <= 99:
        raise Invalid("at-risk", "must be between 1 and 99 percent")
    row = session.get(SlaSetting, 1) or SlaSetting(id=1)
    before = row.at_risk_percent
    row.at_risk_percent = percent
    session.add(row)
    session.flush()
    append_event(session, actor, kind="sla_setting.updated", entity="sla_setting", entity_id=1,
                 before={"at_risk_percent": before}, after={"at_risk_percent": percent})
    return percent


def clocks(session: Session, ticket_id: int, *, now: datetime | None = None) -> list[SlaClock]:
    """A ticket's SLA clocks as of ``now``, read-only."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    policy, _state, readings, _fresh = _readings(session, ticket, load_book(session),
                                                 now or utcnow())
    minute = 60.0
    return [SlaClock(ticket_id=ticket_id, clock=r.clock, policy=policy.name if policy else None,
                     target_minutes=r.target.total_seconds() / minute,
                     used_minutes=round(r.used.total_seconds() / minute, 2),
                     used_pct=round(r.used_pct, 1), due_at=r.due_at, running=r.running,
                     paused=r.paused, at_risk=r.at_risk, breached=r.breached)
            for r in readings]
