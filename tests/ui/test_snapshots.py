"""SVG snapshots of every agent screen in the dark and the light theme (pytest-textual-snapshot).

The shop's tickets are made seconds before each run, so relative times read the
same ("just now", SLA "in 3h 59m"); message times, shown as a time of day, are
pinned to a fixed date, and the store is shown under a fixed name. A
change on purpose is accepted with ``pytest tests/ui/test_snapshots.py
--snapshot-update`` and reviewed in the report it writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from textual.pilot import Pilot
from textual.widgets import Static

from agent_tui.app import DARK_THEME, LIGHT_THEME, AgentApp
from agent_tui.local import LocalBackend
from screens.customer import CustomerScreen
from screens.help import HelpScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import SIZE, Shop, queue_ready, wait_for
from widgets.customer_panel import CustomerPanel

THEMES = pytest.mark.parametrize("theme", [DARK_THEME, LIGHT_THEME])


def app_for(shop: Shop, theme: str) -> AgentApp:
    # Message times are shown as a time of day and a customer's first contact
    # as a date: pin both to a fixed past moment, or the pictures age daily.
    pinned = {"at": datetime(2025, 3, 3, 9, 30, tzinfo=UTC)}
    with shop.store.write() as session:
        session.execute(sa.text("UPDATE message SET created_at = :at"), pinned)
        session.execute(sa.text("UPDATE customer SET created_at = :at"), pinned)
    return AgentApp(LocalBackend(shop.handle(), "alice"), "sqlite:///shop.db", theme=theme)


async def queue_live(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, AgentApp)
    await queue_ready(pilot, app)
    await wait_for(pilot, lambda: app.connection == "live", what="the live feed")


async def workspace(pilot: Pilot[Any]) -> None:
    await queue_live(pilot)
    await pilot.press("enter")
    app = pilot.app

    def whole() -> bool:
        screen = app.screen
        return (isinstance(screen, TicketScreen) and screen.ticket is not None
                and screen.query_one(CustomerPanel).data is not None
                and "Knowledge for this ticket" in str(
                    screen.query_one("#kb-title", Static).render()))

    await wait_for(pilot, whole, what="the whole workspace")
    await pilot.pause(0.3)  # presence beat and scrollbars settled


def then(first: Callable[[Pilot[Any]], Awaitable[None]], *keys: str,
         until: type | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await first(pilot)
        await pilot.press(*keys)
        if until is not None:
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, until),
                           what=until.__name__)
        await pilot.pause(0.3)

    return run


@THEMES
def test_queue(shop: Shop, theme: str, snap_compare: Any) -> None:
    assert snap_compare(app_for(shop, theme), terminal_size=SIZE, run_before=queue_live)


@THEMES
def test_queue_filter_line(shop: Shop, theme: str, snap_compare: Any) -> None:
    assert snap_compare(app_for(shop, theme), terminal_size=SIZE,
                        run_before=then(queue_live, "slash", *"prio:high"))


@THEMES
def test_ticket_workspace_with_composer(shop: Shop, theme: str, snap_compare: Any) -> None:
    assert snap_compare(app_for(shop, theme), terminal_size=SIZE,
                        run_before=then(workspace, "r", *"Thanks, looking into it"))


@THEMES
def test_customer_screen(shop: Shop, theme: str, snap_compare: Any) -> None:
    assert snap_compare(app_for(shop, theme), terminal_size=SIZE,
                        run_before=then(workspace, "C", until=CustomerScreen))


@THEMES
def test_help(shop: Shop, theme: str, snap_compare: Any) -> None:
    assert snap_compare(app_for(shop, theme), terminal_size=SIZE,
                        run_before=then(queue_live, "question_mark", until=HelpScreen))
