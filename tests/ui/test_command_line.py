"""The ``:`` command line: the CLI's words on the queue and the ticket screen."""

from __future__ import annotations

from agent_tui.backend import Priority, Status, View
from screens.command_line import Command, resolve, run_line
from screens.ticket import TicketScreen
from tests.ui.conftest import (
    SIZE,
    Shop,
    assignee_in_store,
    queue,
    queue_ready,
    stored,
    table,
    wait_for,
    wait_for_text,
)


def test_verbs_resolve_by_unique_prefix_and_say_what_exists() -> None:
    ran: list[list[str]] = []
    verbs = {name: Command(lambda a: ran.append(a), name, "") for name in
             ("status", "sort", "assign")}
    assert resolve("st", verbs) == ("status", None)
    assert resolve("s", verbs)[1] == ":s could be :sort, :status"
    assert "no command :zz here; try :assign, :sort, :status" == resolve("zz", verbs)[1]
    assert run_line(':assign "Ada Lovelace" now', verbs) is None
    assert ran == [["Ada Lovelace", "now"]]
    assert run_line("   ", verbs) is None and len(ran) == 1


async def test_queue_view_sort_and_open_by_command(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("colon", *"view unassigned", "enter")
        await wait_for(pilot, lambda: queue(app).query_state.view is View.UNASSIGNED,
                       what="the unassigned view")
        await pilot.press("colon", *"view team tech", "enter")
        await wait_for(pilot, lambda: queue(app).query_state.view_arg == "tech",
                       what="the tech team")
        await wait_for(pilot, lambda: table(app).ticket_ids == [shop.ticket_ids[1]],
                       what="the tech ticket")
        await pilot.press("colon", *"vw nowhere", "enter")
        await wait_for_text(pilot, app, "no command :vw here")
        await pilot.press("colon", *f"open {shop.ticket_ids[3]}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket_id == shop.ticket_ids[3], what="ticket 4")


async def test_ticket_status_priority_assign_and_tags_by_command(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket")
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        tid = screen.ticket_id
        await pilot.press("colon", *"assign me", "enter")
        await wait_for(pilot, lambda: assignee_in_store(shop, tid) == "alice", what="mine")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.assignee == "alice", what="reloaded")
        await pilot.press("colon", *"st pending", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).status == Status.PENDING,
                       what="pending")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.status is Status.PENDING, what="reloaded")
        await pilot.press("colon", *"priority low", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).priority == int(Priority.LOW),
                       what="low")
        await wait_for(pilot, lambda: screen.ticket is not None
                       and screen.ticket.priority is Priority.LOW, what="reloaded")
        await pilot.press("colon", *"tags +vip +refund", "enter")
        await wait_for(pilot, lambda: stored(shop, tid).tags == "refund vip", what="tags")
        await pilot.press("colon", *"status nearly-done", "enter")
        await wait_for_text(pilot, app, "status one of new, open")


async def test_saved_views_save_show_list_and_forget(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        await pilot.press("colon", *"view team billing", "enter")
        await pilot.press("colon", *"sort age", "enter")
        await pilot.press("colon", *"filter prio:normal invoice", "enter")
        await wait_for(pilot, lambda: table(app).ticket_ids == [shop.ticket_ids[4]],
                       what="the narrowed view")
        await pilot.press("colon", *"save billing invoices", "enter")
        await wait_for_text(pilot, app, "Saved view “billing invoices”")
        # Kept in the store for this agent, not in the screen: another app sees it.
        other = shop.app()
        async with other.run_test(size=SIZE) as other_pilot:
            other_queue = await queue_ready(other_pilot, other)
            await wait_for(other_pilot, lambda: other_queue.find_saved("Billing Invoices")
                           is not None, what="the saved view elsewhere")
        await pilot.press("colon", *"view all", "enter")
        await pilot.press("colon", *"filter", "enter")  # an empty filter clears it
        await wait_for(pilot, lambda: len(table(app).ticket_ids) == 5, what="all open")
        await pilot.press("colon", *"view billing invoices", "enter")
        await wait_for(pilot, lambda: table(app).ticket_ids == [shop.ticket_ids[4]],
                       what="the saved view shown again")
        q = screen.query_state
        assert (q.view, q.view_arg, q.sort.value) == (View.TEAM, "billing", "age")
        assert q.text == "prio:normal invoice"
        await pilot.press("colon", *"views", "enter")
        await wait_for_text(pilot, app, "billing invoices: team billing · by age")
        await pilot.press("colon", *"view nothing-saved", "enter")
        await wait_for(pilot, lambda: any("or a saved one (billing invoices)" in n.message
                                          for n in app._notifications),
                       what="the saved views named in the error")
        await pilot.press("colon", *"unsave billing invoices", "enter")
        await wait_for(pilot, lambda: screen.saved == [], what="the view forgotten")
