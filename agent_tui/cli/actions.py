"""CLI for the workspace actions: ``macro add|list|show|edit|disable|enable`` and
``ticket escalate|merge|link|unlink`` (issue 4).

Macros are kept by the CLI's administrator; ticket actions are done *as* an
agent (``--as``, default: the store's default agent), so the note and the
events name a person and that person's role is checked, as in the app.
Without ``--version`` a ticket command acts on the ticket as it is; with it,
a stale version is refused like a stale screen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.text import Text
from sqlmodel import Session

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
from agent_tui.domain.enums import Priority, Source, Status
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import Ticket
from agent_tui.domain.views import TicketDetail
from agent_tui.domain.views_actions import LinkKind, MacroActions, MacroView
from agent_tui.services import agents, macros, ticket_actions
from agent_tui.store.events import Actor

T = TypeVar("T")

macro_app = typer.Typer(name="macro", help="Macros: canned replies with placeholders and "
                        "field changes, applied with m in a ticket.",
                        context_settings=CONTEXT, no_args_is_help=True)
ticket_app = typer.Typer(name="ticket", help="Ticket actions: escalate, merge, link.",
                         context_settings=CONTEXT, no_args_is_help=True)

BodyOpt = Annotated[str | None, typer.Option(
    "--body", help="The reply text with {customer.first_name}, {agent.name}, {ticket.id}…; "
                   "'-' reads it from standard input.")]
StatusOpt = Annotated[str | None, typer.Option("--status", help="Set this status.")]
PriorityOpt = Annotated[str | None, typer.Option("--priority", help="Set this priority.")]
TagOpt = Annotated[list[str] | None, typer.Option(
    "--tag", help="+TAG adds, -TAG removes (repeat it); write --tag=-x for a removal.")]
TeamOpt = Annotated[str | None, typer.Option(
    "--team", help="Move the ticket to this team ('none' for no team).")]
LocaleOpt = Annotated[str | None, typer.Option("--locale", help="Language: en, zh, ….")]
AsOpt = Annotated[str | None, typer.Option(
    "--as", help="Act as this agent (default: the store's default agent).",
    envvar="AGENT_TUI_LOGIN", show_envvar=True)]
VersionOpt = Annotated[int | None, typer.Option(
    "--version", help="Refuse if the ticket is no longer at this version.")]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _actions(status: str | None, priority: str | None, tags: list[str] | None,
             team: str | None, base: MacroActions | None = None) -> MacroActions | None:
    """The actions the options describe, on top of ``base``; None when no option was given."""
    if status is None and priority is None and not tags and team is None:
        return None
    data = (base or MacroActions()).model_dump()
    try:
        if status is not None:
            data["status"] = None if status.lower() == "none" else Status(status.strip().lower())
        if priority is not None:
            data["priority"] = None if priority.lower() == "none" else Priority.parse(priority)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    for tag in tags or []:
        sign, name = tag[:1], tag[1:].strip().lower()
        if sign not in "+-" or not name:
            fail(f"--tag {tag!r}: write +TAG to add or -TAG to remove", EXIT_USAGE)
        add, drop = ("add_tags", "remove_tags") if sign == "+" else ("remove_tags", "add_tags")
        data[drop] = [t for t in data[drop] if t != name]
        if name not in data[add]:
            data[add] = [*data[add], name]
    if team is not None:
        data["team"] = "" if team.lower() in ("none", "-") else team
    return MacroActions(**data)


def _body(value: str | None) -> str | None:
    return sys.stdin.read() if value == "-" else value


def _show_macro(m: MacroView) -> None:
    console.print(Text(f"#{m.id} {m.name}", style="bold"))
    meta = f"locale {m.locale} · {'active' if m.active else 'disabled'}"
    if does := m.actions.describe():
        meta += " · " + ", ".join(does)
    console.print(Text(meta, style="dim"))
    console.print(Text(m.body))


@macro_app.command("add")
@handle_errors
def macro_add(name: Annotated[str, typer.Argument(help="A name agents will type to find it.")],
              body: BodyOpt = None, status: StatusOpt = None, priority: PriorityOpt = None,
              tag: TagOpt = None, team: TeamOpt = None, locale: LocaleOpt = "en",
              db: DbOption = None, as_json: JsonOption = False) -> None:
    """Add a macro (supervisors keep the list; every agent may apply it)."""
    text = _body(body)
    if text is None:
        fail("--body is required (text, or '-' to read standard input)", EXIT_USAGE)
    actions = _actions(status, priority, tag, team)
    with store_for(db) as store:
        view = store.run_write(lambda s: macros.add_macro(
            s, cli_actor(), name=name, body=text, actions=actions, locale=locale or "en"))
    if as_json:
        emit_json(view)
    else:
        _say(f"added macro #{view.id} {view.name}")


@macro_app.command("list")
@handle_errors
def macro_list(include_disabled: Annotated[bool, typer.Option(
                   "--all", help="Include disabled macros.")] = False,
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """The macros, by name."""
    with store_for(db) as store, store.read() as s:
        found = macros.list_macros(s, include_disabled=include_disabled)
    if as_json:
        emit_json(found)
        return
    if not found:
        _say("no macros yet: agent-tui macro add NAME --body TEXT")
        return
    print_table("Macros", ["id", "name", "locale", "does", "active"],
                [(m.id, m.name, m.locale, ", ".join(m.actions.describe()) or "-",
                  "yes" if m.active else "no") for m in found])


@macro_app.command("show")
@handle_errors
def macro_show(macro: Annotated[str, typer.Argument(help="Id (12 or #12) or exact name.")],
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """One macro with its body and what it does."""
    with store_for(db) as store, store.read() as s:
        view = macros.view(macros.get_macro(s, macro))
    if as_json:
        emit_json(view)
    else:
        _show_macro(view)


@macro_app.command("edit")
@handle_errors
def macro_edit(macro: Annotated[str, typer.Argument(help="Id (12 or #12) or exact name.")],
               name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
               body: BodyOpt = None, status: StatusOpt = None, priority: PriorityOpt = None,
               tag: TagOpt = None, team: TeamOpt = None, locale: LocaleOpt = None,
               clear_actions: Annotated[bool, typer.Option(
                   "--clear-actions", help="Drop every field change first.")] = False,
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """Change a macro; options not given stay as they are (--tag adds to its tag changes)."""
    text = _body(body)
    with store_for(db) as store:
        def run(s: Session) -> MacroView:
            current = macros.view(macros.get_macro(s, macro))
            base = MacroActions() if clear_actions else current.actions
            actions = _actions(status, priority, tag, team, base)
            if actions is None and clear_actions:
                actions = MacroActions()
            return macros.edit_macro(s, cli_actor(), current.id, name=name, body=text,
                                     actions=actions, locale=locale)
        view = store.run_write(run)
    if as_json:
        emit_json(view)
    else:
        _say(f"macro #{view.id} {view.name} saved")


def _set_active(macro: str, active: bool, db: str | None) -> MacroView:
    with store_for(db) as store:
        return store.run_write(lambda s: macros.edit_macro(s, cli_actor(), macro, active=active))


@macro_app.command("disable")
@handle_errors
def macro_disable(macro: Annotated[str, typer.Argument(help="Id or exact name.")],
                  db: DbOption = None) -> None:
    """Hide a macro from agents (it stays in the list with --all and in the history)."""
    view = _set_active(macro, False, db)
    _say(f"macro #{view.id} {view.name} disabled")


@macro_app.command("enable")
@handle_errors
def macro_enable(macro: Annotated[str, typer.Argument(help="Id or exact name.")],
                 db: DbOption = None) -> None:
    """Offer a disabled macro to agents again."""
    view = _set_active(macro, True, db)
    _say(f"macro #{view.id} {view.name} enabled")


# -- ticket actions ----------------------------------------------------------------
def _ticket_id(value: str) -> int:
    text = value.strip().lstrip("#")
    if not text.isdigit():
        fail(f"{value!r} is not a ticket id (write 123 or #123)", EXIT_USAGE)
    return int(text)


def _as_agent(db: str | None, login: str | None,
              fn: Callable[[Session, Actor, int], T], ticket_id: int,
              version: int | None) -> T:
    """Run ``fn`` as the agent, in one transaction, at ``version`` or the current one."""
    with store_for(db) as store:
        def run(s: Session) -> T:
            who = (login or agents.default_login(s) or "").strip().lower()
            if not who:
                raise Invalid("as", "no agent to act as; pass --as LOGIN")
            actor = agents.actor_for(s, who, Source.CLI)
            ticket = s.get(Ticket, ticket_id)
            current = ticket.version if ticket is not None else 0
            return fn(s, actor, version if version is not None else current)
        return store.run_write(run)


def _done(detail: TicketDetail, what: str, as_json: bool) -> None:
    if as_json:
        emit_json(detail)
    else:
        _say(f"#{detail.id} {what} (version {detail.version})")


@ticket_app.command("escalate")
@handle_errors
def ticket_escalate(ticket: Annotated[str, typer.Argument(help="The ticket: 123 or #123.")],
                    reason: Annotated[str, typer.Option("--reason", help="Why; kept as a note.")],
                    team: Annotated[str | None, typer.Option(
                        "--team", help="Move it to this team (and its lead).")] = None,
                    login: AsOpt = None, version: VersionOpt = None, db: DbOption = None,
                    as_json: JsonOption = False) -> None:
    """Raise the priority one step and hand the ticket to the team lead, with the reason."""
    tid = _ticket_id(ticket)
    detail = _as_agent(db, login, lambda s, a, v: ticket_actions.escalate(
        s, a, tid, reason, team=team, expected_version=v), tid, version)
    _done(detail, f"escalated: priority {detail.priority.label}, team {detail.team or 'none'}, "
          f"assignee {detail.assignee or 'nobody'}", as_json)


@ticket_app.command("merge")
@handle_errors
def ticket_merge(source: Annotated[str, typer.Argument(help="The ticket that goes away.")],
                 into: Annotated[str, typer.Argument(help="The ticket that takes its messages.")],
                 other_customer: Annotated[bool, typer.Option(
                     "--other-customer", help="Merge even if the customers differ "
                     "(supervisors; only when it is the same person).")] = False,
                 login: AsOpt = None, version: VersionOpt = None, db: DbOption = None,
                 as_json: JsonOption = False) -> None:
    """Move a ticket's conversation into another and close it as merged."""
    sid, iid = _ticket_id(source), _ticket_id(into)
    detail = _as_agent(db, login, lambda s, a, v: ticket_actions.merge(
        s, a, sid, iid, expected_version=v, other_customer=other_customer), sid, version)
    _done(detail, f"now holds the conversation of #{sid}, which is closed", as_json)


@ticket_app.command("link")
@handle_errors
def ticket_link(ticket: Annotated[str, typer.Argument(help="The ticket: 123 or #123.")],
                other: Annotated[str, typer.Argument(help="The ticket it relates to.")],
                kind: Annotated[str, typer.Option(
                    "--kind", help="related, duplicate (of OTHER) or follow_up (of OTHER).")
                ] = "related",
                login: AsOpt = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Link two tickets; both show the link."""
    tid, oid = _ticket_id(ticket), _ticket_id(other)
    try:
        link_kind = LinkKind.parse(kind)
    except ValueError as exc:
        fail(f"--kind: {exc}", EXIT_USAGE)
    detail = _as_agent(db, login, lambda s, a, _v: ticket_actions.link(s, a, tid, oid, link_kind),
                       tid, None)
    _done(detail, f"{link_kind.phrase(outgoing=True)} #{oid}", as_json)


@ticket_app.command("unlink")
@handle_errors
def ticket_unlink(ticket: Annotated[str, typer.Argument(help="The ticket: 123 or #123.")],
                  other: Annotated[str, typer.Argument(help="The linked ticket.")],
                  login: AsOpt = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Remove the link between two tickets."""
    tid, oid = _ticket_id(ticket), _ticket_id(other)
    detail = _as_agent(db, login, lambda s, a, _v: ticket_actions.unlink(s, a, tid, oid),
                       tid, None)
    _done(detail, f"no longer linked to #{oid}", as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(macro_app)
    app.add_typer(ticket_app)
