"""What happens when an SLA clock breaches: the escalation actions.

Each action writes exactly one event, also when it cannot act (a ticket
already urgent, a team without a lead), so the log says what was tried and
why. A breach escalates once: ``services.sla`` records the breach on the
clock before it calls :func:`escalate`, under the ticket's row lock.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from agent_tui.domain.enums import Priority, Role
from agent_tui.domain.tables import Agent, AgentTeam, SLAPolicy, Team, Ticket, utcnow
from agent_tui.store.events import Actor, append_event


def _login(session: Session, agent_id: int | None) -> str | None:
    agent = session.get(Agent, agent_id) if agent_id else None
    return agent.login if agent else None


def _supervisor(session: Session, team: Team | None) -> str | None:
    """Who is told: the team lead, else the first active supervisor of the team."""
    if team is None:
        return None
    if team.lead_agent_id:
        return _login(session, team.lead_agent_id)
    stmt = (select(Agent.login).join(AgentTeam, col(AgentTeam.agent_id) == col(Agent.id))
            .where(AgentTeam.team_id == team.id, Agent.active == True,  # noqa: E712
                   col(Agent.role).in_([Role.SUPERVISOR.value, Role.ADMIN.value]))
            .order_by(col(Agent.id)).limit(1))
    return session.exec(stmt).first()


def escalate(session: Session, actor: Actor, ticket: Ticket, *, policy: SLAPolicy | None,
             clock: str, actions: list[str], why: dict[str, Any]) -> list[str]:
    """Run ``actions`` for a breach of ``clock``; return the ones that changed something."""
    assert ticket.id is not None
    team = session.get(Team, ticket.team_id) if ticket.team_id else None
    base = {"clock": clock, "policy": policy.name if policy else None, **why}
    done: list[str] = []
    for action in actions:
        if action == "raise_priority":
            old = Priority(ticket.priority)
            if old < Priority.URGENT:
                new = Priority(old + 1)
                ticket.priority = int(new)
                _bump(ticket)
                done.append(action)
                append_event(session, actor, kind="sla.escalation", entity="ticket",
                             entity_id=ticket.id, before={"priority": old.label},
                             after={"priority": new.label, "version": ticket.version},
                             extra={**base, "action": action})
            else:
                append_event(session, actor, kind="sla.escalation", entity="ticket",
                             entity_id=ticket.id,
                             extra={**base, "action": action, "skipped": "already urgent"})
        elif action == "reassign_lead":
            lead = team.lead_agent_id if team else None
            if lead and lead != ticket.assignee_id:
                before = _login(session, ticket.assignee_id)
                ticket.assignee_id = lead
                _bump(ticket)
                done.append(action)
                append_event(session, actor, kind="sla.escalation", entity="ticket",
                             entity_id=ticket.id, before={"assignee": before},
                             after={"assignee": _login(session, lead),
                                    "version": ticket.version},
                             extra={**base, "action": action, "team": team.name if team else None})
            else:
                reason = ("no team" if team is None else "team has no lead" if not lead
                          else "the lead already has it")
                append_event(session, actor, kind="sla.escalation", entity="ticket",
                             entity_id=ticket.id,
                             extra={**base, "action": action, "skipped": reason})
        elif action == "notify_supervisor":
            done.append(action)
            append_event(session, actor, kind="notify.supervisor", entity="ticket",
                         entity_id=ticket.id,
                         extra={**base, "team": team.name if team else None,
                                "supervisor": _supervisor(session, team),
                                "subject": ticket.subject,
                                "reason": f"{clock.replace('_', ' ')} SLA breached"})
    if done:
        session.add(ticket)
    return done


def _bump(ticket: Ticket) -> None:
    ticket.version += 1
    ticket.updated_at = utcnow()
