"""Opening a ticket lays the workspace out once, and the queue under it stays unpainted.

Two costs of opening a ticket in the kept workspace were work that changed
nothing on screen: a second full layout started by ``Layout`` messages posted
before the first one began, and repaints of the whole workspace each time the
hidden queue under it updated. These tests count both, and check that what
must still happen does: a layout asked for after the reflow, the queue drawn
under a screen that lets it show through.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual import messages
from textual.pilot import Pilot

from agent_tui.app import AgentApp
from screens.help import HelpScreen
from screens.kept import KeptScreen
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import SIZE, Shop, queue_ready, screen_text, table, wait_for
from widgets.customer_panel import CustomerPanel
from widgets.thread import Thread

from .test_workspace_reuse import open_row


def count_reflows(screen: KeptScreen) -> list[float]:
    """Record when each full reflow of ``screen`` begins."""
    seen: list[float] = []
    refresh_layout = screen._refresh_layout

    def counting(size: Any = None, scroll: bool = False) -> None:
        refresh_layout(size, scroll)
        seen.append(screen._reflowed_at)  # a new value for each full reflow

    screen._refresh_layout = counting  # type: ignore[method-assign]
    return seen


def complete(app: AgentApp, ticket_id: int) -> bool:
    screen = app.screen
    return (isinstance(screen, TicketScreen) and screen.ticket is not None
            and screen.ticket.id == ticket_id
            and screen.query_one(CustomerPanel).data is not None)


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(5):
        await pilot.pause(0.05)


async def test_each_open_lays_the_workspace_out_once(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        ids = table(app).ticket_ids
        workspace = await open_row(pilot, app, 0)
        await settle(pilot)
        reflows = count_reflows(workspace)
        for row in (1, 2, 3):
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="queue")
            before = len({*reflows})
            await pilot.press("g", *["j"] * row, "enter")
            await wait_for(pilot, partial(complete, app, ids[row]), what=f"row {row}")
            await settle(pilot)
            assert len({*reflows}) - before == 1, f"row {row}: {len({*reflows}) - before} layouts"
            subject = workspace.ticket.subject if workspace.ticket else ""
            assert subject[:30] in screen_text(app)


async def test_a_layout_asked_after_the_reflow_still_happens(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        workspace = await open_row(pilot, app, 0)
        await settle(pilot)
        reflowed = workspace._reflowed_at
        # A Layout posted before the latest reflow began is dropped ...
        stale = messages.Layout(workspace.query_one(Thread))
        stale.time = reflowed - 1
        workspace.post_message(stale)
        await settle(pilot)
        assert workspace._reflowed_at == reflowed
        # ... one posted after it lays out again, as does anything the agent opens.
        workspace.post_message(messages.Layout(workspace.query_one(Thread)))
        await settle(pilot)
        assert workspace._reflowed_at > reflowed
        reflowed = workspace._reflowed_at
        await pilot.press("r", *"hello")
        await settle(pilot)
        assert workspace._reflowed_at > reflowed
        assert "hello" in screen_text(app)


async def test_the_queue_is_drawn_only_where_it_can_be_seen(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        queue = await queue_ready(pilot, app)
        await open_row(pilot, app, 0)
        assert app._background_screens == []  # the workspace is opaque
        assert not queue.is_current
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is queue, what="the queue")
        assert queue.is_current
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        # A screen that shows what is under it keeps the queue drawn.
        assert app.screen.styles.background.a < 1
        assert app._background_screens == [queue]
        assert queue.is_current


async def test_the_workspace_stays_drawn_under_a_picker(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await queue_ready(pilot, app)
        for row in (0, 1):  # built on the first open, refilled on the second
            workspace = await open_row(pilot, app, row)
            await wait_for(pilot, lambda w=workspace: w.query_one(CustomerPanel).data is not None,
                           what="the 360")
            await settle(pilot)
            assert "Identities" in screen_text(app)
            await pilot.press("p")  # the priority picker, over the workspace
            await wait_for(pilot, lambda w=workspace: app.screen is not w, what="the picker")
            await settle(pilot)
            shown = screen_text(app)
            assert "Identities" in shown and "Priority of" in shown
            await pilot.press("escape")
            await wait_for(pilot, lambda w=workspace: app.screen is w, what="the workspace")
            await pilot.press("escape")
