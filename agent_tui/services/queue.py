"""The unified queue: views, filters, sorts, counts, saved views, presence."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import Channel, PresenceState, Sort, View
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.tables import Agent, PresenceRow, SavedViewRow, Team, utcnow
from agent_tui.domain.views import Page, Presence, SavedView, TicketFilters, TicketRow
from agent_tui.services import convert
from agent_tui.services.perms import sees_personal_data
from agent_tui.services.tickets import require_agent
from agent_tui.store import queue as q
from agent_tui.store.events import Actor, append_event

PRESENCE_TTL = timedelta(seconds=45)


def _team_id(session: Session, name: str, field: str) -> int:
    team_id = session.exec(select(Team.id).where(Team.name == name.strip().lower())).first()
    if team_id is None:
        raise Invalid(field, f"no team named {name!r}")
    return team_id


def spec_for(session: Session, actor: Actor, view: View, *, view_arg: str | None = None,
             filters: TicketFilters | None = None, sort: Sort = Sort.PRIORITY) -> q.QueueSpec:
    f = filters or TicketFilters()
    team_id = channel = None
    if view is View.TEAM:
        if not view_arg:
            raise Invalid("view_arg", "the team view needs a team name")
        team_id = _team_id(session, view_arg, "view_arg")
    elif view is View.CHANNEL:
        try:
            channel = Channel(view_arg or "")
        except ValueError:
            raise Invalid("view_arg", f"no channel named {view_arg!r}") from None
    assignee_id, unassigned = None, False
    if f.assignee:
        who = f.assignee.strip().lower()
        if who == "none":
            unassigned = True
        elif who == "me":
            assignee_id = require_agent(actor)
        else:
            assignee_id = session.exec(select(Agent.id).where(Agent.login == who)).first()
            if assignee_id is None:
                raise Invalid("assignee", f"no agent named {who!r}")
    return q.QueueSpec(
        view=view, sort=sort, me=actor.agent_id, team_id=team_id, channel=channel,
        statuses=f.status, priorities=[int(p) for p in f.priority], channels=f.channel,
        filter_team_id=_team_id(session, f.team, "team") if f.team else None,
        assignee_id=assignee_id, unassigned=unassigned, tag=f.tag, customer_id=f.customer_id,
        text=f.text.strip() if f.text and f.text.strip() else None,
    )


def list_tickets(session: Session, actor: Actor, view: View, *, view_arg: str | None = None,
                 filters: TicketFilters | None = None, sort: Sort = Sort.PRIORITY,
                 after: str | None = None, before: str | None = None,
                 limit: int = 50) -> Page[TicketRow]:
    spec = spec_for(session, actor, view, view_arg=view_arg, filters=filters, sort=sort)
    raw = q.page(session, spec, after=after, before=before, limit=limit)
    items = [convert.ticket_row(r) for r in raw.rows]
    if not sees_personal_data(actor):  # agents: e-mails and phones in text masked (§9)
        items = [convert.masked_row(r) for r in items]
    return Page[TicketRow](items=items, next_cursor=raw.next_cursor, prev_cursor=raw.prev_cursor)


def queue_row(session: Session, ticket_id: int) -> TicketRow | None:
    """The queue's row for one ticket, as a page fetch builds it (unmasked).

    The same columns, joins and conversion as :func:`list_tickets`, so a row
    that travels in an event (``services.event_rows``) is the row a page
    would return at that moment; an agent gets it through ``masked_row``.
    """
    row = session.connection().execute(q._base([q.T.c.id == ticket_id])).first()
    return None if row is None else convert.ticket_row(row)


def count(session: Session, actor: Actor, view: View, *, view_arg: str | None = None,
          filters: TicketFilters | None = None) -> int:
    return q.count(session, spec_for(session, actor, view, view_arg=view_arg, filters=filters))


# ---------------------------------------------------------------- saved views


def save_view(session: Session, actor: Actor, *, name: str, view: View,
              view_arg: str | None = None, filters: TicketFilters | None = None,
              sort: Sort = Sort.PRIORITY) -> SavedView:
    agent_id = require_agent(actor)
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("name", "give the view a name of 1-100 characters")
    spec_for(session, actor, view, view_arg=view_arg, filters=filters, sort=sort)  # validates
    filters_json = (filters or TicketFilters()).model_dump_json()
    row = session.exec(select(SavedViewRow).where(
        SavedViewRow.agent_id == agent_id, SavedViewRow.name == name)).first()
    if row is None:
        row = SavedViewRow(agent_id=agent_id, name=name, view=view.value)
    row.view, row.view_arg, row.filters, row.sort = view.value, view_arg, filters_json, sort.value
    session.add(row)
    session.flush()
    assert row.id is not None
    append_event(session, actor, kind="view.saved", entity="saved_view", entity_id=row.id,
                 after={"name": name, "view": view.value, "view_arg": view_arg,
                        "filters": json.loads(filters_json), "sort": sort.value})
    return _saved(row)


def _saved(row: SavedViewRow) -> SavedView:
    assert row.id is not None
    return SavedView(id=row.id, name=row.name, view=View(row.view), view_arg=row.view_arg,
                     filters=TicketFilters.model_validate_json(row.filters), sort=Sort(row.sort))


def list_views(session: Session, actor: Actor) -> list[SavedView]:
    agent_id = require_agent(actor)
    rows = session.exec(select(SavedViewRow).where(SavedViewRow.agent_id == agent_id)
                        .order_by(SavedViewRow.name))
    return [_saved(r) for r in rows]


def delete_view(session: Session, actor: Actor, name: str) -> None:
    agent_id = require_agent(actor)
    row = session.exec(select(SavedViewRow).where(
        SavedViewRow.agent_id == agent_id, SavedViewRow.name == name)).first()
    if row is None:
        raise NotFound("saved view", name)
    append_event(session, actor, kind="view.deleted", entity="saved_view", entity_id=row.id,
                 before={"name": name})
    session.delete(row)


# ---------------------------------------------------------------- presence


def set_presence(session: Session, actor: Actor, ticket_id: int | None,
                 state: PresenceState | None) -> None:
    """Say what I am doing on a ticket (or nothing). Presence is not history: no event."""
    agent_id = require_agent(actor)
    session.execute(sa.delete(PresenceRow).where(col(PresenceRow.agent_id) == agent_id))
    if ticket_id is not None and state is not None:
        session.add(PresenceRow(agent_id=agent_id, ticket_id=ticket_id, state=state.value,
                                updated_at=utcnow()))


def presence(session: Session, actor: Actor, ticket_ids: list[int]) -> list[Presence]:
    """Other agents viewing or composing on these tickets, fresher than the TTL."""
    if not ticket_ids:
        return []
    stmt = (
        select(PresenceRow, Agent.login)
        .join(Agent, col(Agent.id) == col(PresenceRow.agent_id))
        .where(col(PresenceRow.ticket_id).in_(ticket_ids[:500]),
               col(PresenceRow.updated_at) >= utcnow() - PRESENCE_TTL)
    )
    out = []
    for row, login in session.exec(stmt):
        if row.agent_id == actor.agent_id:
            continue
        out.append(Presence(ticket_id=row.ticket_id, agent=login,
                            state=PresenceState(row.state), at=row.updated_at))
    return out
