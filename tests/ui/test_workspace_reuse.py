"""One workspace for every ticket: refilled per ticket, never leaking one ticket into the next.

The app keeps a single ticket workspace and refills it (building one is most
of what opening a ticket costs). These tests hold it to what a fresh screen
per ticket gave for free: the right draft, no stale notice or presence, and a
send that finishes after the agent moved on lands on its own ticket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.pilot import Pilot

import screens.ticket
from agent_tui.app import AgentApp
from agent_tui.backend import Priority, TicketDetail, TicketUpdate, Unavailable
from agent_tui.local import LocalBackend
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from screens.ticket_open import WORKSPACE
from tests.ui.conftest import SIZE, Shop, queue_ready, screen_text, table, wait_for, wait_for_text
from widgets.composer import Composer
from widgets.thread import MessageCard, Thread

from .test_composer import messages_in_store


def showing(app: AgentApp, ticket_id: int) -> bool:
    screen = app.screen
    return (isinstance(screen, TicketScreen) and screen.ticket is not None
            and screen.ticket.id == ticket_id)


async def open_row(pilot: Pilot[Any], app: AgentApp, row: int) -> TicketScreen:
    """From the queue, open the ``row``-th ticket (0 = top) and wait until it shows."""
    await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
    ids = table(app).ticket_ids
    await pilot.press("g", *["j"] * row, "enter")
    await wait_for(pilot, lambda: showing(app, ids[row]), what=f"ticket #{ids[row]}")
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    return screen


def slow_sends(app: AgentApp, delay: float) -> None:
    """Make the app's replies take ``delay`` seconds, as over a slow network."""
    backend = app.backend
    reply = backend.reply

    async def slow(ticket_id: int, text: str, *, expected_version: int) -> TicketDetail:
        await asyncio.sleep(delay)
        return await reply(ticket_id, text, expected_version=expected_version)

    backend.reply = slow  # type: ignore[method-assign]


async def test_the_next_ticket_reuses_the_workspace_with_its_own_draft(shop: Shop) -> None:
    app = shop.app()
    sam = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        first = await open_row(pilot, app, 0)
        a = first.ticket_id
        await pilot.press("r", *"draft for A")
        # Someone changes A while it is open: A's header says so.
        assert first.ticket is not None
        await sam.update_ticket(a, TicketUpdate(priority=Priority.LOW),
                                expected_version=first.ticket.version)
        await wait_for_text(pilot, app, "Changed by sam since you opened it")
        first.query_one(Thread).focus()
        await pilot.press("escape")
        second = await open_row(pilot, app, 1)
        b = second.ticket_id
        assert second is first and b != a  # the same screen, refilled
        composer = second.query_one(Composer)
        assert composer.draft.text == "" and composer.area.text == ""
        assert not composer.is_open
        text = screen_text(app)
        assert "draft for A" not in text and "Changed by sam" not in text
        assert f"#{b}" in text
        # Presence follows the ticket on screen.
        for _ in range(100):
            if [p.agent for p in await sam.presence([b])] == ["alice"]:
                break
            await pilot.pause(0.05)
        assert [p.agent for p in await sam.presence([b])] == ["alice"]
        assert await sam.presence([a]) == []
        # Back to A: its draft waited for me, open where I left it.
        await pilot.press("escape")
        again = await open_row(pilot, app, table(app).ticket_ids.index(a))
        assert again is first
        await wait_for_text(pilot, app, "draft for A")
        assert again.query_one(Composer).is_open
    await sam.close()


async def test_back_at_the_queue_the_kept_workspace_stops_announcing(
        shop: Shop, monkeypatch: Any) -> None:
    monkeypatch.setattr(screens.ticket, "PRESENCE_BEAT", 0.1)  # beats every 0.1 s
    app = shop.app()
    sam = LocalBackend(shop.handle(), "sam")
    # A slow backend: a beat is always in flight when the agent leaves.
    presence = app.backend.presence

    async def slow_presence(ticket_ids: list[int]) -> list[Any]:
        await asyncio.sleep(0.2)
        return await presence(ticket_ids)

    app.backend.presence = slow_presence  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        screen = await open_row(pilot, app, 0)
        tid = screen.ticket_id
        await pilot.pause(0.35)  # a few beats
        assert [p.agent for p in await sam.presence([tid])] == ["alice"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        await pilot.pause(0.5)  # five beats' time: none may put Alice back on the ticket
        assert await sam.presence([tid]) == []
    await sam.close()


async def test_a_reply_that_lands_after_moving_on_clears_its_own_draft(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        slow_sends(app, 0.6)
        screen = await open_row(pilot, app, 0)
        a = screen.ticket_id
        before = len(messages_in_store(shop, a))
        await pilot.press("r", *"Your refund is on its way", "ctrl+s")
        screen.query_one(Thread).focus()
        await pilot.press("right_square_bracket")  # on to B while A's reply is in flight
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None and app.screen.ticket_id != a,
                       what="the next ticket")
        b = screen.ticket_id
        await wait_for(pilot, lambda: len(messages_in_store(shop, a)) == before + 1,
                       what="A's reply in the store")
        await wait_for_text(pilot, app, f"Reply sent on #{a}")
        assert screen.ticket_id == b  # still on B: the reply did not pull me back
        assert screen.ticket is not None and screen.ticket.id == b
        assert "Your refund is on its way" not in screen_text(app)  # not in B's thread
        assert screen.query_one(Composer).draft.text == ""
        assert screen.session.drafts[a].text == ""  # A's draft went out: cleared
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: showing(app, a), what="back on A")
        await wait_for_text(pilot, app, "Your refund is on its way")  # in A's thread
        assert screen.query_one(Composer).area.text == ""


async def test_a_refused_reply_after_moving_on_keeps_its_draft(shop: Shop) -> None:
    app = shop.app()
    sam = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        slow_sends(app, 0.6)
        screen = await open_row(pilot, app, 0)
        a = screen.ticket_id
        assert screen.ticket is not None
        version = screen.ticket.version
        draft = "Dear Chris,\n\n  the refund 退款 is on its way 🎉  "
        await pilot.press("r")
        screen.query_one(Composer).area.insert(draft)
        await pilot.press("ctrl+s")
        # While the reply is in flight Sam changes A: the send is stale.
        await sam.update_ticket(a, TicketUpdate(priority=Priority.LOW),
                                expected_version=version)
        screen.query_one(Thread).focus()
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                       and app.screen.ticket is not None and app.screen.ticket_id != a,
                       what="the next ticket")
        await wait_for_text(pilot, app, f"sam changed #{a}")
        assert not any(m.body == draft for m in messages_in_store(shop, a))
        assert screen.session.drafts[a].text == draft  # byte for byte
        assert screen.query_one(Composer).draft.text == ""  # B's composer untouched
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: showing(app, a), what="back on A")
        assert screen.query_one(Composer).area.text == draft
    await sam.close()


async def test_the_workspace_is_built_off_screen_while_the_queue_shows(shop: Shop) -> None:
    """Built at idle on the cursor's ticket: invisible to others, and the first open uses it."""
    app = shop.app()
    sam = LocalBackend(shop.handle(), "sam")
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await wait_for(pilot, lambda: app.is_screen_installed(WORKSPACE), what="the workspace")
        prepared = app.get_screen(WORKSPACE)
        assert isinstance(prepared, TicketScreen)
        await wait_for(pilot, lambda: prepared.ticket is not None, what="its ticket")
        # Running and laid out at the app's size, yet not shown: the queue is on screen.
        assert prepared.is_running and prepared not in app.screen_stack
        assert app.screen is queue and prepared.size == app.size
        ids = table(app).ticket_ids
        cursor = ids[0]
        assert prepared.ticket_id == cursor
        # Nobody is told the agent looks at a ticket they have not opened.
        await pilot.pause(0.3)
        assert await sam.presence([cursor]) == []
        # Opening a ticket (another than the one it was built on) refills that screen.
        opened = await open_row(pilot, app, 2)
        assert opened is prepared and opened.ticket_id == ids[2] != cursor
        thread_ids = [c.message.id for c in opened.query(MessageCard)]
        assert opened.ticket is not None
        assert thread_ids == [m.id for m in opened.ticket.messages]
        for _ in range(50):
            if [p.agent for p in await sam.presence([opened.ticket_id])] == ["alice"]:
                break
            await pilot.pause(0.05)
        assert [p.agent for p in await sam.presence([opened.ticket_id])] == ["alice"]


async def test_a_failing_backend_only_loses_the_head_start(shop: Shop) -> None:
    """The off-screen build failing says nothing; the first open then builds the workspace."""
    app = shop.app()
    get_ticket = app.backend.get_ticket
    calls = {"n": 0}

    async def first_fails(ticket_id: int) -> TicketDetail:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Unavailable("the store is away")
        return await get_ticket(ticket_id)

    app.backend.get_ticket = first_fails  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await wait_for(pilot, lambda: calls["n"] >= 1, what="the off-screen build")
        await pilot.pause(0.2)
        assert "the store is away" not in screen_text(app)
        assert not app.is_screen_installed(WORKSPACE)
        top = table(app).ticket_ids[0]
        opened = await open_row(pilot, app, 0)
        assert opened.ticket_id == top and app.get_screen(WORKSPACE) is opened


def segment_styles(app: AgentApp) -> list[str]:
    """The styles of every segment on screen, as the terminal would get them."""
    return [str(segment.style) for strip in app.screen._compositor.render_strips()
            for segment in strip]


async def test_a_theme_switched_while_the_workspace_is_away_shows_in_it(shop: Shop) -> None:
    """The kept workspace skips Textual's restyle on a push only while nothing changed."""
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        first = await open_row(pilot, app, 0)
        dark = segment_styles(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        await pilot.press("ctrl+t")  # light, while the workspace is off the stack
        await pilot.pause(0.1)
        again = await open_row(pilot, app, 0)
        assert again is first
        await pilot.pause(0.1)
        light = segment_styles(app)
        assert light != dark
        # The same as a workspace styled from scratch in the light theme.
        app.screen.update_node_styles(animate=False)
        app.screen.refresh(repaint=True)
        await pilot.pause(0.1)
        assert segment_styles(app) == light
