"""``next_ticket()``: the most urgent ticket the signed-in agent may take, and why.

Candidates are read from short index ranges only: per team of mine, the top
unassigned open tickets by priority and by SLA due time (the partial
``ix_route_free_*`` indexes of migration 0005), and my own untouched tickets
(``ix_q_asg_prio``). They are then scored in Python by time to breach ×
priority × skill match (``domain.routing.urgency``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from agent_tui.domain.enums import Priority
from agent_tui.domain.errors import Forbidden
from agent_tui.domain.routing import split_csv, urgency
from agent_tui.domain.tables import Agent, AgentTeam, utcnow
from agent_tui.domain.views_routing import NextTicket
from agent_tui.services import convert, routing, tickets
from agent_tui.store import queue as q
from agent_tui.store.events import Actor

#: How many rows each index range contributes to the ranking.
PER_RANGE = 20


# SQLite's statistics cannot tell that "assignee_id IS NULL" matches most open
# tickets, so left alone it reads them through ix_q_asg_* and sorts (0.5 s at
# 150k open); INDEXED BY names the partial index made for this query.
# PostgreSQL knows the null fraction and picks it by itself.
_FREE = [
    "SELECT id FROM ticket {hint} WHERE {is_open} AND assignee_id IS NULL AND team_id = :team "
    "ORDER BY priority DESC, created_at, id LIMIT :n",
    "SELECT id FROM ticket {hint} WHERE {is_open} AND assignee_id IS NULL AND team_id = :team "
    "AND sla_due_at IS NOT NULL ORDER BY sla_due_at, id LIMIT :n",
]
_FREE_SQLITE = [sql.format(hint=f"INDEXED BY {ix}", is_open="is_open = 1")
                for sql, ix in zip(_FREE, ("ix_route_free_prio", "ix_route_free_due"), strict=True)]
_FREE_PG = [sql.format(hint="", is_open="is_open") for sql in _FREE]


def _ids(session: Session, stmt: sa.Select[Any]) -> list[int]:
    return [int(i) for i in session.connection().execute(stmt).scalars()]


def next_ticket(session: Session, actor: Actor, *, take: bool = False) -> NextTicket | None:
    """The best ticket for me now, or None; with ``take`` it becomes mine (one event)."""
    me = tickets.require_agent(actor)
    agent = session.get(Agent, me)
    if agent is None:
        raise Forbidden("this needs a signed-in agent")
    t = q.T
    team_ids = list(session.exec(select(AgentTeam.team_id).where(AgentTeam.agent_id == me)))
    ids: set[int] = set()
    sqlite = session.get_bind().dialect.name == "sqlite"
    for team_id in team_ids:
        for sql in (_FREE_SQLITE if sqlite else _FREE_PG):
            ids.update(int(i) for i in session.connection().execute(
                sa.text(sql), {"team": team_id, "n": PER_RANGE}).scalars())
    mine = set(_ids(session, sa.select(t.c.id).where(
        t.c.is_open == sa.true(), t.c.assignee_id == me, t.c.first_response_at.is_(None))
        .order_by(t.c.priority.desc(), t.c.created_at, t.c.id).limit(PER_RANGE)))
    ids |= mine
    if not ids:
        return None
    rows = session.connection().execute(q._base([t.c.id.in_(ids)])).all()
    details = {r.id: r for r in session.connection().execute(
        sa.select(t.c.id, t.c.category, t.c.product, t.c.channel).where(t.c.id.in_(ids)))}
    my_skills = split_csv(agent.skills)
    now = utcnow()
    rules = routing.load_rules(session)
    best: tuple[float, int, str, Any] | None = None
    for row in rows:
        d = details[row.id]
        placement = routing.place(session, category=d.category, product=d.product,
                                  channel=d.channel, text=row.subject, rules=rules)
        skill_match = placement.skills <= my_skills
        score, reason = urgency(Priority(row.priority), row.sla_due_at, now,
                                skill_match=skill_match, mine=row.id in mine)
        # Highest score first; the oldest ticket wins a tie.
        if best is None or (score, -row.id) > (best[0], -best[1]):
            best = (score, row.id, reason, row)
    assert best is not None
    score, ticket_id, reason, row = best
    if take and ticket_id not in mine:
        detail = tickets.assign(session, actor, ticket_id, actor.login, reason="next_ticket")
        row = session.connection().execute(q._base([t.c.id == ticket_id])).one()
        assert detail.assignee == actor.login
    return NextTicket(ticket=convert.ticket_row(row), reason=reason, score=score,
                      taken=take)

