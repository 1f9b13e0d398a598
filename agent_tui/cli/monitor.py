"""``agent-tui monitor``: open the app straight on the supervisor's live queue monitor."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from agent_tui.cli.common import EXIT_ERROR, DbOption, db_url, fail, store_for
from agent_tui.cli.setup import _launch_remote, _login_for
from agent_tui.config import load_settings
from agent_tui.domain.enums import Role
from agent_tui.domain.tables import Agent
from agent_tui.services.doctor import display_url


def _launch(url: str, login: str, *, read_only: bool) -> int:
    """Import the Textual app only now, as the bare ``agent-tui`` does."""
    try:
        from agent_tui.app import launch
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("agent_tui.app"):
            fail("this build has no terminal app (agent_tui.app is missing)", EXIT_ERROR)
        raise
    return int(launch(db_url=url, login=login, start="monitor", read_only=read_only))


def monitor(
    db: DbOption = None,
    login: Annotated[str | None, typer.Option(
        "--as", help="Open as this supervisor or admin (default: the store's default agent).",
        envvar="AGENT_TUI_LOGIN", show_envvar=True)] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", help="A wall display: no selecting, reassigning or opening tickets.")
    ] = False,
    server: Annotated[str | None, typer.Option(
        "--server", help="Watch a team server (agent-tui serve) instead of a store; the "
        "token is the one `agent-tui login` saved (or AGENT_TUI_TOKEN).")] = None,
) -> None:
    """Backlog, SLA clocks and breach forecast, agent board and KPIs, live. Supervisors only."""
    if server:
        # The server knows who the token belongs to and refuses agents on every route.
        raise typer.Exit(_launch_remote(server, start="monitor", read_only=read_only))
    who = _login_for(db, load_settings(login=login).login)
    with store_for(db) as store, store.read() as s:
        agent = s.exec(select(Agent).where(Agent.login == who)).one()
        role = Role(agent.role)
    if role.rank < Role.SUPERVISOR.rank:
        fail(f"the queue monitor is for supervisors and admins; {who} is {role.value} "
             f"(pick one with --as; see `agent-tui agent list` for {display_url(db_url(db))})",
             EXIT_ERROR)
    raise typer.Exit(_launch(db_url(db), who, read_only=read_only))


def register(app: typer.Typer) -> None:
    """Add ``monitor``."""
    app.command("monitor")(monitor)
