"""``n`` in the queue takes and opens the most urgent ticket I may work on; ``N`` only names it."""

from __future__ import annotations

from screens.ticket import TicketScreen
from tests.ui.conftest import (
    SIZE,
    Shop,
    assignee_in_store,
    queue,
    queue_ready,
    table,
    wait_for,
    wait_for_text,
)


async def test_peek_then_take_the_next_ticket(shop: Shop) -> None:
    app = shop.app()  # alice, billing team
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("N")
        await wait_for_text(pilot, app, "Next: #", "n takes it")
        refund = shop.ticket_ids[0]  # billing, high: more urgent than the invoice one
        assert table(app).selected_id == refund
        assert assignee_in_store(shop, refund) is None  # peeking takes nothing
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket_id == refund, what="the next ticket")
        await wait_for(pilot, lambda: assignee_in_store(shop, refund) == "alice", what="mine")
        await pilot.press("escape")
        await wait_for(pilot, lambda: queue(app) is not None, what="the queue")
