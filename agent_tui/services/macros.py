"""Macros: canned replies with placeholders plus field changes, applied in one step.

Supervisors and admins keep the macro list (``agent-tui macro …``); any
agent applies one to a ticket. Applying fills the placeholders for that
ticket (customer text through ``safe_line``), and makes the macro's changes
— status, priority, tags, team — under the ticket's row lock with one
``macro.applied`` event, so the changes and the record of them commit or
fail together. The rendered body is returned for the composer, not sent:
the agent reads it and sends it like any reply.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from agent_tui.domain.enums import Priority, Role, Status
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.rules import normalise_tags
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.domain.tables import Agent, Customer, Macro, Ticket
from agent_tui.domain.views_actions import (
    MacroActions,
    MacroResult,
    MacroView,
    first_name,
    render_placeholders,
    unknown_placeholders,
)
from agent_tui.services import tickets
from agent_tui.services.agents import get_team
from agent_tui.services.lifecycle import TicketChange, ticket_changed
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event, changes

MAX_MACRO_BODY = 20_000


# -- the stored form ---------------------------------------------------------
def parse_actions(raw: str | dict[str, Any]) -> MacroActions:
    """The actions of a stored macro. ``tags`` (older rows, the demo) means ``add_tags``."""
    data = json.loads(raw or "{}") if isinstance(raw, str) else dict(raw)
    try:
        return MacroActions(
            status=Status(data["status"]) if data.get("status") else None,
            priority=Priority.parse(data["priority"]) if data.get("priority") else None,
            add_tags=normalise_tags([*data.get("add_tags", []), *data.get("tags", [])]),
            remove_tags=normalise_tags(data.get("remove_tags", [])),
            team=data.get("team"),
        )
    except (ValueError, TypeError) as exc:
        raise Invalid("actions", str(exc)) from exc


def dump_actions(actions: MacroActions) -> str:
    data: dict[str, Any] = {}
    if actions.status is not None:
        data["status"] = actions.status.value
    if actions.priority is not None:
        data["priority"] = actions.priority.label
    if actions.add_tags:
        data["add_tags"] = actions.add_tags
    if actions.remove_tags:
        data["remove_tags"] = actions.remove_tags
    if actions.team is not None:
        data["team"] = actions.team
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def view(macro: Macro) -> MacroView:
    assert macro.id is not None
    return MacroView(id=macro.id, name=safe_line(macro.name), body=safe_text(macro.body),
                     locale=macro.locale, actions=parse_actions(macro.actions),
                     active=macro.active)


# -- reading -------------------------------------------------------------------
def list_macros(session: Session, *, include_disabled: bool = False) -> list[MacroView]:
    """Macros by name; disabled ones only when asked (the CLI's ``--all``)."""
    stmt = select(Macro).order_by(col(Macro.name))
    if not include_disabled:
        stmt = stmt.where(Macro.active == True)  # noqa: E712
    return [view(m) for m in session.exec(stmt)]


def get_macro(session: Session, key: int | str) -> Macro:
    """A macro by id (``12``, ``#12``) or by its exact name."""
    text = str(key).strip()
    macro: Macro | None = None
    if text.lstrip("#").isdigit():
        macro = session.get(Macro, int(text.lstrip("#")))
    if macro is None:
        macro = session.exec(select(Macro).where(Macro.name == text)).first()
    if macro is None:
        raise NotFound("macro", text)
    return macro


# -- keeping the list ------------------------------------------------------------
def _check(session: Session, name: str, body: str, actions: MacroActions) -> tuple[str, str]:
    name = safe_line(name).strip()
    if not name:
        raise Invalid("name", "must not be empty")
    if len(name) > 100:
        raise Invalid("name", "longer than 100 characters")
    body = safe_text(body).strip("\n")
    if not body.strip():
        raise Invalid("body", "must not be empty")
    if len(body) > MAX_MACRO_BODY:
        raise Invalid("body", f"longer than {MAX_MACRO_BODY} characters")
    if unknown := unknown_placeholders(body):
        raise Invalid("body", f"unknown placeholder {{{unknown[0]}}}; use one of "
                      "{customer.name} {customer.first_name} {agent.name} "
                      "{agent.first_name} {ticket.id} {ticket.subject}")
    if actions.team:
        try:
            get_team(session, actions.team)
        except NotFound:
            raise Invalid("team", f"no team called {actions.team!r}") from None
    if overlap := set(actions.add_tags) & set(actions.remove_tags):
        raise Invalid("tags", f"both adds and removes {sorted(overlap)[0]}")
    return name, body


def add_macro(session: Session, actor: Actor, *, name: str, body: str,
              actions: MacroActions | None = None, locale: str = "en") -> MacroView:
    require(actor, Role.SUPERVISOR, "adding a macro")
    actions = actions or MacroActions()
    name, body = _check(session, name, body, actions)
    if session.exec(select(Macro).where(Macro.name == name)).first() is not None:
        raise Invalid("name", f"a macro called {name!r} exists; edit it instead")
    macro = Macro(name=name, body=body, actions=dump_actions(actions),
                  locale=safe_line(locale).strip() or "en", active=True)
    session.add(macro)
    session.flush()
    append_event(session, actor, kind="macro.created", entity="macro", entity_id=macro.id,
                 after={"name": name, "locale": macro.locale,
                        "actions": json.loads(macro.actions)})
    return view(macro)


def edit_macro(session: Session, actor: Actor, key: int | str, *, name: str | None = None,
               body: str | None = None, actions: MacroActions | None = None,
               locale: str | None = None, active: bool | None = None) -> MacroView:
    """Change what is given; ``None`` leaves a field as it is."""
    require(actor, Role.SUPERVISOR, "editing a macro")
    macro = get_macro(session, key)
    before = {"name": macro.name, "body": macro.body, "locale": macro.locale,
              "actions": json.loads(macro.actions or "{}"), "active": macro.active}
    new_actions = actions if actions is not None else parse_actions(macro.actions)
    new_name, new_body = _check(session, name if name is not None else macro.name,
                                body if body is not None else macro.body, new_actions)
    if new_name != macro.name and session.exec(
            select(Macro).where(Macro.name == new_name)).first() is not None:
        raise Invalid("name", f"a macro called {new_name!r} exists")
    macro.name, macro.body, macro.actions = new_name, new_body, dump_actions(new_actions)
    if locale is not None:
        macro.locale = safe_line(locale).strip() or "en"
    if active is not None:
        macro.active = active
    after = {"name": macro.name, "body": macro.body, "locale": macro.locale,
             "actions": json.loads(macro.actions), "active": macro.active}
    b, a = changes(before, after)
    if a:
        session.add(macro)
        session.flush()
        append_event(session, actor, kind="macro.updated", entity="macro", entity_id=macro.id,
                     before=b, after=a)
    return view(macro)


# -- applying ------------------------------------------------------------------
def placeholder_values(session: Session, actor: Actor, ticket: Ticket) -> dict[str, str]:
    """What the placeholders become on one ticket; customer-written text made safe."""
    customer = session.get(Customer, ticket.customer_id)
    agent = session.get(Agent, actor.agent_id) if actor.agent_id else None
    customer_name = safe_line(customer.name if customer else "").strip()
    agent_name = safe_line(agent.name if agent else actor.login).strip()
    return {
        "customer.name": customer_name,
        "customer.first_name": first_name(customer_name),
        "agent.name": agent_name,
        "agent.first_name": first_name(agent_name),
        "ticket.id": str(ticket.id),
        "ticket.subject": safe_line(ticket.subject),
    }


def _apply_actions(session: Session, ticket: Ticket, actions: MacroActions) -> None:
    if actions.status is not None and actions.status != ticket.status:
        tickets._apply_status(ticket, actions.status)
    if actions.priority is not None:
        ticket.priority = int(actions.priority)
    if actions.add_tags or actions.remove_tags:
        current = [t for t in ticket.tags.split() if t not in actions.remove_tags]
        tags = normalise_tags([*current, *actions.add_tags])
        if tags != ticket.tags.split():
            tickets._set_tags(session, ticket, tags)
    if actions.team is not None:
        ticket.team_id = get_team(session, actions.team).id if actions.team else None


def apply_macro(session: Session, actor: Actor, ticket_id: int, macro_id: int, *,
                expected_version: int) -> MacroResult:
    """Render ``macro_id`` for ``ticket_id`` and make its changes, as one event."""
    tickets.require_agent(actor)
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise NotFound("macro", macro_id)
    if not macro.active:
        raise Invalid("macro", f"{macro.name!r} is disabled")
    actions = parse_actions(macro.actions)
    ticket = tickets._lock(session, ticket_id)
    tickets._check_version(session, ticket, expected_version)
    if Status(ticket.status) is Status.CLOSED:
        raise Invalid("status", "a closed ticket cannot change; open a follow-up instead")
    values = placeholder_values(session, actor, ticket)
    body = render_placeholders(safe_text(macro.body), values)
    before = tickets._state(ticket, session)
    old_status = Status(ticket.status)
    _apply_actions(session, ticket, actions)
    b, a = changes(before, tickets._state(ticket, session))
    if a:
        tickets._bump(ticket)
        session.add(ticket)
        session.flush()
        b["version"], a["version"] = before["version"], ticket.version
    append_event(session, actor, kind="macro.applied", entity="ticket", entity_id=ticket_id,
                 before=b, after=a, extra={"macro_id": macro.id, "macro": macro.name})
    if a:
        ticket_changed(session, actor, ticket,
                       TicketChange("updated", old_status, Status(ticket.status)))
        session.flush()
    changed = [f"{k} {v if v not in (None, '') else 'none'}" for k, v in a.items()
               if k != "version"]
    return MacroResult(macro=view(macro), body=body,
                       ticket=tickets.detail(session, actor, ticket_id), changed=changed)
