"""CLI commands for people: ``agent add|list|disable|set`` and ``team add|list``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from agent_tui.cli.common import (
    CONTEXT,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    handle_errors,
    print_table,
    store_for,
)
from agent_tui.domain.enums import AgentStatus, Role
from agent_tui.domain.views import AgentView
from agent_tui.services import agents

E = TypeVar("E", bound=StrEnum)

agent_app = typer.Typer(name="agent", help="Agents: who works the queue.",
                        context_settings=CONTEXT, no_args_is_help=True)
team_app = typer.Typer(name="team", help="Teams: the queues agents belong to.",
                       context_settings=CONTEXT, no_args_is_help=True)

NameOpt = Annotated[str | None, typer.Option("--name", help="Display name.")]
RoleOpt = Annotated[str | None, typer.Option("--role", help="agent, supervisor or admin.")]
TeamOpt = Annotated[list[str] | None, typer.Option(
    "--team", help="A team the agent works in; repeat for several (or a,b).")]
SkillsOpt = Annotated[str | None, typer.Option(
    "--skills", help="Comma-separated: billing,refunds.")]
LangOpt = Annotated[str | None, typer.Option("--languages", help="Comma-separated: en,zh.")]
CapacityOpt = Annotated[int | None, typer.Option(
    "--capacity", help="How many open tickets routing may give this agent.")]


def say(text: str) -> None:
    """One message for people, never markup, never wrapped mid-line."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _choice(enum: type[E], value: str, option: str) -> E:
    """Parse an enum option ourselves so a bad value is one line, not a usage box."""
    try:
        return enum(value.strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        fail(f"{option}: {value!r} is not one of {allowed}", EXIT_USAGE)


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v for v in value.split(",") if v.strip()]


def _teams(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def _show_agents(title: str, rows: list[AgentView], *, with_active: bool = False) -> None:
    """Agents as a Rich table; short fields never wrap, lists fold."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    table.add_column("login", no_wrap=True)
    table.add_column("name", overflow="fold", ratio=3, min_width=8)
    table.add_column("role", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("cap", justify="right", no_wrap=True)
    for column, ratio, least in (("teams", 2, 7), ("skills", 3, 8), ("langs", 1, 6)):
        table.add_column(column, overflow="fold", ratio=ratio, min_width=least)
    if with_active:
        table.add_column("active", no_wrap=True)
    for a in rows:
        cells = [a.login, a.name, a.role.value, a.status.value, str(a.capacity),
                 ", ".join(a.teams), ", ".join(a.skills), ", ".join(a.languages)]
        if with_active:
            cells.append("yes" if a.active else "no")
        table.add_row(*[Text(c, overflow="fold") for c in cells])
    console.print(table)


@agent_app.command("add")
@handle_errors
def agent_add(
    login: Annotated[str, typer.Argument(help="Login: lower-case letters, digits, . _ -")],
    name: NameOpt = None,
    role: Annotated[str, typer.Option("--role", help="agent, supervisor or admin.")] = "agent",
    team: TeamOpt = None,
    skills: SkillsOpt = None,
    languages: LangOpt = None,
    capacity: Annotated[int, typer.Option(
        "--capacity", help="How many open tickets routing may give this agent.")] = 10,
    email: Annotated[str | None, typer.Option("--email", help="Work e-mail.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an agent."""
    parsed_role = _choice(Role, role, "--role")
    with store_for(db) as store:
        view = store.run_write(lambda s: agents.add_agent(
            s, cli_actor(), login=login, name=name or login, role=parsed_role, email=email,
            teams=_teams(team) or [], skills=_csv(skills) or [],
            languages=_csv(languages) or [], capacity=capacity))
    if as_json:
        emit_json(view)
        return
    teams = f" in {', '.join(view.teams)}" if view.teams else ""
    say(f"Added {view.role.value} {view.login} ({view.name}){teams}")


@agent_app.command("default")
@handle_errors
def agent_default(
    login: Annotated[str | None, typer.Argument(
        help="Make this agent the one the app opens as; omit to show who it is.")] = None,
    db: DbOption = None,
) -> None:
    """Show or set the agent `agent-tui` opens as when no --as is given."""
    with store_for(db) as store:
        if login is None:
            with store.read() as s:
                current = agents.default_login(s)
            say(f"The app opens as {current}" if current else "The store has no active agent")
            return
        chosen = store.run_write(lambda s: agents.set_default_login(s, cli_actor(), login))
    say(f"The app now opens as {chosen}")


@agent_app.command("list")
@handle_errors
def agent_list(
    include_disabled: Annotated[bool, typer.Option(
        "--all", help="Include disabled agents.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List agents (active ones unless --all)."""
    with store_for(db) as store, store.read() as s:
        rows = agents.list_agents(s, include_disabled=include_disabled)
    if as_json:
        emit_json(rows)
    else:
        _show_agents("Agents" if include_disabled else "Active agents", rows,
                     with_active=include_disabled)


@agent_app.command("disable")
@handle_errors
def agent_disable(
    login: Annotated[str, typer.Argument(help="The agent's login.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Disable an agent: they can no longer sign in or be assigned; history stays."""
    with store_for(db) as store:
        view = store.run_write(lambda s: agents.set_agent(s, cli_actor(), login.strip().lower(),
                                                          active=False))
    if as_json:
        emit_json(view)
    else:
        say(f"Disabled {view.login}")


@agent_app.command("set")
@handle_errors
def agent_set(
    login: Annotated[str, typer.Argument(help="The agent's login.")],
    name: NameOpt = None,
    role: RoleOpt = None,
    team: TeamOpt = None,
    skills: SkillsOpt = None,
    languages: LangOpt = None,
    capacity: CapacityOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="online, away or offline.")] = None,
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable a disabled agent.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an agent. --team replaces the agent's teams (--team '' clears them)."""
    parsed_role = _choice(Role, role, "--role") if role is not None else None
    parsed_status = _choice(AgentStatus, status, "--status") if status is not None else None
    with store_for(db) as store:
        view = store.run_write(lambda s: agents.set_agent(
            s, cli_actor(), login.strip().lower(), name=name, role=parsed_role,
            teams=_teams(team), skills=_csv(skills), languages=_csv(languages),
            capacity=capacity, status=parsed_status, active=True if enable else None))
    if as_json:
        emit_json(view)
    else:
        _show_agents(f"Agent {view.login}", [view], with_active=True)


@team_app.command("add")
@handle_errors
def team_add(
    name: Annotated[str, typer.Argument(help="Team name: lower-case letters, digits, . _ -")],
    description: Annotated[str, typer.Option("--description", help="What the team handles.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a team."""
    with store_for(db) as store:
        view = store.run_write(lambda s: agents.add_team(s, cli_actor(), name=name,
                                                         description=description))
    if as_json:
        emit_json(view)
    else:
        say(f"Added team {view.name}")


@team_app.command("list")
@handle_errors
def team_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List teams with their member counts."""
    with store_for(db) as store, store.read() as s:
        rows = agents.list_teams(s)
    if as_json:
        emit_json(rows)
    else:
        print_table("Teams", ["name", "members", "description"],
                    [[t.name, t.members, t.description] for t in rows])


def register(app: typer.Typer) -> None:
    """Add the ``agent`` and ``team`` command groups to ``app``."""
    app.add_typer(agent_app)
    app.add_typer(team_app)
