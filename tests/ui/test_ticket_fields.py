"""Changing status, priority, tags, assignee and team from the ticket screen, keys only."""

from __future__ import annotations

from agent_tui.backend import Priority, Status
from screens.choose import ChoiceScreen, TextScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import (
    SIZE,
    Shop,
    assignee_in_store,
    queue_ready,
    stored,
    wait_for,
    wait_for_text,
)

from .test_composer import open_first_ticket


async def test_status_priority_and_tags_from_pickers(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        tid = screen.ticket_id
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="statuses")
        # new is highlighted; open is next, pending after it.
        await pilot.press("j", "j", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).status == Status.PENDING,
                       what="pending in the store")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.status is Status.PENDING, what="pending on screen")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="priorities")
        await pilot.press("escape")  # cancel changes nothing
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        version = stored(shop, tid).version
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="priorities")
        await pilot.press("end", "enter")  # the last choice: low
        await wait_for(pilot, lambda: stored(shop, tid).priority == int(Priority.LOW),
                       what="low in the store")
        assert stored(shop, tid).version == version + 1
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="tags")
        await pilot.press(*" vip, Refund", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).tags == "refund vip",
                       what="the tags in the store")


async def test_assign_to_nobody_and_back_to_me(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        tid = screen.ticket_id
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="people")
        await pilot.press("home", "enter")  # "me" comes first
        await wait_for(pilot, lambda: assignee_in_store(shop, tid) == "alice", what="mine")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.assignee == "alice", what="mine on screen")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="people")
        await pilot.press("end", "enter")  # "nobody" comes last
        await wait_for(pilot, lambda: assignee_in_store(shop, tid) is None, what="dropped")


async def test_an_agent_may_not_move_a_ticket_to_another_team(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_ticket(pilot, app)
        before = stored(shop, screen.ticket_id).team_id
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="teams")
        await pilot.press("home", "enter")
        await wait_for_text(pilot, app, "ask a supervisor")
        assert stored(shop, screen.ticket_id).team_id == before
