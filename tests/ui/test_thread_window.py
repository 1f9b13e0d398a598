"""A long thread opens on its newest messages; the earlier ones come as the agent scrolls up."""

from __future__ import annotations

from agent_tui.services import tickets
from screens.ticket import TicketScreen
from tests.conftest import ADMIN
from tests.ui.conftest import SIZE, Shop, queue_ready, wait_for
from widgets.thread import EARLIER_BATCH, RECENT, MessageCard, Thread


async def test_a_long_thread_shows_its_newest_and_loads_earlier_ones_in_place(shop: Shop) -> None:
    ticket_id = shop.ticket_ids[1]  # urgent: the top of the queue
    with shop.store.write() as session:
        for i in range(44):
            tickets.note(session, ADMIN, ticket_id, f"note number {i}")
    total = 45
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("g", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None
                       and app.screen.ticket.id == ticket_id, what="the ticket")
        thread = app.screen.query_one(Thread)
        cards = list(thread.query_children(MessageCard))
        assert len(cards) == RECENT
        assert [c.message.body for c in cards][-1] == "note number 43"
        assert thread.hidden_earlier == total - RECENT
        earlier = thread.query_one(".thread--earlier")
        assert earlier.display and f"{total - RECENT} earlier messages" in str(earlier.render())
        await pilot.pause(0.1)
        assert thread.scroll_y == thread.max_scroll_y > 0  # at the newest
        thread.focus()
        reading = cards[0]
        await pilot.press("home")
        await wait_for(pilot, lambda: len(thread.query_children(MessageCard))
                       == RECENT + EARLIER_BATCH, what="an earlier batch")
        await pilot.pause(0.2)
        # The message that was first is still in view: nothing jumped.
        top, bottom = thread.scroll_y, thread.scroll_y + thread.scrollable_content_region.height
        assert top <= reading.virtual_region.y < bottom and thread.scroll_y > 0
        await pilot.press("home")
        await wait_for(pilot, lambda: len(thread.query_children(MessageCard)) == total,
                       what="the whole thread")
        await pilot.pause(0.1)
        ids = [c.message.id for c in thread.query_children(MessageCard)]
        assert app.screen.ticket is not None
        assert ids == [m.id for m in app.screen.ticket.messages]
        assert thread.hidden_earlier == 0 and not earlier.display
