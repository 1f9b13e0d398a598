"""Tickets: create, read, reply, note, update, assign — each write one event.

Every write checks ``version`` (optimistic locking): the row is locked,
compared with what the caller last saw, and a stale write raises
``Conflict(current_version, changed_by)`` instead of overwriting.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import AgentStatus, AuthorKind, Channel, Priority, Role, Status
from agent_tui.domain.errors import Conflict, Forbidden, Invalid, NotFound
from agent_tui.domain.masking import mask_email
from agent_tui.domain.rules import check_transition, normalise_tags
from agent_tui.domain.safe_text import safe_line, safe_optional, safe_text
from agent_tui.domain.tables import Agent, Customer, Message, Team, Ticket, TicketTag, utcnow
from agent_tui.domain.views import TicketCreate, TicketDetail, TicketUpdate
from agent_tui.services import (
    convert,
    event_rows,  # noqa: F401 (its hooks give ticket events their row)
)
from agent_tui.services.agents import get_agent, get_team
from agent_tui.services.customers import find_or_create, get_customer
from agent_tui.services.lifecycle import TicketChange, ticket_changed
from agent_tui.services.perms import require, sees_personal_data
from agent_tui.services.ticket_links import links_for
from agent_tui.store import queue as q
from agent_tui.store.events import Actor, append_event, changes, last_actor

MAX_THREAD = 1000
MAX_BODY = 100_000


def _lock(session: Session, ticket_id: int) -> Ticket:
    ticket = session.exec(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).first()
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


def _check_version(session: Session, ticket: Ticket, expected: int | None) -> None:
    if expected is not None and ticket.version != expected:
        assert ticket.id is not None
        raise Conflict(ticket.version, last_actor(session, "ticket", ticket.id),
                       entity="ticket", key=ticket.id)


def _body(text: str) -> str:
    body = safe_text(text).strip("\n")
    if not body.strip():
        raise Invalid("body", "must not be empty")
    if len(body) > MAX_BODY:
        raise Invalid("body", f"longer than {MAX_BODY} characters")
    return body


def _set_tags(session: Session, ticket: Ticket, tags: list[str]) -> None:
    assert ticket.id is not None
    session.execute(sa.delete(TicketTag).where(col(TicketTag.ticket_id) == ticket.id))
    for tag in tags:
        session.add(TicketTag(ticket_id=ticket.id, tag=tag))
    ticket.tags = " ".join(tags)


def _state(ticket: Ticket, session: Session) -> dict[str, Any]:
    """The fields an event diff talks about, with names instead of ids."""
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    team = session.get(Team, ticket.team_id) if ticket.team_id else None
    return {
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": Priority(ticket.priority).label,
        "category": ticket.category,
        "product": ticket.product,
        "tags": ticket.tags,
        "team": team.name if team else None,
        "assignee": assignee.login if assignee else None,
        "version": ticket.version,
    }


def _bump(ticket: Ticket) -> None:
    ticket.version += 1
    ticket.updated_at = utcnow()


def create(session: Session, actor: Actor, data: TicketCreate) -> TicketDetail:
    if data.customer_id is not None:
        customer = get_customer(session, data.customer_id)
    else:
        customer, _ = find_or_create(session, actor, email=data.customer_email,
                                     name=data.customer_name)
    assert customer.id is not None
    subject = safe_line(data.subject).strip()
    if not subject:
        raise Invalid("subject", "must not be empty")
    team_id = get_team(session, data.team).id if data.team else None
    now = utcnow()
    ticket = Ticket(channel=data.channel, subject=subject[:500], status=Status.NEW,
                    priority=int(data.priority), category=safe_optional(data.category),
                    product=safe_optional(data.product), customer_id=customer.id,
                    team_id=team_id, is_open=True, version=1, created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    _set_tags(session, ticket, normalise_tags(data.tags))
    session.add(Message(ticket_id=ticket.id, author_kind=AuthorKind.CUSTOMER,
                        author_customer_id=customer.id, public=True, body=_body(data.body),
                        channel=data.channel, created_at=now))
    append_event(session, actor, kind="ticket.created", entity="ticket", entity_id=ticket.id,
                 after={**_state(ticket, session), "channel": data.channel.value,
                        "customer_id": customer.id})
    ticket_changed(session, actor, ticket,
                   TicketChange("created", None, Status.NEW, AuthorKind.CUSTOMER, True))
    session.flush()
    return detail(session, actor, ticket.id)


def detail(session: Session, actor: Actor, ticket_id: int) -> TicketDetail:
    row = session.execute(q._base([q.T.c.id == ticket_id])).first()
    if row is None:
        raise NotFound("ticket", ticket_id)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    masked = not sees_personal_data(actor)
    customer = session.get(Customer, ticket.customer_id)
    msgs = list(session.exec(
        select(Message).where(Message.ticket_id == ticket_id)
        .order_by(col(Message.id).desc()).limit(MAX_THREAD)))
    msgs.reverse()
    agent_ids = {m.author_agent_id for m in msgs if m.author_agent_id}
    agents = {a.id: a.name for a in session.exec(select(Agent).where(col(Agent.id).in_(agent_ids)))}

    def author(m: Message) -> str:
        if m.author_kind == AuthorKind.AGENT:
            return agents.get(m.author_agent_id, "agent")
        if m.author_kind == AuthorKind.CUSTOMER:
            return customer.name if customer else "customer"
        return "Bot" if m.author_kind == AuthorKind.BOT else "System"

    email = safe_optional(customer.email) if customer else None
    if masked and email:
        email = mask_email(email)
    base = convert.ticket_row(row)
    return TicketDetail(
        **base.model_dump(),
        category=safe_optional(ticket.category),
        product=safe_optional(ticket.product),
        channel_detail=safe_optional(ticket.channel_detail),
        customer_email=email,
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        messages=[convert.message_view(m, author(m), masked=masked) for m in msgs],
        links=links_for(session, ticket_id),
        merged_into_id=ticket.merged_into_id,
    )


def _add_message(session: Session, actor: Actor, ticket_id: int, body: str, *, public: bool,
                 expected_version: int | None) -> TicketDetail:
    ticket = _lock(session, ticket_id)
    _check_version(session, ticket, expected_version)
    if Status(ticket.status) is Status.CLOSED:
        raise Invalid("status", "a closed ticket cannot change; open a follow-up instead")
    before = _state(ticket, session)
    old_status = Status(ticket.status)
    now = utcnow()
    msg = Message(ticket_id=ticket_id, author_kind=AuthorKind.AGENT, author_agent_id=actor.agent_id,
                  public=public, body=_body(body), channel=Channel(ticket.channel), created_at=now)
    session.add(msg)
    if public:
        if actor.agent_id is not None and ticket.first_response_at is None:
            ticket.first_response_at = now
        if Status(ticket.status) is Status.NEW:
            ticket.status = Status.OPEN
        if ticket.assignee_id is None and actor.agent_id is not None:
            ticket.assignee_id = actor.agent_id  # who answers, owns
    _bump(ticket)
    session.add(ticket)
    session.flush()
    b, a = changes(before, _state(ticket, session))
    append_event(session, actor, kind="ticket.replied" if public else "ticket.noted",
                 entity="ticket", entity_id=ticket_id, before=b, after=a,
                 extra={"message_id": msg.id, "public": public})
    ticket_changed(session, actor, ticket, TicketChange(
        "replied" if public else "noted", old_status, Status(ticket.status), AuthorKind.AGENT,
        public))
    session.flush()
    return detail(session, actor, ticket_id)


def reply(session: Session, actor: Actor, ticket_id: int, body: str, *,
          expected_version: int | None = None) -> TicketDetail:
    """A public reply to the customer on the ticket's channel."""
    return _add_message(session, actor, ticket_id, body, public=True,
                        expected_version=expected_version)


def note(session: Session, actor: Actor, ticket_id: int, body: str, *,
         expected_version: int | None = None) -> TicketDetail:
    """An internal note, never shown to the customer."""
    return _add_message(session, actor, ticket_id, body, public=False,
                        expected_version=expected_version)


def _apply_status(ticket: Ticket, new: Status) -> None:
    old = Status(ticket.status)
    check_transition(old, new)
    ticket.status = new
    ticket.is_open = new.is_open
    now = utcnow()
    if new is Status.SOLVED and old is not Status.SOLVED:
        ticket.solved_at = now
    elif new.is_open:
        ticket.solved_at = None
    if new is Status.CLOSED:
        ticket.closed_at = now


def update(session: Session, actor: Actor, ticket_id: int, changes_in: TicketUpdate, *,
           expected_version: int) -> TicketDetail:
    """Change fields; a stale ``expected_version`` is a Conflict naming who saved last."""
    ticket = _lock(session, ticket_id)
    _check_version(session, ticket, expected_version)
    before = _state(ticket, session)
    old_status = Status(ticket.status)
    if changes_in.status is not None:
        _apply_status(ticket, changes_in.status)
    elif Status(ticket.status) is Status.CLOSED:
        raise Invalid("status", "a closed ticket cannot change; open a follow-up instead")
    if changes_in.priority is not None:
        ticket.priority = int(changes_in.priority)
    if changes_in.category is not None:
        ticket.category = safe_line(changes_in.category) or None
    if changes_in.product is not None:
        ticket.product = safe_line(changes_in.product) or None
    if changes_in.subject is not None:
        subject = safe_line(changes_in.subject).strip()
        if not subject:
            raise Invalid("subject", "must not be empty")
        ticket.subject = subject[:500]
    if changes_in.tags is not None:
        _set_tags(session, ticket, normalise_tags(changes_in.tags))
    if changes_in.team is not None:
        ticket.team_id = get_team(session, changes_in.team).id if changes_in.team else None
    b, a = changes(before, _state(ticket, session))
    if not a:
        return detail(session, actor, ticket_id)
    _bump(ticket)
    session.add(ticket)
    session.flush()
    b["version"], a["version"] = before["version"], ticket.version
    append_event(session, actor, kind="ticket.updated", entity="ticket", entity_id=ticket_id,
                 before=b, after=a)
    ticket_changed(session, actor, ticket,
                   TicketChange("updated", old_status, Status(ticket.status)))
    session.flush()
    return detail(session, actor, ticket_id)


def assign(session: Session, actor: Actor, ticket_id: int, assignee: str | None, *,
           team: str | None = None, expected_version: int | None = None,
           reason: str = "manual") -> TicketDetail:
    """Give a ticket to an agent (or nobody). Agents may only take or drop their own."""
    ticket = _lock(session, ticket_id)
    _check_version(session, ticket, expected_version)
    if Status(ticket.status) is Status.CLOSED:
        raise Invalid("status", "a closed ticket cannot change; open a follow-up instead")
    target: Agent | None = None
    if assignee:
        target = get_agent(session, assignee.strip().lower())
        if not target.active:
            raise Invalid("assignee", f"{target.login} is disabled")
    if actor.role is Role.AGENT:
        taking = target is not None and target.id == actor.agent_id and (
            ticket.assignee_id in (None, actor.agent_id))
        dropping = target is None and ticket.assignee_id == actor.agent_id
        if not (taking or dropping) or team is not None:
            raise Forbidden("agents may take an unassigned ticket or drop their own; "
                            "ask a supervisor to reassign")
    before = _state(ticket, session)
    ticket.assignee_id = target.id if target else None
    if team is not None:
        ticket.team_id = get_team(session, team).id if team else None
    b, a = changes(before, _state(ticket, session))
    if not a:
        return detail(session, actor, ticket_id)
    _bump(ticket)
    session.add(ticket)
    session.flush()
    b["version"], a["version"] = before["version"], ticket.version
    extra: dict[str, Any] = {"reason": reason}
    if target is not None and target.status != AgentStatus.ONLINE:
        extra["assignee_status"] = target.status
    append_event(session, actor, kind="ticket.assigned", entity="ticket", entity_id=ticket_id,
                 before=b, after=a, extra=extra)
    status = Status(ticket.status)
    ticket_changed(session, actor, ticket, TicketChange("assigned", status, status))
    session.flush()
    return detail(session, actor, ticket_id)


def require_agent(actor: Actor) -> int:
    if actor.agent_id is None:
        raise Forbidden("this needs a signed-in agent")
    require(actor, Role.AGENT, "this")
    return actor.agent_id
