"""The Backend contract, written against the protocol only (ARCHITECTURE §3)."""

from __future__ import annotations

import asyncio

import pytest

from agent_tui.backend import (
    AuthorKind,
    Channel,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PresenceState,
    Priority,
    Role,
    Sort,
    Status,
    TicketCreate,
    TicketFilters,
    TicketUpdate,
    View,
)
from tests.contract.conftest import BackendFor

HOSTILE = "Refund [/] [bold]now[/] \x1b[31mred\x1b]52;c;aGk=\x07 \u202eevil\u202c ok"


def _ticket(subject: str = "Refund for order A-1001", **kw: object) -> TicketCreate:
    data: dict[str, object] = {
        "subject": subject,
        "body": "I was charged twice for order A-1001, please refund one.",
        "customer_email": "jane.doe@example.com",
        "customer_name": "Jane Doe",
        "team": "billing",
    }
    data.update(kw)
    return TicketCreate(**data)  # type: ignore[arg-type]


async def test_whoami_and_directory(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    me = await alice.whoami()
    assert (me.login, me.role, me.teams) == ("alice", Role.AGENT, ["billing"])
    assert {a.login for a in await alice.list_agents()} >= {"ada", "sam", "alice", "bob"}
    assert [t.name for t in await alice.list_teams()] == ["billing", "logistics", "tech"]


async def test_create_and_read_ticket_with_thread(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket(tags=["VIP", "refund", "vip"]))
    assert t.status is Status.NEW and t.version == 1 and t.team == "billing"
    assert t.tags == ["refund", "vip"]
    assert [m.author_kind for m in t.messages] == [AuthorKind.CUSTOMER]
    again = await alice.get_ticket(t.id)
    assert again.subject == "Refund for order A-1001" and again.customer_name == "Jane Doe"
    with pytest.raises(NotFound):
        await alice.get_ticket(999_999)


async def test_reply_and_note(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket())
    t = await alice.reply(t.id, "Refund issued, 5-10 business days.", expected_version=1)
    assert t.status is Status.OPEN and t.version == 2 and t.assignee == "alice"
    assert t.first_response_at is not None
    t = await alice.note(t.id, "Checked the processor: duplicate capture.")
    assert t.version == 3
    kinds = [(m.author_kind, m.public) for m in t.messages]
    assert kinds == [(AuthorKind.CUSTOMER, True), (AuthorKind.AGENT, True),
                     (AuthorKind.AGENT, False)]
    with pytest.raises(Invalid):
        await alice.reply(t.id, "   \n ")


async def test_stale_update_is_a_conflict_naming_who(backend_for: BackendFor) -> None:
    alice, bob = backend_for("alice"), backend_for("bob")
    t = await alice.create_ticket(_ticket())
    await bob.update_ticket(t.id, TicketUpdate(priority=Priority.HIGH), expected_version=1)
    with pytest.raises(Conflict) as err:
        await alice.update_ticket(t.id, TicketUpdate(status=Status.PENDING), expected_version=1)
    assert err.value.current_version == 2 and err.value.changed_by == "bob"
    with pytest.raises(Conflict):
        await alice.reply(t.id, "stale reply", expected_version=1)
    fresh = await alice.get_ticket(t.id)
    assert fresh.priority is Priority.HIGH and fresh.status is Status.NEW and fresh.version == 2
    assert len(fresh.messages) == 1  # the stale reply was not written


async def test_update_fields_and_status_machine(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket())
    t = await alice.update_ticket(
        t.id, TicketUpdate(status=Status.SOLVED, tags=["Billing", "refund"], category="billing",
                           team="tech"), expected_version=t.version)
    assert (t.status, t.tags, t.team, t.solved_at is not None) == (
        Status.SOLVED, ["billing", "refund"], "tech", True)
    t = await alice.update_ticket(t.id, TicketUpdate(status=Status.CLOSED),
                                  expected_version=t.version)
    with pytest.raises(Invalid):
        await alice.update_ticket(t.id, TicketUpdate(status=Status.OPEN),
                                  expected_version=t.version)
    with pytest.raises(Invalid):
        await alice.update_ticket(t.id, TicketUpdate(team="no-such-team"),
                                  expected_version=t.version)


async def test_noop_update_does_not_bump_version(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket(priority=Priority.HIGH))
    same = await alice.update_ticket(t.id, TicketUpdate(priority=Priority.HIGH),
                                     expected_version=1)
    assert same.version == 1


async def test_assignment_rules(backend_for: BackendFor) -> None:
    alice, bob, sam = backend_for("alice"), backend_for("bob"), backend_for("sam")
    t = await alice.create_ticket(_ticket())
    t = await alice.assign(t.id, "alice", expected_version=1)
    assert t.assignee == "alice"
    with pytest.raises(Forbidden):
        await bob.assign(t.id, "bob")  # agents may not take a colleague's ticket
    with pytest.raises(Forbidden):
        await alice.assign(t.id, "bob")  # nor hand it to someone else
    t = await sam.assign(t.id, "bob", team="tech")
    assert (t.assignee, t.team) == ("bob", "tech")
    t = await bob.assign(t.id, None)  # drop my own
    assert t.assignee is None


async def test_views_filters_and_counts(backend_for: BackendFor) -> None:
    alice, sam = backend_for("alice"), backend_for("sam")
    a = await alice.create_ticket(_ticket("Charged twice", priority=Priority.URGENT))
    b = await alice.create_ticket(_ticket("Parcel lost", team="logistics", channel=Channel.CHAT,
                                          tags=["shipping"]))
    c = await alice.create_ticket(_ticket("Reset password", team="tech", channel=Channel.PHONE))
    await alice.assign(a.id, "alice")
    await sam.update_ticket(b.id, TicketUpdate(status=Status.PENDING), expected_version=1)
    cc = await sam.update_ticket(c.id, TicketUpdate(status=Status.SOLVED), expected_version=1)
    assert cc.status is Status.SOLVED

    async def ids(view: View, **kw: object) -> list[int]:
        page = await alice.list_tickets(view, **kw)  # type: ignore[arg-type]
        return [r.id for r in page.items]

    assert await ids(View.MY_OPEN) == [a.id]
    assert await ids(View.UNASSIGNED) == [b.id]
    assert await ids(View.ALL_OPEN) == [a.id, b.id]  # urgent first
    assert await ids(View.PENDING) == [b.id]
    assert await ids(View.ON_HOLD) == []
    assert await ids(View.SOLVED) == [c.id]
    assert await ids(View.TEAM, view_arg="logistics") == [b.id]
    assert await ids(View.CHANNEL, view_arg="chat") == [b.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(tag="shipping")) == [b.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(text="CHARGED")) == [a.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(priority=[Priority.URGENT])) == [a.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(channel=[Channel.CHAT])) == [b.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(assignee="me")) == [a.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(assignee="none")) == [b.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(team="billing")) == [a.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(status=[Status.PENDING])) == [b.id]
    assert await ids(View.ALL_OPEN, filters=TicketFilters(customer_id=a.customer_id)) == [
        a.id, b.id]
    assert await ids(View.ALL_OPEN, sort=Sort.UPDATED) == [b.id, a.id]
    assert await ids(View.ALL_OPEN, sort=Sort.AGE) == [a.id, b.id]
    assert await alice.count(View.ALL_OPEN) == 2
    assert await alice.count(View.SOLVED) == 1
    assert await alice.count(View.TEAM, view_arg="logistics") == 1
    with pytest.raises(Invalid):
        await alice.list_tickets(View.TEAM, view_arg="nope")
    with pytest.raises(Invalid):
        await alice.list_tickets(View.ALL_OPEN, filters=TicketFilters(assignee="ghost"))


@pytest.mark.parametrize("sort", list(Sort))
async def test_keyset_pages_walk_forward_and_back(backend_for: BackendFor, sort: Sort) -> None:
    alice = backend_for("alice")
    prios = [Priority.LOW, Priority.URGENT, Priority.NORMAL, Priority.HIGH]
    created = []
    for i in range(23):
        t = await alice.create_ticket(_ticket(f"Ticket {i}", priority=prios[i % 4]))
        created.append(t.id)
    everything = (await alice.list_tickets(View.ALL_OPEN, sort=sort, limit=100)).items
    assert sorted(r.id for r in everything) == sorted(created)
    walked, pages, cursor = [], [], None
    while True:
        page = await alice.list_tickets(View.ALL_OPEN, sort=sort, after=cursor, limit=5)
        pages.append(page)
        walked += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == [r.id for r in everything]
    assert pages[0].prev_cursor is None and len(pages) == 5
    back = await alice.list_tickets(View.ALL_OPEN, sort=sort, before=pages[-1].prev_cursor,
                                    limit=5)
    assert [r.id for r in back.items] == [r.id for r in pages[-2].items]
    with pytest.raises(Invalid):
        await alice.list_tickets(View.ALL_OPEN, sort=sort, after="garbage!")


async def test_customer_360_and_masking(backend_for: BackendFor) -> None:
    alice, sam = backend_for("alice"), backend_for("sam")
    t1 = await alice.create_ticket(_ticket(channel=Channel.EMAIL))
    await alice.create_ticket(_ticket("Second contact", channel=Channel.CHAT))
    agent_view = await alice.get_360(t1.customer_id)
    assert agent_view.masked and agent_view.customer.email != "jane.doe@example.com"
    assert "•" in (agent_view.customer.email or "")
    assert all("jane.doe@example.com" != i.address for i in agent_view.identities)
    assert len(agent_view.tickets) == 2 and agent_view.open_tickets == 2
    assert agent_view.repeat_contact
    sup_view = await sam.get_360(t1.customer_id)
    assert not sup_view.masked and sup_view.customer.email == "jane.doe@example.com"
    with pytest.raises(Invalid):
        await alice.reveal_customer(t1.customer_id, "")
    revealed = await alice.reveal_customer(t1.customer_id, "customer asked to confirm e-mail")
    assert revealed.customer.email == "jane.doe@example.com"
    found = await alice.search_customers("jane")
    assert [c.id for c in found] == [t1.customer_id] and found[0].masked
    with pytest.raises(NotFound):
        await alice.get_360(424242)


async def test_customer_text_is_safe_everywhere(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket(HOSTILE, body=HOSTILE + "\nline two",
                                          customer_name="Mallory \x1b[2J[/]"))
    views = [t, await alice.get_ticket(t.id)]
    rows = (await alice.list_tickets(View.ALL_OPEN)).items
    c360 = await alice.get_360(t.customer_id)
    texts = [v.subject for v in views] + [m.body for v in views for m in v.messages]
    texts += [r.subject for r in rows] + [r.customer_name for r in rows]
    texts += [c360.customer.name] + [x.subject for x in c360.tickets]
    for text in texts:
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text), repr(text)
        assert "\u202e" not in text and "\x9b" not in text
    assert "[/] [bold]now[/]" in views[0].subject  # the literal text survives
    assert views[0].messages[0].body.endswith("ok\nline two")


async def test_saved_views_and_presence(backend_for: BackendFor) -> None:
    alice, bob = backend_for("alice"), backend_for("bob")
    t = await alice.create_ticket(_ticket())
    saved = await alice.save_view("urgent billing", View.ALL_OPEN,
                                  filters=TicketFilters(team="billing",
                                                        priority=[Priority.URGENT]),
                                  sort=Sort.AGE)
    assert [v.name for v in await alice.list_views()] == ["urgent billing"]
    assert saved.filters.priority == [Priority.URGENT]
    assert await bob.list_views() == []
    await alice.delete_view("urgent billing")
    assert await alice.list_views() == []
    await bob.set_presence(t.id, PresenceState.COMPOSING)
    seen = await alice.presence([t.id])
    assert [(p.agent, p.state) for p in seen] == [("bob", PresenceState.COMPOSING)]
    assert await bob.presence([t.id]) == []  # I am not shown to myself
    await bob.set_presence(None, None)
    assert await alice.presence([t.id]) == []


async def test_events_follow_every_mutation(backend_for: BackendFor) -> None:
    alice, bob = backend_for("alice"), backend_for("bob")
    start = await alice.last_seq()
    received = []

    async def follow() -> None:
        async for ev in alice.subscribe(start):
            received.append(ev)
            if ev.kind == "ticket.updated":
                return

    task = asyncio.create_task(follow())
    t = await bob.create_ticket(_ticket())
    await bob.reply(t.id, "On it.")
    await bob.update_ticket(t.id, TicketUpdate(status=Status.PENDING), expected_version=2)
    await asyncio.wait_for(task, timeout=5)
    kinds = [e.kind for e in received]
    assert kinds == ["customer.created", "ticket.created", "ticket.replied", "ticket.updated"]
    upd = received[-1]
    assert upd.actor == "bob" and upd.entity_id == t.id
    assert upd.diff["before"]["status"] == "open" and upd.diff["after"]["status"] == "pending"
    assert [e.seq for e in received] == sorted(e.seq for e in received)
