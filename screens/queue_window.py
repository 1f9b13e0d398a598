"""Which rows of a view the queue holds: a few consecutive pages around the cursor.

A view can hold a million tickets; the queue keeps at most ``max_pages``
pages of it, fetched with the backend's keyset cursors, and drops whole pages
from the far end as the agent moves. No I/O here: the screen's worker fetches
what ``plan_*`` asks for and hands the pages back to ``add_*`` / ``replace``.

Cursors are exclusive (``after=c`` starts at the row after ``c``), so the
window remembers, besides its pages, the cursor it starts after (``start``)
and the row that cursor points at (``anchor_row``, held but not shown): a
page fetched ``before`` the start ends just before that row, and the row is
put back between it and the window.

Live changes come as rows (``apply``): a row is replaced, moved, dropped or
inserted by its sort key, and only between the window's edges, the rows the
start and end cursors point at, so that the next page fetched at an edge
neither skips a row nor shows one twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent_tui.backend import Page, Sort, Status, TicketFilters, TicketRow, View

PAGE_SIZE = 100
MAX_PAGES = 5


@dataclass
class Chunk:
    """One fetched page: the rows after ``after`` up to ``next_cursor``."""

    after: str | None  # None: the chunk starts the view
    rows: list[TicketRow]
    next_cursor: str | None  # None: nothing after the chunk
    #: The row ``next_cursor`` points at, as fetched: a live change may move or drop it
    #: from ``rows``, but the cursor (and so the window's lower edge) stays where it was.
    edge: TicketRow | None = None


@dataclass
class QueueWindow:
    """Consecutive pages of one view, and where they sit in it."""

    page_size: int = PAGE_SIZE
    max_pages: int = MAX_PAGES
    chunks: list[Chunk] = field(default_factory=list)
    anchor_row: TicketRow | None = None  # the row ``start`` points at, when not at the top
    offset: int = 0  # rows of the view before the first row held (exact unless live changes
    # added or removed rows above the window since it was fetched)

    # -- reading ---------------------------------------------------------
    @property
    def rows(self) -> list[TicketRow]:
        return [row for chunk in self.chunks for row in chunk.rows]

    @property
    def start(self) -> str | None:
        """The cursor the window starts after (None: the top of the view)."""
        return self.chunks[0].after if self.chunks else None

    @property
    def end(self) -> str | None:
        """The cursor after the last row held (None: the bottom of the view)."""
        return self.chunks[-1].next_cursor if self.chunks else None

    @property
    def at_top(self) -> bool:
        return self.start is None

    @property
    def at_bottom(self) -> bool:
        return self.end is None

    # -- planning fetches ------------------------------------------------
    def plan_refresh(self) -> tuple[str | None, int]:
        """Re-fetch from ``start`` this many pages, each after the one before."""
        return self.start, max(len(self.chunks), 1)

    # -- taking pages ----------------------------------------------------
    def reset(self, page: Page[TicketRow]) -> None:
        """Hold only ``page``, the first page of the view."""
        self.chunks = [Chunk(None, list(page.items), page.next_cursor, _last(page.items))]
        self.anchor_row = None
        self.offset = 0

    def replace(self, start: str | None, pages: list[Page[TicketRow]]) -> bool:
        """The result of ``plan_refresh``: the same stretch of the view, fetched again.

        False (nothing changed) if the window moved since the plan was made.
        """
        if start != self.start:
            return False
        chunks, after, seen = [], start, set[int]()
        for page in pages:
            rows = [r for r in page.items if r.id not in seen]
            seen.update(r.id for r in rows)
            chunks.append(Chunk(after, rows, page.next_cursor, _last(page.items)))
            after = page.next_cursor
        self.chunks = chunks or [Chunk(start, [], None)]
        return True

    def add_below(self, after: str, page: Page[TicketRow]) -> bool:
        """Append the page fetched ``after`` the window's end; drop a page above if full."""
        if not self.chunks or self.end != after:
            return False
        held = {r.id for r in self.rows}
        rows = [r for r in page.items if r.id not in held]
        self.chunks.append(Chunk(after, rows, page.next_cursor, _last(page.items)))
        while len(self.chunks) > self.max_pages:
            gone = self.chunks.pop(0)
            if gone.rows:
                self.anchor_row = gone.rows[-1]
            self.offset += len(gone.rows)
        return True

    def add_above(self, before: str, page: Page[TicketRow]) -> bool:
        """Prepend the page fetched ``before`` the window's start; drop one below if full.

        ``page.prev_cursor`` points at the page's first row when more rows lie
        above it: that row becomes the new anchor, the rest and the old
        anchor row become the new first chunk.
        """
        if not self.chunks or self.start is None or self.start != before:
            return False
        held = {r.id for r in self.rows}
        tail = [self.anchor_row] if self.anchor_row is not None else []
        items = list(page.items)
        if page.prev_cursor is not None and items:
            new_anchor: TicketRow | None = items[0]
            rows, after = items[1:] + tail, page.prev_cursor
        else:
            new_anchor, rows, after = None, items + tail, None
        rows = [r for r in rows if r.id not in held]
        self.chunks.insert(0, Chunk(after, rows, before, self.anchor_row))
        self.anchor_row = new_anchor
        self.offset = 0 if after is None else max(self.offset - len(rows), 0)
        while len(self.chunks) > self.max_pages:
            self.chunks.pop()
        return True

    # -- live changes ----------------------------------------------------
    def apply(self, row: TicketRow, *, keep: bool, key: Callable[[TicketRow], Any]) -> str:
        """Put a ticket's new ``row`` (from the live feed) where the view's order puts it.

        ``keep``: the row still belongs to the view (its filter included);
        ``key``: the sort key of the view's order. Returns what happened:
        ``"replaced"`` (held, and still in the window, maybe at a new place),
        ``"removed"`` (held, now out of the view or past the window's edges),
        ``"inserted"`` (new to the window, inside its edges), ``"outside"``, or
        ``"stale"`` when the window already holds a later version of the ticket.

        A row is inserted only between the window's edges: after the row its
        start cursor points at (or anywhere from the top) and before the row
        its end cursor points at (or anywhere to the bottom), so that a page
        fetched later at either edge neither skips it nor shows it twice.
        """
        current = self.find(row.id)
        if current is not None and current.version > row.version:
            return "stale"
        held = self._take(row.id)
        if keep and self._inside(key(row), key):
            self._insert(row, key)
            return "replaced" if held else "inserted"
        return "removed" if held else "outside"

    def find(self, ticket_id: int) -> TicketRow | None:
        """The row held for ``ticket_id``, if any."""
        for chunk in self.chunks:
            for r in chunk.rows:
                if r.id == ticket_id:
                    return r
        return None

    def _take(self, ticket_id: int) -> bool:
        for chunk in self.chunks:
            for i, r in enumerate(chunk.rows):
                if r.id == ticket_id:
                    del chunk.rows[i]
                    return True
        return False

    def _inside(self, k: Any, key: Callable[[TicketRow], Any]) -> bool:
        if not self.chunks:
            return False
        if not self.at_top and (self.anchor_row is None or not k > key(self.anchor_row)):
            return False
        edge = self.chunks[-1].edge
        return self.at_bottom or (edge is not None and k < key(edge))

    def _insert(self, row: TicketRow, key: Callable[[TicketRow], Any]) -> None:
        k = key(row)
        target = self.chunks[0]
        at = 0
        for chunk in self.chunks:  # after the last row that sorts before it
            for i, r in enumerate(chunk.rows):
                if key(r) < k:
                    target, at = chunk, i + 1
                else:
                    break
            else:
                continue
            break
        target.rows.insert(at, row)


def _last(rows: list[TicketRow]) -> TicketRow | None:
    return rows[-1] if rows else None


def sort_key(sort: Sort) -> Callable[[TicketRow], Any]:
    """The queue's order as a key, ascending, as ``store.queue`` pages it."""
    if sort is Sort.PRIORITY:
        return lambda r: (-int(r.priority), r.created_at, r.id)
    if sort is Sort.AGE:
        return lambda r: (r.created_at, r.id)
    return lambda r: (-r.updated_at.timestamp(), -r.id)  # newest first


def belongs(row: TicketRow, view: View, view_arg: str | None, filters: TicketFilters | None,
            me: str) -> bool | None:
    """Whether ``row`` is in the view with its filters, as ``store.queue`` decides it.

    None when the row cannot tell: free text against a subject or tags whose
    personal data the backend masked for this agent (the server matched the
    unmasked text). ``me``: the signed-in agent's login.
    """
    status = row.status
    if view is View.SOLVED:
        if status is not Status.SOLVED:
            return False
    elif not status.is_open:
        return False
    if view is View.MY_OPEN and row.assignee != me:
        return False
    if view is View.UNASSIGNED and row.assignee is not None:
        return False
    if view is View.PENDING and status is not Status.PENDING:
        return False
    if view is View.ON_HOLD and status is not Status.ON_HOLD:
        return False
    if view is View.TEAM and row.team != (view_arg or "").strip().lower():
        return False
    if view is View.CHANNEL and row.channel.value != view_arg:
        return False
    if filters is None:
        return True
    f = filters
    if f.status and status not in f.status:
        return False
    if f.priority and row.priority not in f.priority:
        return False
    if f.channel and row.channel not in f.channel:
        return False
    if f.team and row.team != f.team.strip().lower():
        return False
    if f.assignee:
        who = f.assignee.strip().lower()
        wanted = None if who == "none" else me if who == "me" else who
        if row.assignee != wanted:
            return False
    if f.customer_id is not None and row.customer_id != f.customer_id:
        return False
    unsure = False
    if f.tag:
        if f.tag.lower() not in row.tags:
            if not any("•" in t for t in row.tags):
                return False
            unsure = True
    text = f.text.strip() if f.text else ""
    if text and text.lower() not in row.subject.lower():
        if "•" not in row.subject:
            return False
        unsure = True
    return None if unsure else True
