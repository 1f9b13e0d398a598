"""The live queue applies ticket events by row key, without re-fetching its window.

Another process changes tickets through its own store handle; the queue gets
the change's row in the event and puts it in place (issue 4: "updated by row
key, the cursor staying where it is"; issue 6: no re-fetch per event).
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from agent_tui.app import AgentApp
from agent_tui.backend import Page, Priority, Status, TicketCreate, TicketRow, TicketUpdate, View
from agent_tui.domain.tables import Event, Ticket, utcnow
from agent_tui.local import LocalBackend
from agent_tui.services import tickets
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
