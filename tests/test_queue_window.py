"""The queue's window onto a view (screens/queue_window.py) over a real store's keyset pages."""

from __future__ import annotations

import pytest

from agent_tui.backend import Page, Priority, TicketCreate, TicketRow, TicketUpdate, View
from agent_tui.services import queue as queue_svc
from agent_tui.services import tickets
from agent_tui.store import Store
from screens.queue_window import QueueWindow
from tests.conftest import ADMIN, World

SIZE = 7


def make(store: Store, n: int) -> None:
    with store.write() as s:
        for i in range(n):
            tickets.create(s, ADMIN, TicketCreate(
                subject=f"Question {i:03}", body="?", customer_email=f"c{i % 9}@example.com",
                priority=(Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)[i % 4]))


def page(store: Store, after: str | None = None, before: str | None = None) -> Page[TicketRow]:
    with store.read() as s:
        return queue_svc.list_tickets(s, ADMIN, View.ALL_OPEN, after=after, before=before,
                                      limit=SIZE)


def view(store: Store) -> list[int]:
    with store.read() as s:
        return [r.id for r in queue_svc.list_tickets(s, ADMIN, View.ALL_OPEN, limit=500).items]


def down(store: Store, w: QueueWindow) -> bool:
    end = w.end
    return end is not None and w.add_below(end, page(store, after=end))


def up(store: Store, w: QueueWindow) -> bool:
    start = w.start
    return start is not None and w.add_above(start, page(store, before=start))


def held(w: QueueWindow) -> list[int]:
    return [r.id for r in w.rows]


def assert_slice(w: QueueWindow, ids: list[int]) -> None:
    assert held(w) == ids[w.offset:w.offset + len(held(w))]


def test_walking_down_then_up_covers_the_view_with_a_bounded_window(
        store: Store, world: World) -> None:
    make(store, 60)
    ids = view(store)
    w = QueueWindow(page_size=SIZE, max_pages=3)
    w.reset(page(store))
    seen = set(held(w))
    while down(store, w):
        assert len(w.rows) <= 3 * SIZE
        assert_slice(w, ids)
        seen.update(held(w))
    assert w.at_bottom and held(w)[-1] == ids[-1] and seen == set(ids)
    assert w.anchor_row is not None and w.offset == len(ids) - len(w.rows)
    while up(store, w):
        assert len(w.rows) <= 3 * (SIZE + 1)
        assert_slice(w, ids)
    assert w.at_top and w.offset == 0 and held(w)[0] == ids[0]
    assert not up(store, w)  # nothing above the top


def test_stale_pages_are_refused(store: Store, world: World) -> None:
    make(store, 30)
    w = QueueWindow(page_size=SIZE, max_pages=3)
    w.reset(page(store))
    end = w.end
    assert end is not None
    fetched = page(store, after=end)
    assert down(store, w)  # the window moved on before the fetched page came back
    assert not w.add_below(end, fetched)
    assert not w.add_above("not-the-start", fetched)
    assert not w.replace("not-the-start", [fetched])


def test_refresh_after_changes_above_and_inside_the_window(store: Store, world: World) -> None:
    make(store, 40)
    w = QueueWindow(page_size=SIZE, max_pages=2)
    w.reset(page(store))
    for _ in range(3):
        assert down(store, w)
    inside = held(w)[3]
    # A ticket inside the window is solved, and a new urgent one arrives at the top.
    with store.write() as s:
        t = tickets.detail(s, ADMIN, inside)
        tickets.update(s, ADMIN, inside, TicketUpdate(status="solved"),
                       expected_version=t.version)
    make(store, 1)
    start, count = w.plan_refresh()
    pages = [page(store, after=start)]
    while len(pages) < count and pages[-1].next_cursor:
        pages.append(page(store, after=pages[-1].next_cursor))
    assert w.replace(start, pages)
    ids = view(store)
    assert inside not in held(w)
    # The window still starts after the same row, so it is the same stretch of the view,
    # one row further down now that a ticket arrived above it.
    position = ids.index(held(w)[0])
    assert held(w) == ids[position:position + len(held(w))]
    while up(store, w):
        pass
    assert held(w)[:len(ids)] == ids[:len(held(w))] and w.offset == 0


@pytest.mark.parametrize("n", [0, 3])
def test_short_views_are_whole(store: Store, world: World, n: int) -> None:
    make(store, n)
    w = QueueWindow(page_size=SIZE, max_pages=3)
    w.reset(page(store))
    assert w.at_top and w.at_bottom and held(w) == view(store)
    assert not down(store, w) and not up(store, w)
