"""The monitor's agent board and its bulk action (``assign_many``).

The board, per active agent: status and capacity (``agent``), teams
(``agentteam``), the active load counted like routing does
(``routing.open_loads``: new/open tickets, bounded at capacity + 1 through
the partial ``ix_q_asg_*`` index), tickets solved today and their mean
handle time (today's ``metric_day`` rows: ``solved_n``, ``handle`` ÷
``fcr_base``, the AHT definition of ``services.metrics``), and the current
ticket: the ticket of a fresh presence row (viewing or composing, within
``queue.PRESENCE_TTL``), else the open ticket assigned to the agent that
changed last (one ``LIMIT 1`` range of ``ix_q_asg_upd`` per agent).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import AgentStatus, PresenceState, Role
from agent_tui.domain.errors import BackendError, Invalid
from agent_tui.domain.safe_text import safe_line
from agent_tui.domain.tables import PresenceRow
from agent_tui.domain.views_monitor import AgentBoardRow, AssignResult
from agent_tui.services import tickets
from agent_tui.services.perms import require
from agent_tui.services.queue import PRESENCE_TTL
from agent_tui.services.routing import open_loads
from agent_tui.store.events import Actor

DAY_S = 86_400
MAX_BULK = 500
_CHUNK = 200


def _current_assigned(session: Session, agent_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Per agent, the open ticket assigned to them that changed last: (id, subject)."""
    is_open = "is_open = 1" if session.get_bind().dialect.name == "sqlite" else "is_open"
    out: dict[int, tuple[int, str]] = {}
    for i in range(0, len(agent_ids), _CHUNK):
        terms = [f"SELECT * FROM (SELECT assignee_id, id, subject FROM ticket "
                 f"WHERE assignee_id = {int(a)} AND {is_open} "
                 f"ORDER BY updated_at DESC, id DESC LIMIT 1) AS c{j}"
                 for j, a in enumerate(agent_ids[i:i + _CHUNK])]
        for agent_id, ticket_id, subject in session.execute(sa.text(" UNION ALL ".join(terms))):
            out[int(agent_id)] = (int(ticket_id), str(subject))
    return out


def agent_board(session: Session, now: datetime, teams: dict[int, str]) -> list[AgentBoardRow]:
    """Every active agent's row, online first, then away, then offline, by login."""
    agents = session.execute(sa.text(
        "SELECT id, login, name, role, status, capacity FROM agent WHERE active = :yes "
        "ORDER BY login"), {"yes": True}).all()
    if not agents:
        return []
    member: dict[int, list[str]] = {}
    for agent_id, team_id in session.execute(sa.text("SELECT agent_id, team_id FROM agentteam")):
        if team_id in teams:
            member.setdefault(int(agent_id), []).append(teams[team_id])
    loads = open_loads(session, {int(a.id): int(a.capacity) for a in agents})
    day = int(now.timestamp()) // DAY_S
    today = {int(a): (int(n or 0), int(h or 0), int(b or 0)) for a, n, h, b in session.execute(
        sa.text("SELECT agent_id, sum(solved_n), sum(handle), sum(fcr_base) FROM metric_day "
                "WHERE day = :day GROUP BY agent_id"), {"day": day})}
    p = PresenceRow.__table__  # type: ignore[attr-defined]
    presence = {int(a): (int(t), str(s)) for a, t, s in session.execute(
        sa.select(p.c.agent_id, p.c.ticket_id, p.c.state)
        .where(p.c.updated_at >= now - PRESENCE_TTL))}
    assigned = _current_assigned(session, [int(a.id) for a in agents])
    subjects: dict[int, str] = {}
    seen_ids = [t for t, _s in presence.values()]
    if seen_ids:
        subjects = {int(i): str(s) for i, s in session.execute(
            sa.text("SELECT id, subject FROM ticket WHERE id IN ("
                    + ",".join(str(int(t)) for t in seen_ids) + ")"))}
    rows: list[AgentBoardRow] = []
    for a in agents:
        aid = int(a.id)
        solved, handle, base = today.get(aid, (0, 0, 0))
        state: PresenceState | None = None
        current: tuple[int, str] | None = None
        if aid in presence:
            tid, raw_state = presence[aid]
            state = PresenceState(raw_state)
            current = (tid, subjects.get(tid, ""))
        elif aid in assigned:
            current = assigned[aid]
        rows.append(AgentBoardRow(
            login=a.login, name=safe_line(a.name), role=Role(a.role),
            status=AgentStatus(a.status), teams=sorted(member.get(aid, [])),
            load=loads.get(aid, 0), capacity=int(a.capacity), handled_today=solved,
            handle_time_today_s=handle / base if base else None,
            current_ticket_id=current[0] if current else None,
            current_subject=safe_line(current[1]) if current else None, current_state=state))
    order = {AgentStatus.ONLINE: 0, AgentStatus.AWAY: 1, AgentStatus.OFFLINE: 2}
    return sorted(rows, key=lambda r: (order.get(r.status, 3), r.login))


def assign_many(session: Session, actor: Actor, ticket_ids: Sequence[int],
                assignee: str | None, *, team: str | None = None,
                expected_versions: dict[int, int] | None = None) -> list[AssignResult]:
    """Reassign several tickets, each in its own savepoint: one event per ticket changed.

    A ticket that fails (changed since ``expected_versions`` was read, closed,
    not found, refused) is reported with its one-line reason and left as it
    was; the others go ahead. Supervisors and admins only.
    """
    require(actor, Role.SUPERVISOR, "reassigning several tickets")
    ids = list(dict.fromkeys(int(t) for t in ticket_ids))
    if not ids:
        raise Invalid("ticket_ids", "choose at least one ticket")
    if len(ids) > MAX_BULK:
        raise Invalid("ticket_ids", f"at most {MAX_BULK} tickets at a time")
    versions = expected_versions or {}
    out: list[AssignResult] = []
    for ticket_id in ids:
        try:
            with session.begin_nested():
                done = tickets.assign(session, actor, ticket_id, assignee, team=team,
                                      expected_version=versions.get(ticket_id),
                                      reason="monitor")
        except BackendError as exc:
            out.append(AssignResult(ticket_id=ticket_id, ok=False, error=str(exc)))
            continue
        out.append(AssignResult(ticket_id=ticket_id, ok=True, version=done.version,
                                assignee=done.assignee, team=done.team))
    return out
