"""Fixtures for driving the app with Pilot over a real SQLite store."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import select
from textual.pilot import Pilot

from agent_tui.app import AgentApp
from agent_tui.backend import Channel, Priority, Role, TicketCreate, View
from agent_tui.domain.tables import Agent, Ticket
from agent_tui.local import LocalBackend
from agent_tui.services import queue as queue_svc
from agent_tui.services import tickets
from agent_tui.store import Store
from agent_tui.store.events import Actor
from screens.queue import QueueScreen
from tests.conftest import ADMIN, migrated, seed_world
from widgets.ticket_table import TicketTable

SIZE = (160, 45)


@dataclass
class Shop:
    """A seeded store and the tickets made in it, oldest first."""

    store: Store
    url: str
    ticket_ids: list[int] = field(default_factory=list)
    handles: list[Store] = field(default_factory=list)  # disposed when the test ends

    def handle(self) -> Store:
        """Another handle on the same store, as a second process would open it."""
        store = migrated(self.url)
        self.handles.append(store)
        return store

    def create(self, subject: str, *, body: str = "Hello, I need help.",
               priority: Priority = Priority.NORMAL, channel: Channel = Channel.EMAIL,
               team: str | None = None, customer: str = "Chris Customer",
               email: str = "chris@example.com") -> int:
        """Create a ticket through the service, as another process would."""
        with self.store.write() as session:
            ticket = tickets.create(session, ADMIN, TicketCreate(
                subject=subject, body=body, priority=priority, channel=channel, team=team,
                customer_name=customer, customer_email=email))
        self.ticket_ids.append(ticket.id)
        return ticket.id

    def app(self, login: str = "alice") -> AgentApp:
        """A fresh app signed in as ``login`` on its own store handle."""
        return AgentApp(LocalBackend(self.handle(), login), self.url)


@pytest.fixture
def shop(sqlite_url: str) -> Iterator[Shop]:
    """Agents and teams from ``seed_world`` plus five tickets of mixed priority."""
    store = migrated(sqlite_url)
    seed_world(store)
    shop = Shop(store=store, url=sqlite_url)
    shop.create("Refund not received", priority=Priority.HIGH, team="billing")
    shop.create("App crashes on login", priority=Priority.URGENT, channel=Channel.APP,
                team="tech")
    shop.create("Where is my order?", channel=Channel.CHAT, team="logistics")
    shop.create("Change my address", priority=Priority.LOW, channel=Channel.WEB)
    shop.create("Invoice copy please", channel=Channel.EMAIL, team="billing")
    yield shop
    for handle in shop.handles:
        handle.dispose()
    store.dispose()


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], object], *,
                   timeout: float = 10.0, what: str = "the condition") -> None:
    """Let the app run until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


def table(app: AgentApp) -> TicketTable:
    """The queue table of the screen on top."""
    return app.screen.query_one(TicketTable)


def queue(app: AgentApp) -> QueueScreen:
    """The screen on top, which must be the queue."""
    screen = app.screen
    assert isinstance(screen, QueueScreen), f"expected the queue, got {screen!r}"
    return screen


def view_ids(shop: Shop, view: View, login: str = "alice", limit: int = 100) -> list[int]:
    """The ids of a view as the service orders them (priority sort)."""
    with shop.store.read() as session:
        agent = session.exec(select(Agent).where(Agent.login == login)).one()
        actor = Actor(login=login, role=Role(agent.role), agent_id=agent.id)
        return [r.id for r in queue_svc.list_tickets(session, actor, view, limit=limit).items]


async def queue_ready(pilot: Pilot[Any], app: AgentApp) -> QueueScreen:
    """Wait until the app has signed in and the queue shows its page and counts."""
    await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen)
                   and queue(app).page is not None and len(queue(app).counts) == 8,
                   what="the queue and its counts")
    return queue(app)


def stored(shop: Shop, ticket_id: int) -> Ticket:
    """The ticket as the store has it now, detached so it reads after the session."""
    with shop.store.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def assignee_in_store(shop: Shop, ticket_id: int) -> str | None:
    """Who the store says a ticket is assigned to."""
    with shop.store.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        if ticket.assignee_id is None:
            return None
        agent = session.get(Agent, ticket.assignee_id)
        return agent.login if agent else None


_TEXT = re.compile(r'<text[^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"'
                   r'[^>]*?clip-path="url\(#[^)]*-line-(\d+)\)"[^>]*>(.*?)</text>', re.S)


def screen_lines(app: AgentApp) -> list[str]:
    """What the terminal shows, line by line, from Textual's own SVG export.

    Each run of text is placed at its column (x / cell width), so the gaps
    that the SVG leaves as background come back as spaces.
    """
    runs = [(float(m[1]), float(m[2]), int(m[3]), html.unescape(m[4]).replace("\xa0", " "))
            for m in _TEXT.finditer(app.export_screenshot())]
    cell = min((length / len(text) for _x, length, _line, text in runs if text), default=1.0)
    lines: dict[int, dict[int, str]] = {}
    for x, _length, line, text in runs:
        row = lines.setdefault(line, {})
        start = round(x / cell)
        for offset, char in enumerate(text):
            row[start + offset] = char
    return ["".join(row.get(i, " ") for i in range(max(row, default=-1) + 1)).rstrip()
            for _line, row in sorted(lines.items())]


def screen_text(app: AgentApp) -> str:
    """The whole screen as text (see :func:`screen_lines`)."""
    return "\n".join(screen_lines(app))


async def wait_for_text(pilot: Pilot[Any], app: AgentApp, *needles: str,
                        timeout: float = 10.0) -> str:
    """Wait until the screen shows every one of ``needles``; return the screen text.

    State changes reach the terminal on the next refresh, so what is on
    screen is waited for rather than asserted straight after a change.
    """
    shown = ""

    def visible() -> bool:
        nonlocal shown
        shown = screen_text(app)
        return all(needle in shown for needle in needles)

    await wait_for(pilot, visible, timeout=timeout, what=f"{needles!r} on screen")
    return shown
