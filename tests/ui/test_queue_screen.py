"""The queue screen: views, counts, sort, filter, pages, and live updates."""

from __future__ import annotations

from agent_tui.backend import Priority, Status, TicketCreate, TicketUpdate, View
from agent_tui.local import LocalBackend
from agent_tui.services import tickets
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from tests.conftest import ADMIN
from tests.ui.conftest import (
    SIZE,
    Shop,
    queue_ready,
    screen_text,
    table,
    view_ids,
    wait_for,
    wait_for_text,
)
from widgets.ticket_table import TicketTable

# ---------------------------------------------------------------- the queue


async def test_queue_shows_all_open_tickets(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        assert table(app).ticket_ids == view_ids(shop, View.ALL_OPEN)
        assert len(table(app).ticket_ids) == 5
        assert screen.query_state.view is View.ALL_OPEN
        await wait_for_text(pilot, app, "All open 5", "App crashes on login", "● live",
                            "alice (agent)")


async def test_view_keys_switch_views_and_counts(shop: Shop) -> None:
    with shop.store.write() as session:
        tickets.assign(session, ADMIN, shop.ticket_ids[0], "alice")
        t = tickets.detail(session, ADMIN, shop.ticket_ids[2])
        tickets.update(session, ADMIN, t.id, TicketUpdate(status=Status.PENDING),
                       expected_version=t.version)
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        await wait_for_text(pilot, app, "Mine 1", "Unassigned 4", "All open 5", "Pending 1",
                            "On hold 0", "Solved 0", "Team billing 2")

        for key, view in (("1", View.MY_OPEN), ("2", View.UNASSIGNED), ("4", View.PENDING),
                          ("6", View.SOLVED), ("3", View.ALL_OPEN)):
            expected = view_ids(shop, view)
            await pilot.press(key)

            def shows(v: View = view, ids: list[int] = expected) -> bool:
                return screen.query_state.view is v and table(app).ticket_ids == ids

            await wait_for(pilot, shows, what=str(view))
        await pilot.press("6")
        await wait_for(pilot, lambda: screen.query_state.view is View.SOLVED
                       and screen.query_one("#empty").display, what="the empty message")
        await wait_for_text(pilot, app, "No tickets in this view.")

        await pilot.press("9")  # team view: the first team
        await wait_for(pilot, lambda: screen.query_state.view_arg == "billing"
                       and len(table(app).ticket_ids) == 2, what="team billing")
        await pilot.press("9")  # next team
        await wait_for(pilot, lambda: screen.query_state.view_arg == "logistics"
                       and table(app).ticket_ids == [shop.ticket_ids[2]], what="logistics")
        await pilot.press("0")  # channel view: email
        await wait_for(pilot, lambda: screen.query_state.view is View.CHANNEL
                       and screen.query_state.view_arg == "email"
                       and len(table(app).ticket_ids) == 2, what="channel email")
        await wait_for_text(pilot, app, "Channel email 2")


async def test_sort_filter_and_cursor_keys(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        t = table(app)
        assert t.ticket_ids[0] == shop.ticket_ids[1]  # urgent first
        await pilot.press("G")
        assert t.cursor_row == 4
        await pilot.press("k")
        assert t.cursor_row == 3
        await pilot.press("g")
        assert t.cursor_row == 0

        await pilot.press("s")  # age: oldest first
        await wait_for(pilot, lambda: screen.query_state.sort.value == "age"
                       and t.ticket_ids == shop.ticket_ids, what="sort by age")
        await wait_for_text(pilot, app, "All open · by age · row 1 of 5")

        await pilot.press("slash", *"order", "enter")
        await wait_for(pilot, lambda: t.ticket_ids == [shop.ticket_ids[2]], what="filter")
        await wait_for(pilot, lambda: screen.matching == 1, what="the match count")
        await wait_for_text(pilot, app, "filter: order (1 match)")
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(t.ticket_ids) == 5, what="filter cleared")
        assert screen.query_state.text is None


async def test_the_window_walks_a_long_view_both_ways(shop: Shop, monkeypatch) -> None:
    """Paging down fetches ahead and drops pages above; paging up fetches them back."""
    monkeypatch.setattr(QueueScreen, "page_size", 20)
    monkeypatch.setattr(QueueScreen, "max_pages", 3)
    with shop.store.write() as session:
        for i in range(130):
            tickets.create(session, ADMIN, TicketCreate(
                subject=f"Bulk question {i:03}", body="?", customer_email="bulk@example.com",
                priority=(Priority.LOW, Priority.NORMAL, Priority.HIGH)[i % 3]))
    expected = view_ids(shop, View.ALL_OPEN, limit=500)
    assert len(expected) == 135
    app = shop.app()
    async with app.run_test(size=(160, 24), notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        t = table(app)

        def held_is_a_slice() -> None:
            ids, offset = t.ticket_ids, screen.window.offset
            assert len(ids) <= 3 * 20 + 1
            assert ids == expected[offset:offset + len(ids)], offset

        async def settle() -> None:
            await wait_for(pilot, lambda: not screen.fetching, what="the window's fetches")

        await settle()
        seen = {t.selected_id}
        for _ in range(40):
            await pilot.press("pagedown")
            await settle()
            held_is_a_slice()
            seen.add(t.selected_id)
            if t.selected_id == expected[-1]:
                break
        assert t.selected_id == expected[-1] and screen.window.at_bottom
        assert screen.window.offset > 0  # pages above were dropped on the way
        await wait_for_text(pilot, app, "row 135 of 135")
        deep = screen.window.offset
        await pilot.press("r")  # a refresh re-fetches where the window is, not the top
        await settle()
        assert t.selected_id == expected[-1] and screen.window.offset == deep
        await pilot.press("right_square_bracket")
        await wait_for_text(pilot, app, "This is the end of the view.")
        for _ in range(40):
            await pilot.press("left_square_bracket")
            await settle()
            held_is_a_slice()
            seen.add(t.selected_id)
            if t.selected_id == expected[0]:
                break
        assert t.selected_id == expected[0] and screen.window.at_top
        assert screen.window.offset == 0
        assert len(seen) > 10
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        await settle()
        assert not screen.window.at_top
        await pilot.press("g")  # the top of the view, fetched again
        await wait_for(pilot, lambda: t.selected_id == expected[0] and screen.window.at_top,
                       what="the top of the view")
        await wait_for_text(pilot, app, "row 1 of 135")


# ---------------------------------------------------------------- live


async def test_ticket_from_another_process_appears_and_cursor_stays(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        await pilot.press("j", "j")
        t = table(app)
        selected = t.selected_id
        assert t.cursor_row == 2
        # Another process: its own store handle, a direct service call, no key pressed here.
        with shop.handle().write() as session:
            new = tickets.create(session, ADMIN, TicketCreate(
                subject="Site down for everyone", body="It is all broken",
                priority=Priority.URGENT, customer_email="other@example.com"))
        await wait_for(pilot, lambda: new.id in t.ticket_ids, timeout=3.0,
                       what="the new ticket in the queue")
        assert t.ticket_ids[1] == new.id  # urgent, after the older urgent one
        assert t.selected_id == selected
        assert t.cursor_row == 3
        await wait_for(pilot, lambda: screen.counts.get("3") == 6, what="the count")


async def test_hidden_queue_catches_up_when_shown_again(shop: Shop) -> None:
    app = shop.app()
    other = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        target = table(app).selected_id
        assert target is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None, what="the ticket")
        ticket_screen = app.screen
        assert isinstance(ticket_screen, TicketScreen) and ticket_screen.ticket is not None
        version = ticket_screen.ticket.version
        await other.update_ticket(target, TicketUpdate(status=Status.PENDING),
                                  expected_version=version)
        # The ticket screen announces the change instead of reloading under the agent.
        await wait_for(pilot, lambda: "Changed by sam" in screen_text(app), what="notice")
        row = screen.query_one(TicketTable).ticket(target)
        assert row is not None and row.status is Status.NEW  # the hidden queue did not fetch
        await pilot.press("escape")
        await wait_for(pilot, lambda: (r := table(app).ticket(target)) is not None
                       and r.status is Status.PENDING, what="the queue catching up")


async def test_filter_tokens_narrow_the_view_and_bad_ones_are_explained(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await queue_ready(pilot, app)
        t = table(app)
        await pilot.press("slash", *"chan:chat,web prio:normal,low", "enter")
        # Where is my order? (chat, normal) and Change my address (web, low).
        await wait_for(pilot, lambda: sorted(t.ticket_ids) == sorted(shop.ticket_ids[2:4]),
                       what="the token filter")
        await pilot.press("slash", "ctrl+u", *"team:billing invoice", "enter")
        await wait_for(pilot, lambda: t.ticket_ids == [shop.ticket_ids[4]], what="team + text")
        await pilot.press("slash", "ctrl+u", *"prio:hgih", "enter")
        await wait_for_text(pilot, app, "unknown priority 'hgih'")
        # The box stays open with the typo, and the last good filter still applies.
        assert screen.query_one("#filter").has_class("-shown")
        assert t.ticket_ids == [shop.ticket_ids[4]]
