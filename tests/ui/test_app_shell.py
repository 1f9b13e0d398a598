"""The app shell: launch, help, palette, themes, errors, hostile text, the live feed."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from textual.binding import Binding

from agent_tui.app import AgentApp, launch
from agent_tui.backend import Page, Priority, TicketRow, Unavailable, View
from agent_tui.domain.tables import Ticket
from agent_tui.local import LocalBackend
from screens.help import HelpScreen
from screens.queue import QueueScreen
from screens.ticket import TicketScreen
from tests.ui.conftest import (
    SIZE,
    Shop,
    queue,
    queue_ready,
    screen_lines,
    table,
    wait_for,
    wait_for_text,
)
from widgets.ticket_table import TicketTable

T = TypeVar("T")


# ---------------------------------------------------------------- help, palette, themes


async def test_help_is_built_from_the_screen_bindings(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        app.set_keymap({"queue.refresh": "f5"})
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = await wait_for_text(pilot, app, "Keys: queue")
        for group in ("Views", "Move", "Queue", "App"):
            assert f"█ {group}   " in text, group  # a group title inside the help box
        assert re.search(r"\b1\s+Mine\b", text)
        assert re.search(r"\bs\s+Sort\b", text)
        assert re.search(r"\bf5\s+Refresh\b", text)  # remapped key: help follows the keymap
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="queue")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), what="ticket")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = await wait_for_text(pilot, app, "Keys: ticket")
        assert re.search(r"\bT\s+Take\b", text) and re.search(r"\bS\s+Next status\b", text)
        assert re.search(r"\br\s+Reply\b", text) and re.search(r"\bc\s+Customer 360\b", text)
        assert "Mine" not in text


async def test_palette_commands_and_theme_toggle(shop: Shop) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("queue: refresh", "queue: view unassigned", "app: toggle theme",
                       "app: help"):
            assert wanted in titles
        assert all(re.fullmatch(r"[a-z]+: [a-z ]+", title) for title in titles), titles
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+p")
        await pilot.press(*"view unassigned", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen)
                       and queue(app).query_state.view is View.UNASSIGNED, what="palette")


def test_every_binding_has_an_id_a_description_and_a_group() -> None:
    for owner in (AgentApp, QueueScreen, TicketScreen, HelpScreen, TicketTable):
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id and binding.description and binding.group, (owner, binding)


# ---------------------------------------------------------------- errors and hostile text

HOSTILE = {
    "close": "Close tag [/] here",
    "bold": "[bold]x[/] not bold",
    "click": "[@click=app.quit]x[/] do not quit",
    "csi": "ESC \x1b[31mred\x1b[0m text",
    "osc52": "OSC \x1b]52;c;aGk=\x07 clipboard",
    "bidi": "bidi \u202etxt.exe",
}


def _unsafe(ch: str) -> bool:
    return (unicodedata.category(ch) == "Cc" and ch not in "\n") or "\u202a" <= ch <= "\u202e" \
        or "\u2066" <= ch <= "\u2069"


async def test_hostile_text_renders_literally(shop: Shop) -> None:
    ids = {}
    for name, text in HOSTILE.items():
        ids[name] = shop.create(text, body=f"Body: {text}", customer=f"Name {text}",
                                email=f"{name}@example.com", priority=Priority.URGENT)
    # A tool outside this app may write raw bytes: the read path must still be safe.
    with shop.store.write() as session:
        session.execute(sa.update(Ticket).where(Ticket.id == ids["osc52"])  # type: ignore[arg-type]
                        .values(subject="RAW \x1b]52;c;aGk=\x07 \u202e\x1b[2J [/]"))
    app = shop.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        t = table(app)
        assert set(ids.values()) <= set(t.ticket_ids)
        await wait_for_text(pilot, app, "Close tag [/] here", "[bold]x[/] not bold",
                            "[@click=app.quit]x[/] do not quit", "RAW ]52;c;aGk= [2J [/]",
                            "Name [bold]x[/] n…")  # the customer column cuts long names
        lines = screen_lines(app)
        assert not [line for line in lines if any(_unsafe(c) for c in line)]
        # The table's own rendered strips carry no control characters either.
        strips = [t.render_line(y).text for y in range(t.size.height)]
        assert not [s for s in strips if any(_unsafe(c) for c in s)]

        for name in ("click", "osc52", "bold"):
            row = t.ticket_ids.index(ids[name])
            t.move_cursor(row=row)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen)
                           and app.screen.ticket is not None, what=f"ticket {name}")
            await wait_for_text(pilot, app, f"#{ids[name]} ", "Body: ")
            if name == "click":
                await wait_for_text(pilot, app, "Body: [@click=app.quit]x[/] do not quit")
            if name == "bold":
                await wait_for_text(pilot, app,
                                    "customer Name [bold]x[/] not bold <b•••@example.com>")
            lines = screen_lines(app)
            assert not [line for line in lines if any(_unsafe(c) for c in line)]
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), what="queue")
        assert app.is_running  # the [@click=app.quit] never became an action


class FailingBackend(LocalBackend):
    """A backend whose queue is down: every page request fails."""

    async def list_tickets(self, *args: Any, **kwargs: Any) -> Page[TicketRow]:
        raise Unavailable("the store is not available: disk I/O error")


async def test_worker_errors_are_shown_as_a_notification(shop: Shop) -> None:
    app = AgentApp(FailingBackend(shop.handle(), "alice"), shop.url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        text = await wait_for_text(pilot, app, "disk I/O error")
        assert "Traceback" not in text
        assert "The queue could not be loaded" in text
        assert isinstance(app.screen, QueueScreen) and app.is_running


# ---------------------------------------------------------------- launch


def test_launch_refuses_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    missing = tmp_path / "nowhere" / "store.db"
    assert launch(f"sqlite:///{missing}", None) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no Agent TUI store at") and "agent-tui init" in err
    assert len(err.splitlines()) == 1
    assert not missing.exists()  # refusing must not leave an empty database behind

    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    assert launch(f"sqlite:///{empty}", None) == 3


def test_launch_refuses_an_unknown_login(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert launch(shop.url, "nobody") == 1
    assert "agent nobody not found" in capsys.readouterr().err


class FlakyBackend(LocalBackend):
    """A local backend whose store can be switched off, as a lost network would be."""

    down = False

    async def _read(self, fn: Callable[[Session], T]) -> T:
        if self.down:
            raise Unavailable("the store is not available: connection reset")
        return await super()._read(fn)


async def test_live_feed_reconnects_and_misses_nothing(shop: Shop) -> None:
    backend = FlakyBackend(shop.handle(), "alice")
    app = AgentApp(backend, shop.url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await queue_ready(pilot, app)
        await wait_for(pilot, lambda: app.connection == "live", what="the live feed")
        backend.down = True
        await wait_for(pilot, lambda: app.connection == "reconnecting", what="the drop")
        await wait_for_text(pilot, app, "◌ reconnecting", "Lost the live feed")
        # Written while this app cannot see the store; the feed must replay it.
        new_id = shop.create("Created while the feed was down", priority=Priority.URGENT)
        backend.down = False
        await wait_for(pilot, lambda: app.connection == "live"
                       and new_id in table(app).ticket_ids, what="the feed to resume")
        await wait_for_text(pilot, app, "● live", "Created while the feed was down")
