"""Macros, escalate, merge and link: services and ``agent-tui macro|ticket`` (issue 4).

Real SQLite and PostgreSQL stores; the contract side is in
``tests/contract/test_actions_contract.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from agent_tui.cli import app
from agent_tui.domain.enums import Priority, Source, Status
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.tables import Event, Message, Ticket
from agent_tui.domain.views import TicketCreate
from agent_tui.domain.views_actions import (
    LinkKind,
    MacroActions,
    first_name,
    render_placeholders,
    unknown_placeholders,
)
from agent_tui.services import agents, macros, sla_admin, ticket_actions, tickets
from agent_tui.store import Store
from tests.conftest import ADMIN, World, seed_world


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def as_json(*args: str, stdin: str | None = None) -> Any:
    res = run(*args, "--json", stdin=stdin)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _new(store: Store, login: str = "alice", **kw: Any) -> int:
    data: dict[str, Any] = {"subject": "Parcel lost", "body": "Where is my parcel?",
                            "customer_email": "li.wei@example.com", "customer_name": "李伟",
                            "team": "billing"}
    data.update(kw)
    with store.write() as s:
        actor = agents.actor_for(s, login, Source.TUI)
        return tickets.create(s, actor, TicketCreate(**data)).id


def _events(store: Store, kind: str) -> list[tuple[int | None, dict[str, Any]]]:
    """(entity id, diff) of every event of ``kind``, oldest first."""
    with store.read() as s:
        return [(e.entity_id, json.loads(e.diff)) for e in s.exec(
            select(Event).where(Event.kind == kind).order_by(col(Event.seq)))]


def test_placeholders_pure() -> None:
    values = {"customer.first_name": "Jane", "ticket.id": "7"}
    assert render_placeholders("Hi {customer.first_name} #{ticket.id} {agent.x}", values) == (
        "Hi Jane #7 {agent.x}")
    assert unknown_placeholders("{customer.name} {customer.nick} {ticket.id}") == [
        "customer.nick"]
    assert first_name("Jane Q. Doe") == "Jane" and first_name("李伟") == "李伟"
    assert LinkKind.parse("Follow-Up") is LinkKind.FOLLOW_UP
    with pytest.raises(ValueError):
        LinkKind.parse("cousin")


def test_macro_admin_rules(world: World) -> None:
    store = world.store
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.TUI)
        with pytest.raises(Forbidden):
            macros.add_macro(s, alice, name="Mine", body="text")
        with pytest.raises(Invalid, match="team"):
            macros.add_macro(s, ADMIN, name="X", body="b", actions=MacroActions(team="nope"))
    with store.write() as s, pytest.raises(Invalid, match="both adds and removes"):
        macros.add_macro(s, ADMIN, name="X", body="b",
                         actions=MacroActions(add_tags=["a"], remove_tags=["a"]))
    with store.write() as s:
        m = macros.add_macro(s, ADMIN, name="X", body="b")
        with pytest.raises(Invalid, match="exists"):
            macros.add_macro(s, ADMIN, name="X", body="other")
        macros.edit_macro(s, ADMIN, m.id, body="new body {ticket.id}")
    assert [e[0] for e in _events(store, "macro.updated")] == [m.id]


def test_macro_applied_is_atomic(world: World) -> None:
    """An action that cannot happen (closed→… here: a bad transition) changes nothing."""
    store = world.store
    tid = _new(store)
    with store.write() as s:
        m = macros.add_macro(s, ADMIN, name="Close", body="Bye {customer.first_name}",
                             actions=MacroActions(status=Status.CLOSED, add_tags=["done"]))
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.TUI)
        with pytest.raises(Invalid, match="cannot go from new to closed"):
            macros.apply_macro(s, alice, tid, m.id, expected_version=1)
    with store.read() as s:
        t = s.get(Ticket, tid)
        assert t is not None and t.tags == "" and t.version == 1
    assert _events(store, "macro.applied") == []


def test_macro_team_and_legacy_tags(world: World) -> None:
    store = world.store
    tid = _new(store, tags=["vip"])
    with store.write() as s:
        m = macros.add_macro(s, ADMIN, name="To tech", body="{agent.first_name} here",
                             actions=macros.parse_actions({"team": "tech", "tags": ["x"]}))
        alice = agents.actor_for(s, "alice", Source.TUI)
        res = macros.apply_macro(s, alice, tid, m.id, expected_version=1)
    assert res.body == "Alice here" and res.ticket.team == "tech"
    assert res.ticket.tags == ["vip", "x"]
    assert sorted(res.changed) == ["tags vip x", "team tech"]


def test_escalate_without_lead_and_at_urgent(world: World) -> None:
    store = world.store
    tid = _new(store, priority=Priority.URGENT)
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.TUI)
        d = ticket_actions.escalate(s, alice, tid, "VIP is furious", expected_version=1)
    assert d.priority is Priority.URGENT and d.team == "billing" and d.assignee is None
    assert "with no team" not in d.messages[-1].body and "billing" in d.messages[-1].body
    with store.write() as s:
        sla_admin.set_team_lead(s, ADMIN, "billing", "sam")
        alice = agents.actor_for(s, "alice", Source.TUI)
        d = ticket_actions.escalate(s, alice, tid, "still furious", expected_version=d.version)
    assert d.assignee == "sam"
    [first, second] = _events(store, "ticket.escalated")
    assert second[1]["after"]["assignee"] == "sam"
    assert first[1]["reason"] == "VIP is furious"


def test_merge_keeps_time_order_and_tags(world: World) -> None:
    store = world.store
    older = _new(store, tags=["a"])
    newer = _new(store, body="Second message", tags=["b"])
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.TUI)
        tickets.reply(s, alice, older, "Looking into it")
    # merge the older into the newer: both threads interleave in time order
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.TUI)
        d = ticket_actions.merge(s, alice, older, newer, expected_version=2)
    assert [m.body for m in d.messages][:3] == ["Where is my parcel?", "Second message",
                                                "Looking into it"]
    assert d.tags == ["a", "b"] and d.first_response_at is not None
    with store.read() as s:
        src = s.get(Ticket, older)
        assert src is not None and src.merged_into_id == newer and not src.is_open
        left = list(s.exec(select(Message).where(Message.ticket_id == older)))
        assert [m.author_kind for m in left] == ["system"]
    assert [e[0] for e in _events(store, "ticket.merged")] == [older]
    assert [e[0] for e in _events(store, "ticket.merged_in")] == [newer]


def test_link_refuses_reverse_duplicate(world: World) -> None:
    store = world.store
    a, b = _new(store), _new(store)
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.TUI)
        ticket_actions.link(s, alice, a, b, LinkKind.FOLLOW_UP)
    with store.write() as s, pytest.raises(Invalid, match="already linked"):
        ticket_actions.link(s, agents.actor_for(s, "bob", Source.TUI), b, a)
    assert len(_events(store, "ticket.linked")) == 2  # one per side


# -- CLI -------------------------------------------------------------------------
@pytest.fixture
def url(store: Store) -> str:
    seed_world(store)
    return store.url


def test_cli_macro_lifecycle(url: str) -> None:
    made = as_json("macro", "add", "Need order", "--body", "-", "--status", "pending",
                   "--tag", "+needs-info", "--tag", "-vip", "--team", "tech", "--db", url,
                   stdin="Hi {customer.first_name}, your order number?\n")
    assert made["actions"] == {"status": "pending", "priority": None,
                               "add_tags": ["needs-info"], "remove_tags": ["vip"],
                               "team": "tech"}
    as_json("macro", "add", "已退款", "--body", "您好，已退款。", "--locale", "zh", "--db", url)
    bad = run("macro", "add", "Typo", "--body", "Hi {customer.nick}", "--db", url)
    assert bad.exit_code == 1 and "unknown placeholder {customer.nick}" in bad.output
    bad = run("macro", "add", "Typo", "--body", "x", "--status", "lost", "--db", url)
    assert bad.exit_code == 2
    edited = as_json("macro", "edit", "Need order", "--tag", "+vip", "--priority", "high",
                     "--db", url)
    assert edited["actions"]["add_tags"] == ["needs-info", "vip"]
    assert edited["actions"]["remove_tags"] == [] and edited["actions"]["priority"] == Priority.HIGH
    assert run("macro", "disable", f"#{made['id']}", "--db", url).exit_code == 0
    assert [m["name"] for m in as_json("macro", "list", "--db", url)] == ["已退款"]
    assert len(as_json("macro", "list", "--all", "--db", url)) == 2
    shown = run("macro", "show", str(made["id"]), "--db", url)
    assert shown.exit_code == 0 and "disabled" in shown.stdout
    missing = run("macro", "show", "nope", "--db", url)
    assert missing.exit_code == 1 and "macro nope not found" in missing.output


def test_cli_ticket_actions(url: str, store: Store) -> None:
    a, b = _new(store), _new(store, body="again")
    res = as_json("ticket", "escalate", f"#{a}", "--reason", "chargeback threat",
                  "--team", "tech", "--as", "alice", "--db", url)
    assert res["priority"] == Priority.HIGH and res["team"] == "tech"
    stale = run("ticket", "escalate", str(a), "--reason", "again", "--version", "1",
                "--as", "alice", "--db", url)
    assert stale.exit_code == 1 and "was changed by alice" in stale.output
    linked = as_json("ticket", "link", str(b), str(a), "--kind", "duplicate", "--as", "bob",
                     "--db", url)
    assert linked["links"][0]["ticket_id"] == a and linked["links"][0]["kind"] == "duplicate"
    bad = run("ticket", "link", str(b), str(a), "--kind", "cousin", "--db", url)
    assert bad.exit_code == 2 and "unknown link kind" in bad.output
    assert run("ticket", "unlink", str(a), str(b), "--as", "bob", "--db", url).exit_code == 0
    merged = as_json("ticket", "merge", str(b), str(a), "--as", "alice", "--db", url)
    assert merged["id"] == a and len(merged["messages"]) >= 3
    again = run("ticket", "merge", str(b), str(a), "--as", "alice", "--db", url)
    assert again.exit_code == 1 and "already merged into" in again.output
    nobody = run("ticket", "link", "x1", "2", "--db", url)
    assert nobody.exit_code == 2


def test_migration_0009_up_down_up(store_url: str) -> None:
    """0009 applies over an 0008 store with tickets, and reverses cleanly."""
    import sqlalchemy as sa
    from alembic import command

    from agent_tui.store import open_store
    from agent_tui.store.migrate import _config, current_revision, upgrade

    store = open_store(store_url)
    try:
        upgrade(store, "0008")
        upgrade(store)
        assert current_revision(store) == "0009"
        cfg = _config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
        with store.engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("ticket")}
        assert "ticket_link" not in names and "merged_into_id" not in columns
        upgrade(store)
        world = seed_world(store)
        a, b = _new(world.store), _new(world.store)
        with store.write() as s:
            ticket_actions.link(s, agents.actor_for(s, "alice", Source.TUI), a, b)
    finally:
        store.dispose()
