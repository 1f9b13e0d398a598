"""Every event that changes a queue row carries that row, as a page fetch returns it.

The queue applies ``diff["row"]`` by row key instead of re-fetching its window
(issue 6: 300 clients re-fetching at once cost the server over a second), so
the row must be the one a page would return after the write commits, SLA due
times and routing included, and an agent's copy masked as the agent's page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlmodel import Session, col, select

from agent_tui.backend import Backend, EventView, TicketRow
from agent_tui.domain.enums import Channel, Status, View
from agent_tui.domain.tables import Event, Ticket
from agent_tui.domain.views import TicketCreate, TicketFilters, TicketUpdate
from agent_tui.services import autoclose, inbound, queue, sla, ticket_actions, tickets
from agent_tui.services.agents import actor_for
from agent_tui.store import Store
from tests.conftest import ADMIN, World
from tests.contract.conftest import BackendFor, backend_for
from tests.test_sla import FakeClock, install_clock, with_any_policy

__all__ = ["backend_for"]  # the contract's fixture: Local and Remote (a real uvicorn)

T = TypeVar("T")


def _page_row(store: Store, ticket_id: int, login: str | None = None) -> TicketRow:
    """The ticket's row as a page of the queue returns it (to ``login``, else an admin)."""
    with store.read() as s:
        who = actor_for(s, login, "tui") if login else ADMIN
        page = queue.list_tickets(s, who, View.SOLVED if _solved(s, ticket_id) else
                                  View.ALL_OPEN, filters=TicketFilters(), limit=500)
        if not any(r.id == ticket_id for r in page.items):  # closed: in no view
            row = queue.queue_row(s, ticket_id)
            assert row is not None
            return row
        return next(r for r in page.items if r.id == ticket_id)


def _solved(s: Session, ticket_id: int) -> bool:
    t = s.get(Ticket, ticket_id)
    return t is not None and t.status == Status.SOLVED


@dataclass(frozen=True)
class Ev:
    kind: str
    entity_id: int | None
    diff: str


def _events(store: Store, after: int) -> list[Ev]:
    with store.read() as s:
        return [Ev(e.kind, e.entity_id, e.diff) for e in s.exec(
            select(Event).where(col(Event.seq) > after, Event.entity == "ticket")
            .order_by(col(Event.seq)))]


def _last(store: Store) -> int:
    with store.read() as s:
        return max((e.seq or 0 for e in s.exec(select(Event))), default=0)


def _assert_rows(store: Store, after: int, expect: set[str]) -> None:
    """Every ticket event after ``after`` carries the committed row of its ticket."""
    evs = _events(store, after)
    assert expect <= {e.kind for e in evs}, [e.kind for e in evs]
    for ev in evs:
        diff = json.loads(ev.diff)
        assert "row" in diff, ev.kind
        assert ev.entity_id is not None
        assert TicketRow.model_validate(diff["row"]) == _page_row(store, ev.entity_id), ev.kind
        assert "body" not in json.dumps(diff["row"])  # small: no thread in a row


def _write(store: Store, fn: Callable[[Session], T], *kinds: str) -> T:
    """Run one write; each ticket event it appended carries the row a page now returns."""
    before = _last(store)
    out = store.run_write(fn)
    _assert_rows(store, before, set(kinds))
    return out


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_clock(monkeypatch)


def test_ticket_writes_carry_the_committed_row(world: World, clock: FakeClock) -> None:
    store = with_any_policy(world).store
    with store.read() as s:
        alice, sam = actor_for(s, "alice", "tui"), actor_for(s, "sam", "tui")
    start = _last(store)
    t = _write(store, lambda s: tickets.create(s, sam, TicketCreate(
        subject="Refund please", body="It broke.", customer_name="Kim Lee",
        customer_email="kim@example.com", team="billing", tags=["vip"])), "ticket.created")
    created = json.loads(_events(store, start)[0].diff)["row"]
    assert created["sla_due_at"] is not None  # set by the SLA reaction after the event
    assert created["customer_name"] == "Kim Lee" and created["tags"] == ["vip"]

    clock.advance(timedelta(minutes=5))
    _write(store, lambda s: tickets.reply(s, alice, t.id, "On it."), "ticket.replied")
    _write(store, lambda s: tickets.note(s, alice, t.id, "Internal."), "ticket.noted")
    _write(store, lambda s: tickets.update(s, alice, t.id, TicketUpdate(
        status=Status.PENDING), expected_version=_page_row(store, t.id).version),
        "ticket.updated")
    _write(store, lambda s: tickets.assign(s, sam, t.id, "bob",
                                           expected_version=_page_row(store, t.id).version),
           "ticket.assigned")
    _write(store, lambda s: ticket_actions.escalate(
        s, sam, t.id, "angry customer", expected_version=_page_row(store, t.id).version),
        "ticket.escalated")


def test_merges_inbound_sweeps_and_autoclose_carry_rows(world: World, clock: FakeClock) -> None:
    store = with_any_policy(world).store
    with store.read() as s:
        sam = actor_for(s, "sam", "tui")
    first = _write(store, lambda s: inbound.receive(
        s, ADMIN, Channel.EMAIL, address="ann@example.com", body="Where is my parcel?",
        subject="Parcel", name="Ann Oak"), "ticket.created").ticket_id
    assert first is not None
    _write(store, lambda s: inbound.receive(
        s, ADMIN, Channel.EMAIL, address="ann@example.com", body="Any news?",
        subject="Re: Parcel"), "ticket.customer_message")
    other = store.run_write(lambda s: tickets.create(s, sam, TicketCreate(
        subject="Parcel again", body="Hello?", customer_email="ann@example.com"))).id
    _write(store, lambda s: ticket_actions.merge(
        s, sam, other, first, expected_version=_page_row(store, other).version),
        "ticket.merged", "ticket.merged_in")

    clock.advance(timedelta(hours=3))  # past the first-response target: breached
    _write(store, lambda s: sla.sweep(s, ADMIN), "sla.breached")
    assert _page_row(store, first).sla_breached

    _write(store, lambda s: tickets.update(s, sam, first, TicketUpdate(
        status=Status.SOLVED), expected_version=_page_row(store, first).version),
        "ticket.updated")
    step = _last(store)
    _write(store, lambda s: autoclose.close_solved(s, clock.advance(timedelta(days=30)), 3),
           "ticket.updated")
    assert json.loads(_events(store, step)[-1].diff)["row"]["status"] == "closed"


def test_a_rolled_back_write_leaves_no_row_behind(world: World) -> None:
    store = world.store
    start = _last(store)
    with pytest.raises(RuntimeError), store.write() as s:
        tickets.create(s, ADMIN, TicketCreate(subject="Never", body="x",
                                              customer_email="n@example.com"))
        raise RuntimeError("abandon")
    t = _write(store, lambda s: tickets.create(s, ADMIN, TicketCreate(
        subject="Kept", body="x", customer_email="k@example.com")), "ticket.created")
    assert [e.entity_id for e in _events(store, start)] == [t.id]


async def test_an_agents_feed_row_is_masked_as_the_agents_page(
        world: World, backend_for: BackendFor) -> None:
    """Local and Remote: the row an agent's feed carries equals the agent's page row."""
    alice, sam = backend_for("alice"), backend_for("sam")
    start = await alice.last_seq()
    with world.store.read() as s:
        bob = actor_for(s, "bob", "cli")
    t = world.store.run_write(lambda s: tickets.create(s, bob, TicketCreate(
        subject="Call me on +44 20 7946 0958 or jane.doe@example.com", body="hi",
        customer_name="jane.doe@example.com", customer_email="jane.doe@example.com")))

    async def created(backend: Backend) -> EventView:
        async for ev in backend.subscribe(start):
            if ev.kind == "ticket.created" and ev.entity_id == t.id:
                return ev
        raise AssertionError("no ticket.created")

    mine = await asyncio.wait_for(created(alice), timeout=5)
    raw = await asyncio.wait_for(created(sam), timeout=5)
    page = await alice.list_tickets(View.ALL_OPEN, limit=50)
    agent_row = next(r for r in page.items if r.id == t.id)
    assert TicketRow.model_validate(mine.diff["row"]) == agent_row
    assert "7946 0958" not in agent_row.subject and "jane.doe@" not in agent_row.subject
    assert agent_row.customer_name == "j•••@example.com"
    sup_page = await sam.list_tickets(View.ALL_OPEN, limit=50)
    sup_row = next(r for r in sup_page.items if r.id == t.id)
    assert TicketRow.model_validate(raw.diff["row"]) == sup_row
    assert "+44 20 7946 0958" in sup_row.subject  # supervisors see the data as it is


def test_a_bulk_assign_with_a_failing_ticket_keeps_the_others_rows(world: World) -> None:
    """Each ticket in its own savepoint: one rolled back leaves the others' rows."""
    from agent_tui.services import monitor_agents

    store = world.store
    ids = []
    for n in range(3):
        with store.write() as s:
            ids.append(tickets.create(s, ADMIN, TicketCreate(
                subject=f"Bulk {n}", body="x", customer_email="b@example.com")).id)
    stale = {ids[1]: 99}  # this one fails its version check
    results = _write(store, lambda s: monitor_agents.assign_many(
        s, ADMIN, ids, "bob", expected_versions=stale), "ticket.assigned")
    assert [r.ok for r in results] == [True, False, True]
    assert {e.entity_id for e in _events(store, 0) if e.kind == "ticket.assigned"} == {
        ids[0], ids[2]}
