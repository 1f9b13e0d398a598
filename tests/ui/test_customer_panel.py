"""The customer 360 beside the thread and as a screen; reveal asks why and is audited."""

from __future__ import annotations

import sqlalchemy as sa

from screens.customer import CustomerScreen
from screens.reveal import RevealScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import SIZE, Shop, queue_ready, screen_text, wait_for, wait_for_text
from widgets.customer_panel import CustomerPanel, render_360


def reveal_events(shop: Shop) -> list[tuple[str, str]]:
    with shop.store.read() as session:
        return [(r[0], r[1]) for r in session.execute(sa.text(
            "SELECT actor, diff FROM event WHERE kind = 'customer.revealed'"))]


async def test_the_360_shows_beside_the_thread_masked_and_toggles(shop: Shop) -> None:
    shop.create("Second question", customer="Chris Customer", email="chris@example.com")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.query_one(CustomerPanel).data is not None,
                       what="the 360")
        text = await wait_for_text(pilot, app, "Chris Customer", "Identities", "REPEAT CONTACT")
        panel = app.screen.query_one(CustomerPanel)
        assert panel.data is not None  # the rest of the 360 is below the fold, scrollable
        full = render_360(panel.data).plain
        assert "Tickets" in full and "Satisfaction" in full
        assert "c•••@example.com" in text and "chris@example.com" not in text
        assert "masked — v to reveal" in text
        await pilot.press("c")
        assert not panel.display
        await wait_for(pilot, lambda: "Identities" not in screen_text(app),
                       what="the panel to hide")
        await pilot.press("c")
        assert panel.display


async def test_reveal_asks_a_reason_and_records_it(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.query_one(CustomerPanel).data is not None,
                       what="the 360")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealScreen), what="the modal")
        await pilot.press("escape")  # changed my mind: nothing revealed, nothing logged
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), what="back")
        assert reveal_events(shop) == []
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, RevealScreen), what="the modal")
        await pilot.press(*"caller verified", "enter")
        await wait_for_text(pilot, app, "chris@example.com")
        events = reveal_events(shop)
        assert len(events) == 1 and events[0][0] == "alice"
        assert "caller verified" in events[0][1]


async def test_shift_c_opens_the_whole_screen_and_escape_returns(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket")
        ticket_screen = app.screen
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, CustomerScreen)
                       and app.screen.data is not None, what="the customer screen")
        await wait_for_text(pilot, app, "Chris Customer", "customer #")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is ticket_screen, what="the ticket again")


async def test_customer_text_is_shown_literally_never_as_markup(shop: Shop) -> None:
    hostile = "[bold red]Eve[/] [@click=app.quit]x[/]"
    shop.create("Hello", customer=hostile, email="eve@example.com")
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("/", *"Hello", "enter")
        await wait_for_text(pilot, app, "Hello")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.query_one(CustomerPanel).data is not None,
                       what="the 360")
        await wait_for_text(pilot, app, "[bold red]Eve[/]", "[@click=app.quit]x[/]")
