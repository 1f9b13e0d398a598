"""The live queue applies ticket events by row key, without re-fetching its window.

Another process changes tickets through its own store handle; the queue gets
the change's row in the event and puts it in place (issue 4: "updated by row
key, the cursor staying where it is"; issue 6: no re-fetch per event).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agent_tui.app import AgentApp
from agent_tui.backend import (
    Channel,
    Page,
    Priority,
    Sort,
    Status,
    TicketCreate,
    TicketFilters,
    TicketRow,
    TicketUpdate,
    View,
)
from agent_tui.domain.tables import Event, Ticket, utcnow
from agent_tui.local import LocalBackend
from agent_tui.services import tickets
from screens import queue_window
from screens.queue_loading import COUNTS_EVERY
from tests.conftest import ADMIN
from tests.ui.conftest import SIZE, Shop, queue_ready, screen_text, table, wait_for


class CountingBackend(LocalBackend):
    """A LocalBackend that counts the queue's reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages = 0
        self.counts = 0

    async def list_tickets(self, view: View, **kwargs: Any) -> Page[TicketRow]:
        self.pages += 1
        return await super().list_tickets(view, **kwargs)

    async def count(self, view: View, **kwargs: Any) -> int:
        self.counts += 1
        return await super().count(view, **kwargs)


def _app(shop: Shop, login: str = "alice") -> tuple[AgentApp, CountingBackend]:
    backend = CountingBackend(shop.handle(), login)
    return AgentApp(backend, shop.url), backend


def _change(shop: Shop, ticket_id: int, **fields: Any) -> float:
    """Another process updates a ticket; returns when it committed (monotonic)."""
    with shop.handle().write() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        tickets.update(session, ADMIN, ticket_id, TicketUpdate(**fields),
                       expected_version=ticket.version)
    return time.monotonic()


async def test_a_changed_row_updates_in_place_and_the_cursor_stays(shop: Shop) -> None:
    app, backend = _app(shop)
    async with app.run_test(size=SIZE) as pilot:
        screen = await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        await pilot.press("j", "j")
        t = table(app)
        selected, ids = t.selected_id, t.ticket_ids
        assert selected is not None and t.cursor_row == 2
        pages = backend.pages

        top = ids[0]
        committed = _change(shop, top, subject="App crashes on login (all users)")
        await wait_for(pilot, lambda: (r := t.ticket(top)) is not None
                       and r.subject.endswith("(all users)"), timeout=3.0, what="the new subject")
        assert time.monotonic() - committed < 1.0
        assert t.ticket_ids == ids and t.selected_id == selected and t.cursor_row == 2

        # A row whose sort key changes moves; the cursor stays on its ticket.
        low = ids[-1]
        _change(shop, low, priority=Priority.URGENT)
        await wait_for(pilot, lambda: t.ticket_ids.index(low) == 1, timeout=3.0,
                       what="the re-prioritised ticket among the urgent ones")
        assert t.selected_id == selected and t.cursor_row == 3
        assert "Urgent" in screen_text(app) or "urgent" in screen_text(app)
        assert backend.pages == pages  # rows came in the events: no page re-fetched
        assert screen.live_applied >= 2


async def test_a_row_that_leaves_the_view_goes_and_the_cursor_stays_near(shop: Shop) -> None:
    app, backend = _app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        await pilot.press("j", "j")
        t = table(app)
        ids, gone = t.ticket_ids, t.selected_id
        assert gone is not None
        pages = backend.pages
        _change(shop, gone, status=Status.SOLVED)
        await wait_for(pilot, lambda: gone not in t.ticket_ids, timeout=3.0,
                       what="the solved ticket to leave All open")
        assert t.cursor_row == 2 and t.selected_id == ids[3]  # its neighbour, not the top
        assert backend.pages == pages


async def test_new_tickets_appear_in_order_and_counts_follow_once_a_second(shop: Shop) -> None:
    app, backend = _app(shop)
    async with app.run_test(size=SIZE) as pilot:
        screen = await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        t = table(app)
        await pilot.press("j")
        selected = t.selected_id
        pages, counts = backend.pages, backend.counts
        made = []
        with shop.handle().write() as session:  # one burst from another process
            for subject, prio in (("Site down", Priority.URGENT), ("Typo on page", Priority.LOW),
                                  ("Password reset", Priority.HIGH)):
                made.append(tickets.create(session, ADMIN, TicketCreate(
                    subject=subject, body="Help", priority=prio,
                    customer_email="new@example.com")).id)
        await wait_for(pilot, lambda: all(i in t.ticket_ids for i in made), timeout=3.0,
                       what="the new tickets")
        order = [int(r.priority) for r in (t.ticket(i) for i in t.ticket_ids) if r]
        assert order == sorted(order, reverse=True)  # each where the priority sort puts it
        assert t.ticket_ids.index(made[0]) == 1  # urgent, after the older urgent one
        assert t.ticket_ids[-1] == made[1]  # low, newest: last
        assert t.selected_id == selected
        await wait_for(pilot, lambda: screen.counts.get("3") == 8, timeout=COUNTS_EVERY + 3,
                       what="the All open count")
        assert backend.pages == pages
        assert backend.counts - counts <= 2 * 8  # one re-count for the burst (two at most)


async def test_an_agent_sees_the_live_row_masked(shop: Shop) -> None:
    app, _backend = _app(shop, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        t = table(app)
        target = t.ticket_ids[0]
        _change(shop, target, subject="Call me on +44 20 7946 0958")
        await wait_for(pilot, lambda: (r := t.ticket(target)) is not None
                       and r.subject.startswith("Call me"), timeout=3.0, what="the new subject")
        row = t.ticket(target)
        assert row is not None and row.subject == "Call me on •••• 958"
        assert "7946" not in screen_text(app)


async def test_an_event_without_a_row_falls_back_to_a_refetch(shop: Shop) -> None:
    app, backend = _app(shop)
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        t = table(app)
        target = t.ticket_ids[0]
        pages = backend.pages
        # As an event from before rows were carried: written to the log without one, and
        # the ticket changed by a tool that bypasses the services.
        with shop.handle().write() as session:
            session.execute(sa.update(Ticket.__table__)  # type: ignore[attr-defined]
                            .where(Ticket.__table__.c.id == target)  # type: ignore[attr-defined]
                            .values(subject="Changed outside", version=Ticket.version + 1))
            session.execute(sa.insert(Event.__table__).values(  # type: ignore[attr-defined]
                at=utcnow(), actor="legacy", role="admin", source="cli", kind="ticket.updated",
                entity="ticket", entity_id=target,
                diff=json.dumps({"after": {"subject": "Changed outside"}})))
        await wait_for(pilot, lambda: (r := t.ticket(target)) is not None
                       and r.subject == "Changed outside", timeout=3.0, what="the re-fetch")
        assert backend.pages > pages


# ---------------------------------------------------------------- the window's rules


def _row(ticket_id: int, priority: Priority = Priority.NORMAL, *, version: int = 1,
         **fields: Any) -> TicketRow:
    base = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    data: dict[str, Any] = {
        "id": ticket_id, "channel": Channel.EMAIL, "subject": f"Ticket {ticket_id}",
        "status": Status.OPEN, "priority": priority, "customer_id": 1,
        "customer_name": "Kim", "created_at": base + timedelta(minutes=ticket_id),
        "updated_at": base + timedelta(minutes=ticket_id), "version": version}
    data.update(fields)
    return TicketRow(**data)


def _page(rows: list[TicketRow], more: bool) -> Page[TicketRow]:
    return Page[TicketRow](items=rows, next_cursor=f"c{rows[-1].id}" if more else None)


def test_the_window_places_a_live_row_only_between_its_edges() -> None:
    key = queue_window.sort_key(Sort.AGE)  # oldest first: id order here
    w = queue_window.QueueWindow(page_size=3)
    w.reset(_page([_row(1), _row(3), _row(5)], more=True))
    w.add_below("c5", _page([_row(7), _row(9), _row(11)], more=True))
    assert w.apply(_row(4), keep=True, key=key) == "inserted"
    assert [r.id for r in w.rows] == [1, 3, 4, 5, 7, 9, 11]
    assert w.apply(_row(8), keep=True, key=key) == "inserted"
    assert [r.id for r in w.chunks[1].rows] == [7, 8, 9, 11]
    # Past the end cursor (row 11): a later page after it brings the row; not shown twice.
    assert w.apply(_row(12), keep=True, key=key) == "outside"
    # Moved past the edge, or out of the view: gone; the edge stays where the cursor is.
    assert w.apply(_row(3, created_at=datetime(2027, 1, 1, tzinfo=UTC)), keep=True,
                   key=key) == "removed"
    assert w.apply(_row(11), keep=False, key=key) == "removed"
    assert w.apply(_row(10), keep=True, key=key) == "inserted"  # before the end cursor
    assert [r.id for r in w.rows] == [1, 4, 5, 7, 8, 9, 10]
    assert w.apply(_row(5, subject="New words"), keep=True, key=key) == "replaced"
    assert w.rows[2].subject == "New words"
    assert w.apply(_row(5, version=0), keep=True, key=key) == "stale"
    assert w.rows[2].subject == "New words"


def test_a_window_below_the_top_takes_no_row_from_above_its_start() -> None:
    key = queue_window.sort_key(Sort.PRIORITY)
    w = queue_window.QueueWindow(page_size=2, max_pages=1)
    w.reset(_page([_row(1, Priority.URGENT), _row(2, Priority.HIGH)], more=True))
    w.add_below("c2", _page([_row(3), _row(4)], more=False))  # drops the first page
    assert not w.at_top and w.anchor_row is not None and w.anchor_row.id == 2
    assert w.apply(_row(9, Priority.URGENT), keep=True, key=key) == "outside"
    assert w.apply(_row(8, Priority.LOW), keep=True, key=key) == "inserted"  # at the bottom
    assert [r.id for r in w.rows] == [3, 4, 8]


def test_a_row_belongs_to_the_view_as_the_store_decides() -> None:
    row = _row(1, Priority.HIGH, assignee="alice", team="billing", tags=["vip"])
    open_ = TicketFilters()
    assert queue_window.belongs(row, View.ALL_OPEN, None, None, "alice") is True
    assert queue_window.belongs(row, View.MY_OPEN, None, None, "alice") is True
    assert queue_window.belongs(row, View.MY_OPEN, None, None, "bob") is False
    assert queue_window.belongs(row, View.UNASSIGNED, None, None, "alice") is False
    assert queue_window.belongs(row, View.TEAM, "Billing", open_, "alice") is True
    assert queue_window.belongs(row, View.SOLVED, None, None, "alice") is False
    solved = _row(2, status=Status.SOLVED)
    assert queue_window.belongs(solved, View.ALL_OPEN, None, None, "alice") is False
    assert queue_window.belongs(solved, View.SOLVED, None, None, "alice") is True
    f = TicketFilters(priority=[Priority.HIGH], tag="VIP", assignee="me", text="ticket")
    assert queue_window.belongs(row, View.ALL_OPEN, None, f, "alice") is True
    assert queue_window.belongs(row, View.ALL_OPEN, None, TicketFilters(text="refund"),
                                "alice") is False
    masked = _row(3, subject="Call •••• 958")
    # The server matched the unmasked subject: the row cannot say, so the screen re-fetches.
    assert queue_window.belongs(masked, View.ALL_OPEN, None, TicketFilters(text="0958"),
                                "alice") is None
