"""Inbound channels: identity resolution, threading, reopen, follow-up, safe text, the CLI."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from agent_tui.cli import app
from agent_tui.domain.enums import Channel, Role, Source, Status
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.tables import Customer, Event, Identity, Message, Ticket
from agent_tui.domain.views import TicketUpdate
from agent_tui.domain.views_routing import InboundResult
from agent_tui.services import inbound, routing, tickets
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, World


@pytest.fixture(autouse=True)
def _no_bot(world: World) -> None:
    """These tests are about channels; the bot has its own module."""
    with world.store.write() as s:
        routing.set_setting(s, ADMIN, "bot.enabled", "false")


def _in(world: World, channel: str, sender: str, body: str = "Hello, I need help",
        **kw: str) -> InboundResult:
    with world.store.write() as s:
        return inbound.receive(s, ADMIN, channel, address=sender, body=body, **kw)


def _events(world: World, ticket_id: int) -> list[tuple[str, dict[str, object]]]:
    with world.store.read() as s:
        rows = s.exec(select(Event.kind, Event.diff).where(
            Event.entity == "ticket", Event.entity_id == ticket_id).order_by(col(Event.seq)))
        return [(k, json.loads(d)) for k, d in rows]


def test_a_stranger_becomes_a_customer_with_an_identity(world: World) -> None:
    r = _in(world, "email", "Jane.Doe@Example.COM", name="Jane Doe", subject="Hi")
    assert r.customer_created and r.action == "created" and r.status is Status.NEW
    assert r.events[:2] == ["customer.created", "ticket.created"]
    with world.store.read() as s:
        cust = s.get(Customer, r.customer_id)
        assert cust is not None and cust.name == "Jane Doe" and cust.email == "jane.doe@example.com"
        idents = list(s.exec(select(Identity.channel, Identity.address)
                             .where(Identity.customer_id == r.customer_id)))
    assert idents == [("email", "jane.doe@example.com")]


def test_identity_resolution_across_channels(world: World) -> None:
    first = _in(world, "email", "jane@example.com", subject="Order")
    # The same e-mail typed into the web form or the chat widget: the same person.
    assert _in(world, "web", "JANE@example.com").customer_id == first.customer_id
    assert _in(world, "chat", "jane@example.com").customer_id == first.customer_id
    # A phone number, whichever way it is written.
    a = _in(world, "phone", "+44 (20) 7946-0958")
    assert _in(world, "app", "+442079460958").customer_id == a.customer_id
    # Social handles are case-blind; app ids are as given.
    h = _in(world, "social", "@JaneShops")
    assert _in(world, "social", "@janeshops").customer_id == h.customer_id
    x = _in(world, "app", "device-AbC")
    assert _in(world, "app", "device-abc").customer_id != x.customer_id
    with pytest.raises(Invalid):
        _in(world, "email", "not-an-address")


def test_a_known_customer_is_found_by_any_of_their_addresses(world: World) -> None:
    r = _in(world, "email", "sam.c@example.com", subject="Order")
    with world.store.write() as s:
        s.add(Identity(customer_id=r.customer_id, channel=Channel.SOCIAL, address="@samc"))
    assert _in(world, "social", "@SamC").customer_id == r.customer_id


def test_messages_continue_the_open_ticket_on_the_same_channel(world: World) -> None:
    t = _in(world, "chat", "@visitor1")
    again = _in(world, "chat", "@visitor1", "One more thing")
    assert (again.ticket_id, again.action) == (t.ticket_id, "continued")
    assert again.events == ["ticket.customer_message"]
    # Another channel is another conversation.
    other = _in(world, "app", "@visitor1")
    assert other.ticket_id != t.ticket_id
    # E-mail threads by subject (Re: stripped) or by [#id].
    e = _in(world, "email", "kim@example.com", subject="Broken lamp")
    reply = _in(world, "email", "kim@example.com", subject="RE: Broken lamp")
    assert reply.ticket_id == e.ticket_id
    new = _in(world, "email", "kim@example.com", subject="A different question")
    assert new.ticket_id != e.ticket_id and new.action == "created"
    ref = _in(world, "email", "kim@example.com", subject=f"Still waiting [#{e.ticket_id}]")
    assert ref.ticket_id == e.ticket_id
    with world.store.read() as s:
        bodies = list(s.exec(select(Message.body).where(Message.ticket_id == t.ticket_id)))
    assert bodies == ["Hello, I need help", "One more thing"]


def test_a_reply_to_a_pending_ticket_makes_it_open(world: World) -> None:
    t = _in(world, "email", "p@example.com", subject="Help")
    with world.store.write() as s:
        v = s.get(Ticket, t.ticket_id).version  # type: ignore[union-attr]
        tickets.update(s, ADMIN, t.ticket_id, TicketUpdate(status=Status.PENDING),
                       expected_version=v)
    r = _in(world, "email", "p@example.com", "Here is the photo", subject="Re: Help")
    assert r.status is Status.OPEN and r.events == ["ticket.customer_message"]


def test_a_reply_reopens_a_solved_ticket(world: World) -> None:
    t = _in(world, "email", "r@example.com", subject="Refund")
    with world.store.write() as s:
        v = s.get(Ticket, t.ticket_id).version  # type: ignore[union-attr]
        tickets.update(s, ADMIN, t.ticket_id, TicketUpdate(status=Status.SOLVED),
                       expected_version=v)
    r = _in(world, "email", "r@example.com", "It came back", subject="Re: Refund")
    assert (r.ticket_id, r.action, r.status) == (t.ticket_id, "reopened", Status.OPEN)
    diff = next(d for k, d in _events(world, t.ticket_id) if k == "ticket.reopened")
    assert diff["before"]["status"] == "solved" and diff["after"]["status"] == "open"  # type: ignore[index]
    assert r.events.count("ticket.reopened") == 1 and "ticket.customer_message" not in r.events
    with world.store.read() as s:
        ticket = s.get(Ticket, t.ticket_id)
        assert ticket is not None and ticket.is_open and ticket.solved_at is None


def test_a_message_on_a_closed_ticket_opens_a_linked_follow_up(world: World) -> None:
    t = _in(world, "chat", "@closer", team="tech")
    with world.store.write() as s:
        for status in (Status.SOLVED, Status.CLOSED):
            v = s.get(Ticket, t.ticket_id).version  # type: ignore[union-attr]
            tickets.update(s, ADMIN, t.ticket_id, TicketUpdate(status=status), expected_version=v)
    r = _in(world, "chat", "@closer", "It broke again")
    assert r.action == "follow_up" and r.ticket_id != t.ticket_id
    assert r.follow_up_of == t.ticket_id
    kind, diff = _events(world, r.ticket_id)[0]
    assert kind == "ticket.created" and diff["after"]["follow_up_of"] == t.ticket_id  # type: ignore[index]
    assert diff["after"]["team"] == "tech"  # type: ignore[index]


def test_customer_text_is_made_safe(world: World) -> None:
    hostile = "Refund [/] [bold]now[/] \x1b[31mred\x1b]52;c;aGk=\x07 \u202eevil\u202c ok"
    r = _in(world, "email", "h@example.com", hostile + "\nline two", subject=hostile,
            name="Eve \x1b[2J")
    with world.store.read() as s:
        subject = s.exec(select(Ticket.subject).where(Ticket.id == r.ticket_id)).one()
        body = s.exec(select(Message.body).where(Message.ticket_id == r.ticket_id)).one()
        name = s.exec(select(Customer.name).where(Customer.id == r.customer_id)).one()
    for text in (subject, body, name):
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "[/]" in subject and body.endswith("line two")


def test_only_admins_and_the_server_may_inject_messages(world: World) -> None:
    alice = Actor(login="alice", role=Role.AGENT, source=Source.TUI, agent_id=3)
    with world.store.write() as s, pytest.raises(Forbidden):
        inbound.receive(s, alice, "email", address="a@example.com", body="hi")
    with pytest.raises(Invalid):
        _in(world, "fax", "a@example.com")
    with pytest.raises(Invalid):
        _in(world, "email", "a@example.com", "   ")


def test_cli_inbound_and_route_explain(world: World) -> None:
    url = world.store.url
    runner = CliRunner()
    res = runner.invoke(app, ["route", "rule", "set", "keyword", "refund", "--skill", "refunds",
                              "--team", "billing", "--db", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["inbound", "email", "--from", "cli@example.com", "--name", "Cli",
                              "--subject", "Refund [/] please", "--body",
                              "I want a refund", "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["assignee"] == "alice" and out["action"] == "created"
    assert out["events"] == ["customer.created", "ticket.created", "ticket.routed"]
    res = runner.invoke(app, ["route", "explain", str(out["ticket_id"]), "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    view = json.loads(res.stdout)
    assert view["skills"] == ["refunds"] and view["team"] == "billing"
    assert {c["login"]: c["eligible"] for c in view["candidates"]} == {
        "ada": False, "sam": False, "alice": True}
    res = runner.invoke(app, ["route", "explain", str(out["ticket_id"]), "--db", url])
    assert res.exit_code == 0 and "would go to: alice" in res.stdout
    res = runner.invoke(app, ["inbound", "fax", "--from", "x@example.com", "--body", "hi",
                              "--db", url])
    assert res.exit_code == 1 and "channel" in res.output
    res = runner.invoke(app, ["route", "config", "bot.threshold", "0.7", "--db", url, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["bot.threshold"] == "0.7"
    res = runner.invoke(app, ["route", "next", "--as", "alice", "--take", "--db", url, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ticket"]["id"] == out["ticket_id"]


def test_two_messages_from_one_new_address_at_once_make_one_customer(world: World) -> None:
    import threading

    barrier = threading.Barrier(3)
    out: list[InboundResult] = []
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            out.append(world.store.run_write(lambda s: inbound.receive(
                s, ADMIN, "chat", address="@twin", body=f"message {i}")))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len({r.customer_id for r in out}) == 1 and len({r.ticket_id for r in out}) == 1
    assert sorted(r.action for r in out) == ["continued", "continued", "created"]


def test_an_html_email_is_kept_as_its_text(world: World) -> None:
    r = _in(world, "email", "html@example.com", subject="Order",
            body="<html><body><p>Hi,</p><p>My order <b>AU-1</b> is late.<br>Thanks</p>"
                 "<style>p{}</style></body></html>")
    with world.store.read() as s:
        bodies = list(s.exec(select(Message.body).where(Message.ticket_id == r.ticket_id)))
    assert bodies[0] == "Hi,\n\nMy order AU-1 is late.\nThanks"
