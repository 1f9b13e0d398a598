"""Escalate, merge and link tickets — each under row locks, with its events.

- **escalate** raises the priority one step, hands the ticket to the lead
  of its team (or moves it to a named team and that team's lead), and
  records the reason as an internal note: one ``ticket.escalated`` event.
- **merge** moves the source ticket's messages into the target (they keep
  their ids and times, so the target's thread stays in time order), closes
  the source with ``merged_into_id``, leaves a system note on both and
  appends ``ticket.merged`` (source) and ``ticket.merged_in`` (target).
  Tickets of two different customers merge only when asked explicitly, by
  a supervisor or admin.
- **link / unlink** tie two tickets (related, duplicate, follow-up). A link
  changes no field of either ticket — nothing routing, surveys or SLA read —
  so it bumps no version and runs no lifecycle reaction; each side gets a
  ``ticket.linked`` / ``ticket.unlinked`` event for its history and the feed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from agent_tui.domain.enums import AuthorKind, Channel, Priority, Role, Status
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.rules import normalise_tags
from agent_tui.domain.safe_text import safe_text
from agent_tui.domain.tables import Agent, Message, Team, Ticket, TicketLink, utcnow
from agent_tui.domain.views import TicketDetail
from agent_tui.domain.views_links import LinkKind
from agent_tui.services import tickets
from agent_tui.services.agents import get_team
from agent_tui.services.lifecycle import TicketChange, ticket_changed
from agent_tui.services.perms import require
from agent_tui.services.ticket_links import find_link
from agent_tui.store.events import Actor, append_event, changes

MAX_REASON = 2000


def _open_ticket(ticket: Ticket) -> None:
    if Status(ticket.status) is Status.CLOSED:
        raise Invalid("status", f"#{ticket.id} is closed; a closed ticket cannot change")


def _system_note(session: Session, ticket: Ticket, body: str) -> Message:
    assert ticket.id is not None
    msg = Message(ticket_id=ticket.id, author_kind=AuthorKind.SYSTEM, public=False, body=body,
                  channel=Channel(ticket.channel), created_at=utcnow())
    session.add(msg)
    return msg


# -- escalate ------------------------------------------------------------------
def escalate(session: Session, actor: Actor, ticket_id: int, reason: str, *,
             team: str | None = None, expected_version: int) -> TicketDetail:
    """One step up in priority, to the team lead (of ``team`` when given), with the reason."""
    tickets.require_agent(actor)
    why = safe_text(reason).strip()
    if len(why) < 3:
        raise Invalid("reason", "say why it needs escalating (a few words at least)")
    if len(why) > MAX_REASON:
        raise Invalid("reason", f"longer than {MAX_REASON} characters")
    ticket = tickets._lock(session, ticket_id)
    tickets._check_version(session, ticket, expected_version)
    _open_ticket(ticket)
    before = tickets._state(ticket, session)
    old_status = Status(ticket.status)
    if Priority(ticket.priority) < Priority.URGENT:
        ticket.priority = int(Priority(ticket.priority) + 1)
    target: Team | None
    if team:
        target = get_team(session, team)
        ticket.team_id = target.id
        ticket.assignee_id = None  # the new team's lead below, or its queue
    else:
        target = session.get(Team, ticket.team_id) if ticket.team_id else None
    lead = session.get(Agent, target.lead_agent_id) if target and target.lead_agent_id else None
    if lead is not None and lead.active:
        ticket.assignee_id = lead.id
    if Status(ticket.status) is Status.NEW:
        ticket.status = Status.OPEN
    where = (f"to {lead.name} ({lead.login}), lead of {target.name}" if lead and target
             else f"to team {target.name}" if target else "with no team to hand it to")
    who = actor.login
    note = Message(ticket_id=ticket_id, author_kind=AuthorKind.AGENT,
                   author_agent_id=actor.agent_id, public=False,
                   body=f"Escalated by {who} {where}, priority "
                        f"{Priority(ticket.priority).label}.\nReason: {why}",
                   channel=Channel(ticket.channel), created_at=utcnow())
    session.add(note)
    tickets._bump(ticket)
    session.add(ticket)
    session.flush()
    b, a = changes(before, tickets._state(ticket, session))
    append_event(session, actor, kind="ticket.escalated", entity="ticket", entity_id=ticket_id,
                 before=b, after=a, extra={"reason": why, "message_id": note.id,
                                           "team": target.name if target else None,
                                           "lead": lead.login if lead else None})
    ticket_changed(session, actor, ticket,
                   TicketChange("updated", old_status, Status(ticket.status)))
    session.flush()
    return tickets.detail(session, actor, ticket_id)


# -- merge ---------------------------------------------------------------------
def merge(session: Session, actor: Actor, source_id: int, into_id: int, *,
          expected_version: int, into_version: int | None = None,
          other_customer: bool = False) -> TicketDetail:
    """Move ``source_id``'s conversation into ``into_id`` and close the source.

    Returns the target as it is after the merge. ``expected_version`` is the
    source's (the ticket the agent is looking at); ``into_version`` the
    target's, when the caller has seen it.
    """
    tickets.require_agent(actor)
    if source_id == into_id:
        raise Invalid("into", "a ticket cannot be merged into itself")
    # Lock in id order: two merges of the same pair, either way round, never deadlock.
    first, second = sorted((source_id, into_id))
    locked = {first: tickets._lock(session, first), second: tickets._lock(session, second)}
    source, into = locked[source_id], locked[into_id]
    tickets._check_version(session, source, expected_version)
    tickets._check_version(session, into, into_version)
    if source.merged_into_id is not None:
        raise Invalid("ticket", f"#{source_id} was already merged into #{source.merged_into_id}")
    _open_ticket(source)
    if Status(into.status) is Status.CLOSED:
        raise Invalid("into", f"#{into_id} is closed; merge into an open ticket")
    if source.customer_id != into.customer_id:
        if not other_customer:
            raise Invalid("into", f"#{into_id} belongs to another customer; merge anyway only "
                          "if it is the same person (--other-customer)")
        require(actor, Role.SUPERVISOR, "merging tickets of two customers")
    src_before, into_before = (tickets._state(source, session), tickets._state(into, session))
    src_status, into_status = Status(source.status), Status(into.status)
    moved = session.execute(sa.select(sa.func.count()).select_from(Message)
                            .where(col(Message.ticket_id) == source_id)).scalar_one()
    session.execute(sa.update(Message).where(col(Message.ticket_id) == source_id)
                    .values(ticket_id=into_id))
    merged_tags = normalise_tags([*into.tags.split(), *source.tags.split()])
    if merged_tags != into.tags.split():
        tickets._set_tags(session, into, merged_tags)
    if into.first_response_at is None and source.first_response_at is not None:
        into.first_response_at = source.first_response_at
    _system_note(session, into, f"#{source_id} ({source.subject}) was merged into this ticket "
                 f"by {actor.login}: {moved} message(s) moved here.")
    _system_note(session, source, f"Merged into #{into_id} by {actor.login}; "
                 "its conversation continues there.")
    now = utcnow()
    source.status, source.is_open, source.closed_at = Status.CLOSED, False, now
    source.merged_into_id = into_id
    tickets._bump(source)
    tickets._bump(into)
    session.add(source)
    session.add(into)
    session.flush()
    b, a = changes(src_before, tickets._state(source, session))
    append_event(session, actor, kind="ticket.merged", entity="ticket", entity_id=source_id,
                 before=b, after={**a, "merged_into_id": into_id},
                 extra={"into_id": into_id, "messages_moved": moved})
    b, a = changes(into_before, tickets._state(into, session))
    append_event(session, actor, kind="ticket.merged_in", entity="ticket", entity_id=into_id,
                 before=b, after=a, extra={"source_id": source_id, "messages_moved": moved})
    ticket_changed(session, actor, source, TicketChange("updated", src_status, Status.CLOSED))
    ticket_changed(session, actor, into, TicketChange("updated", into_status,
                                                      Status(into.status)))
    session.flush()
    return tickets.detail(session, actor, into_id)


# -- links -----------------------------------------------------------------------
def link(session: Session, actor: Actor, ticket_id: int, other_id: int,
         kind: LinkKind = LinkKind.RELATED) -> TicketDetail:
    """Tie ``ticket_id`` to ``other_id`` ("#ticket_id duplicate of #other_id")."""
    tickets.require_agent(actor)
    if ticket_id == other_id:
        raise Invalid("other", "a ticket cannot be linked to itself")
    for tid in sorted((ticket_id, other_id)):
        tickets._lock(session, tid)
    if (existing := find_link(session, ticket_id, other_id)) is not None:
        raise Invalid("other", f"#{ticket_id} and #{other_id} are already linked "
                      f"({existing.kind}); unlink them first")
    row = TicketLink(ticket_id=ticket_id, other_id=other_id, kind=kind.value,
                     created_by=actor.login, created_at=utcnow())
    session.add(row)
    session.flush()
    append_event(session, actor, kind="ticket.linked", entity="ticket", entity_id=ticket_id,
                 extra={"other_id": other_id, "kind": kind.value, "outgoing": True})
    append_event(session, actor, kind="ticket.linked", entity="ticket", entity_id=other_id,
                 extra={"other_id": ticket_id, "kind": kind.value, "outgoing": False})
    return tickets.detail(session, actor, ticket_id)


def unlink(session: Session, actor: Actor, ticket_id: int, other_id: int) -> TicketDetail:
    """Remove the link between the two tickets, whichever side made it."""
    tickets.require_agent(actor)
    for tid in sorted({ticket_id, other_id}):
        tickets._lock(session, tid)
    row = find_link(session, ticket_id, other_id)
    if row is None:
        raise NotFound("link", f"#{ticket_id}–#{other_id}")
    kind = row.kind
    session.delete(row)
    session.flush()
    for a, b in ((ticket_id, other_id), (other_id, ticket_id)):
        append_event(session, actor, kind="ticket.unlinked", entity="ticket", entity_id=a,
                     extra={"other_id": b, "kind": kind})
    return tickets.detail(session, actor, ticket_id)

