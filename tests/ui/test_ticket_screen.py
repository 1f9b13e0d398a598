"""The ticket screen: header and thread, take, status, conflicts."""

from __future__ import annotations

from agent_tui.backend import Priority, Status, TicketUpdate
from agent_tui.local import LocalBackend
from agent_tui.services import tickets
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from tests.conftest import ADMIN
from tests.ui.conftest import (
    SIZE,
    Shop,
    assignee_in_store,
    queue_ready,
    screen_text,
    table,
    wait_for,
    wait_for_text,
)
from widgets.thread import MessageCard, Thread


async def test_enter_opens_the_selected_ticket_with_its_thread(shop: Shop) -> None:
    with shop.store.write() as session:
        tickets.note(session, ADMIN, shop.ticket_ids[0], "Customer is a VIP, be quick")
        tickets.reply(session, ADMIN, shop.ticket_ids[0], "We are on it.")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("j")
        selected = table(app).selected_id
        assert selected == shop.ticket_ids[0]  # second by priority: high after urgent
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and len(app.screen.query(MessageCard)) == 3, what="the thread")
        text = await wait_for_text(pilot, app, "Refund not received", "Hello, I need help.",
                                   "INTERNAL NOTE", "Customer is a VIP", "We are on it.")
        cards = list(app.screen.query_one(Thread).query(MessageCard))
        assert [c.has_class("-note") for c in cards] == [False, True, False]
        # Agents see the customer's e-mail masked, as the backend returns it.
        assert "c•••@example.com" in text and "chris@example.com" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")


async def test_take_assigns_the_ticket_to_me(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        target = table(app).selected_id
        assert target is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket")
        await pilot.press("T")
        await wait_for(pilot, lambda: assignee_in_store(shop, target) == "alice",
                       what="the assignment in the store")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None
                       and app.screen.ticket.assignee == "alice", what="the new assignee")
        await wait_for_text(pilot, app, "assignee alice")
        # Back in the queue, the row shows the new assignee (caught up on resume).
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen)
                       and (row := table(app).ticket(target)) is not None
                       and row.assignee == "alice", what="the queue row")


async def test_conflicting_status_change_names_who_changed_it(shop: Shop) -> None:
    app = shop.app()
    other = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket")
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.ticket is not None
        seen = screen.ticket.version
        await other.update_ticket(screen.ticket_id, TicketUpdate(priority=Priority.LOW),
                                  expected_version=seen)
        await pilot.press("S")  # still holds the old version: must not overwrite
        await wait_for(pilot, lambda: "changed by sam" in screen_text(app),
                       what="the conflict notification")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.version == seen + 1, what="the reload")
        assert screen.ticket is not None
        assert screen.ticket.status is Status.NEW and screen.ticket.priority is Priority.LOW
        # With the fresh version the same key now works.
        await pilot.press("S")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.status is Status.OPEN, what="status open")


async def test_brackets_move_between_tickets_and_keep_each_draft(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        order = table(app).ticket_ids
        await pilot.press("enter")

        def showing(ticket_id: int) -> bool:
            screen = app.screen
            return (isinstance(screen, TicketScreen) and screen.ticket is not None
                    and screen.ticket.id == ticket_id)

        await wait_for(pilot, lambda: showing(order[0]), what="the first ticket")
        await pilot.press("r", *"half a reply")
        app.screen.query_one(Thread).focus()  # out of the composer; the draft stays
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: showing(order[1]), what="the next ticket")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: showing(order[2]), what="the one after")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: showing(order[0]), what="back to the first")
        await wait_for_text(pilot, app, "half a reply")  # the draft waited for me
        app.screen.query_one(Thread).focus()
        await pilot.press("left_square_bracket")
        await wait_for_text(pilot, app, "No previous ticket in the queue here.")
        app.screen.query_one(Thread).focus()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        assert table(app).selected_id == order[0]  # the queue's cursor followed
