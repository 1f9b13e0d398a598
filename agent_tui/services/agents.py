"""Agents and teams: who works the queue."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.enums import AgentStatus, Role, Source
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.tables import Agent, AgentTeam, StoreSetting, Team, utcnow
from agent_tui.domain.views import AgentView, TeamView
from agent_tui.services.convert import agent_view
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _clean_csv(values: Sequence[str] | str | None) -> str:
    if values is None:
        return ""
    if isinstance(values, str):
        values = values.split(",")
    return ",".join(sorted({v.strip().lower() for v in values if v.strip()}))


def team_names(session: Session, agent_id: int) -> list[str]:
    stmt = (
        select(Team.name)
        .join(AgentTeam, col(AgentTeam.team_id) == col(Team.id))
        .where(AgentTeam.agent_id == agent_id)
        .order_by(Team.name)
    )
    return list(session.exec(stmt))


def get_agent(session: Session, login: str) -> Agent:
    agent = session.exec(select(Agent).where(Agent.login == login)).first()
    if agent is None:
        raise NotFound("agent", login)
    return agent


def get_team(session: Session, name: str) -> Team:
    team = session.exec(select(Team).where(Team.name == name)).first()
    if team is None:
        raise NotFound("team", name)
    return team


def view_agent(session: Session, agent: Agent) -> AgentView:
    assert agent.id is not None
    return agent_view(agent, team_names(session, agent.id))


def actor_for(session: Session, login: str, source: Source | str) -> Actor:
    """The actor for an agent login; refuses disabled agents."""
    agent = get_agent(session, login)
    if not agent.active:
        raise Invalid("agent", f"{login} is disabled")
    return Actor(login=agent.login, role=Role(agent.role), source=Source(source), agent_id=agent.id)


DEFAULT_LOGIN_KEY = "default_login"


def default_login(session: Session) -> str | None:
    """The store's default agent: the one set (by ``demo`` or ``agent default``) if
    still active, else the first active admin, else the first active agent."""
    chosen = session.get(StoreSetting, DEFAULT_LOGIN_KEY)
    if chosen is not None:
        agent = session.exec(select(Agent).where(Agent.login == chosen.value)).first()
        if agent is not None and agent.active:
            return agent.login
    for where in (Agent.role == Role.ADMIN.value, sa.true()):
        stmt = select(Agent.login).where(Agent.active == True, where)  # noqa: E712
        login = session.exec(stmt.order_by(col(Agent.id))).first()
        if login:
            return login
    return None


def set_default_login(session: Session, actor: Actor, login: str) -> str:
    """Make ``login`` the agent the app opens as when no ``--as`` is given."""
    require(actor, Role.ADMIN, "choosing the default agent")
    agent = get_agent(session, login.strip().lower())
    if not agent.active:
        raise Invalid("agent", f"{agent.login} is disabled")
    row = session.get(StoreSetting, DEFAULT_LOGIN_KEY)
    before = {"default_login": row.value} if row else None
    if row is None:
        row = StoreSetting(key=DEFAULT_LOGIN_KEY, value=agent.login)
    row.value, row.updated_at = agent.login, utcnow()
    session.add(row)
    append_event(session, actor, kind="store.default_login_set", entity="store_setting",
                 entity_id=None, before=before, after={"default_login": agent.login})
    return agent.login


def _set_teams(session: Session, agent_id: int, teams: Sequence[str]) -> list[str]:
    session.execute(sa.delete(AgentTeam).where(col(AgentTeam.agent_id) == agent_id))
    names: list[str] = []
    for name in teams:
        team = get_team(session, name.strip())
        assert team.id is not None
        session.add(AgentTeam(agent_id=agent_id, team_id=team.id))
        names.append(team.name)
    return sorted(names)


def add_agent(session: Session, actor: Actor, *, login: str, name: str, role: Role = Role.AGENT,
              email: str | None = None, teams: Sequence[str] = (), skills: Sequence[str] = (),
              languages: Sequence[str] = (), capacity: int = 10,
              status: AgentStatus = AgentStatus.OFFLINE) -> AgentView:
    require(actor, Role.ADMIN, "adding an agent")
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise Invalid("login", "use 1-64 lower-case letters, digits, '.', '_' or '-'")
    if not name.strip():
        raise Invalid("name", "must not be empty")
    if capacity < 0:
        raise Invalid("capacity", "must be 0 or more")
    if session.exec(select(Agent.id).where(Agent.login == login)).first() is not None:
        raise Invalid("login", f"an agent {login} already exists")
    agent = Agent(login=login, name=name.strip(), role=role, email=email, capacity=capacity,
                  skills=_clean_csv(skills), languages=_clean_csv(languages), status=status)
    session.add(agent)
    session.flush()
    assert agent.id is not None
    team_list = _set_teams(session, agent.id, teams)
    append_event(session, actor, kind="agent.created", entity="agent", entity_id=agent.id,
                 after={"login": login, "name": agent.name, "role": role.value,
                        "teams": team_list, "skills": agent.skills,
                        "languages": agent.languages, "capacity": capacity})
    return agent_view(agent, team_list)


def set_agent(session: Session, actor: Actor, login: str, *, name: str | None = None,
              role: Role | None = None, teams: Sequence[str] | None = None,
              skills: Sequence[str] | None = None, languages: Sequence[str] | None = None,
              capacity: int | None = None, status: AgentStatus | None = None,
              active: bool | None = None) -> AgentView:
    """Change an agent. Agents may change only their own status."""
    agent = get_agent(session, login)
    assert agent.id is not None
    own_status_only = (actor.agent_id == agent.id and status is not None and all(
        v is None for v in (name, role, teams, skills, languages, capacity, active)))
    if not own_status_only:
        require(actor, Role.ADMIN, "changing an agent")
    before: dict[str, Any] = {"name": agent.name, "role": agent.role, "skills": agent.skills,
              "languages": agent.languages, "capacity": agent.capacity,
              "status": agent.status, "active": agent.active,
              "teams": team_names(session, agent.id)}
    if name is not None:
        agent.name = name.strip()
    if role is not None:
        agent.role = role
    if skills is not None:
        agent.skills = _clean_csv(skills)
    if languages is not None:
        agent.languages = _clean_csv(languages)
    if capacity is not None:
        if capacity < 0:
            raise Invalid("capacity", "must be 0 or more")
        agent.capacity = capacity
    if status is not None:
        agent.status = status
    if active is not None:
        agent.active = active
        if not active:
            agent.status = AgentStatus.OFFLINE
    team_list = _set_teams(session, agent.id, teams) if teams is not None else before["teams"]
    session.add(agent)
    after = {"name": agent.name, "role": agent.role, "skills": agent.skills,
             "languages": agent.languages, "capacity": agent.capacity,
             "status": agent.status, "active": agent.active, "teams": team_list}
    changed_keys = [k for k in after if after[k] != before[k]]
    if changed_keys:
        kind = "agent.disabled" if active is False else "agent.updated"
        append_event(session, actor, kind=kind, entity="agent", entity_id=agent.id,
                     before={k: before[k] for k in changed_keys},
                     after={k: after[k] for k in changed_keys})
    return agent_view(agent, list(team_list))


def list_agents(session: Session, *, include_disabled: bool = True) -> list[AgentView]:
    stmt = select(Agent).order_by(Agent.login)
    if not include_disabled:
        stmt = stmt.where(Agent.active == True)  # noqa: E712
    return [view_agent(session, a) for a in session.exec(stmt)]


def add_team(session: Session, actor: Actor, *, name: str, description: str = "") -> TeamView:
    require(actor, Role.ADMIN, "adding a team")
    name = name.strip().lower()
    if not re.match(r"^[a-z0-9][a-z0-9._-]{0,99}$", name):
        raise Invalid("name", "use lower-case letters, digits, '.', '_' or '-'")
    if session.exec(select(Team.id).where(Team.name == name)).first() is not None:
        raise Invalid("name", f"a team {name} already exists")
    team = Team(name=name, description=description, created_at=utcnow())
    session.add(team)
    session.flush()
    assert team.id is not None
    append_event(session, actor, kind="team.created", entity="team", entity_id=team.id,
                 after={"name": name, "description": description})
    return TeamView(id=team.id, name=team.name, description=team.description, members=0)


def list_teams(session: Session) -> list[TeamView]:
    members = sa.func.count(col(AgentTeam.agent_id))
    stmt = (
        select(Team, members)
        .outerjoin(AgentTeam, col(AgentTeam.team_id) == col(Team.id))
        .group_by(col(Team.id))
        .order_by(Team.name)
    )
    out = []
    for team, n in session.exec(stmt):
        assert team.id is not None
        out.append(TeamView(id=team.id, name=team.name, description=team.description,
                            members=int(n)))
    return out
