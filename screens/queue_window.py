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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_tui.backend import Page, TicketRow

PAGE_SIZE = 100
MAX_PAGES = 5


@dataclass
class Chunk:
    """One fetched page: the rows after ``after`` up to ``next_cursor``."""

    after: str | None  # None: the chunk starts the view
    rows: list[TicketRow]
    next_cursor: str | None  # None: nothing after the chunk


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
        self.chunks = [Chunk(None, list(page.items), page.next_cursor)]
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
            chunks.append(Chunk(after, rows, page.next_cursor))
            after = page.next_cursor
        self.chunks = chunks or [Chunk(start, [], None)]
        return True

    def add_below(self, after: str, page: Page[TicketRow]) -> bool:
        """Append the page fetched ``after`` the window's end; drop a page above if full."""
        if not self.chunks or self.end != after:
            return False
        held = {r.id for r in self.rows}
        rows = [r for r in page.items if r.id not in held]
        self.chunks.append(Chunk(after, rows, page.next_cursor))
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
        self.chunks.insert(0, Chunk(after, rows, before))
        self.anchor_row = new_anchor
        self.offset = 0 if after is None else max(self.offset - len(rows), 0)
        while len(self.chunks) > self.max_pages:
            self.chunks.pop()
        return True
