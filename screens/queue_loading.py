"""The queue's loading: a window of pages around the cursor, counts, live refreshes.

Every read runs in one exclusive worker: a new query cancels a stale fetch,
and a live refresh or a fetch ahead asked for while one is in flight waits
its turn (one of each at most). While another screen is on top nothing is
fetched, and the queue catches up when it is shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from agent_tui.backend import Channel, Page, Sort, TicketFilters, TicketRow, View
from screens import queue_window
from screens.base import Session, TicketsChanged
from screens.filter_syntax import parse_filter
from screens.heap import settle_after_refresh
from screens.queue_next import QueueNext
from widgets.ticket_table import TicketTable

EMPTY_MESSAGE = "No tickets in this view."
#: Seconds after the queue's first page is on screen before the ticket workspace is
#: built off screen (OpensTickets.prepare_workspace): after the first frame, well
#: before a first ticket is likely to be chosen.
PREPARE_AFTER = 0.3

#: (key, view, label) for the view bar; 7 and 8 show the team / channel chosen with 9 / 0.
VIEW_KEYS: tuple[tuple[str, View, str], ...] = (
    ("1", View.MY_OPEN, "Mine"),
    ("2", View.UNASSIGNED, "Unassigned"),
    ("3", View.ALL_OPEN, "All open"),
    ("4", View.PENDING, "Pending"),
    ("5", View.ON_HOLD, "On hold"),
    ("6", View.SOLVED, "Solved"),
    ("7", View.TEAM, "Team"),
    ("8", View.CHANNEL, "Channel"),
)
CHANNELS: tuple[Channel, ...] = tuple(Channel)


@dataclass(frozen=True)
class QueueQuery:
    """Everything that decides which rows the table shows."""

    view: View = View.ALL_OPEN
    view_arg: str | None = None
    sort: Sort = Sort.PRIORITY
    text: str | None = None  # the filter line: tokens and free text (screens.filter_syntax)

    @property
    def filters(self) -> TicketFilters | None:
        return parse_filter(self.text).filters if self.text else None


class QueueLoading(QueueNext):
    """What the queue screen shows, fetched off the UI thread and kept current."""

    page_size: ClassVar[int] = queue_window.PAGE_SIZE
    max_pages: ClassVar[int] = queue_window.MAX_PAGES

    class PagesLoaded(Message):
        """Pages of the queue arrived: ``op`` says where they go in the window."""

        def __init__(self, generation: int, op: str, cursor: str | None,
                     pages: list[Page[TicketRow]], reset_cursor: bool) -> None:
            super().__init__()
            self.generation = generation
            self.op = op  # "reset" | "refresh" | "below" | "above"
            self.cursor = cursor  # the window edge the pages were fetched from
            self.pages = pages
            self.reset_cursor = reset_cursor

    class CountsLoaded(Message):
        """The view counts arrived (after the page, so rows never wait for counting)."""

        def __init__(self, query: QueueQuery, counts: dict[str, int],
                     matching: int | None) -> None:
            super().__init__()
            self.query = query
            self.counts = counts  # view key ("1".."8") -> tickets in that view
            self.matching = matching  # tickets in this view that match the filter

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.query_state = QueueQuery()
        self.window = queue_window.QueueWindow(self.page_size, self.max_pages)
        self.page: Page[TicketRow] | None = None  # the last page fetched for this query
        self.generation = 0  # bumped by every new query: older answers are dropped
        self.counts: dict[str, int] = {}
        self.matching: int | None = None
        self._team_index = 0
        self._channel_index = 0
        self._worker: Worker[None] | None = None
        self._pending: list[str] = []  # fetches asked for while one was in flight
        self._stale = False  # a live change arrived while another screen was on top

    # -- loading ---------------------------------------------------------
    def load(self) -> None:
        """Fetch the first page of the view and the counts now, cursor on top (cancelling
        a stale fetch)."""
        self._pending.clear()
        self.generation += 1
        self.page = None
        self._start("reset", True)

    @property
    def fetching(self) -> bool:
        """A fetch is in flight or waiting its turn."""
        return bool(self._pending) or (self._worker is not None and not self._worker.is_finished)

    def request_refresh(self) -> None:
        """Refresh for a live change: debounced, and deferred while hidden."""
        if not self.is_active:
            self._stale = True
        else:
            self._want("refresh")

    def _want(self, op: str) -> None:
        if self._worker is not None and self._worker.is_running:
            if op not in self._pending:
                self._pending.append(op)
        else:
            self._start(op, False)

    def _start(self, op: str, reset_cursor: bool) -> None:
        w = self.window
        if op == "below" and (not w.chunks or w.at_bottom):
            return
        if op == "above" and (not w.chunks or w.at_top):
            return
        if op == "refresh" and not w.chunks:
            op = "reset"
        counted = [(key, view, self._view_arg(view)) for key, view, _label in VIEW_KEYS]
        self._worker = self._fetch(self.generation, self.query_state, op, counted,
                                   reset_cursor)

    @work(exclusive=True, exit_on_error=False, group="queue")
    async def _fetch(self, generation: int, query: QueueQuery, op: str,
                     counted: list[tuple[str, View, str | None]], reset_cursor: bool) -> None:
        backend, size, w = self.backend, self.page_size, self.window

        async def page(after: str | None = None, before: str | None = None) -> Page[TicketRow]:
            return await backend.list_tickets(query.view, view_arg=query.view_arg,
                                              filters=query.filters, sort=query.sort,
                                              after=after, before=before, limit=size)

        cursor: str | None = None
        if op == "reset":
            pages = [await page()]
        elif op == "below":
            cursor = w.end
            pages = [await page(after=cursor)]
        elif op == "above":
            cursor = w.start
            pages = [await page(before=cursor)]
        else:  # refresh: the same stretch again, page after page
            cursor, count = w.plan_refresh()
            pages = [await page(after=cursor)]
            while len(pages) < count and pages[-1].next_cursor:
                pages.append(await page(after=pages[-1].next_cursor))
        self.post_message(self.PagesLoaded(generation, op, cursor, pages, reset_cursor))
        if op in ("below", "above"):
            return
        counts: dict[str, int] = {}
        for key, view, arg in counted:
            if view in (View.TEAM, View.CHANNEL) and arg is None:
                continue
            counts[key] = await backend.count(view, view_arg=arg)
        matching = None
        if query.filters is not None:
            matching = await backend.count(query.view, view_arg=query.view_arg,
                                           filters=query.filters)
        self.post_message(self.CountsLoaded(query, counts, matching))

    def on_queue_loading_pages_loaded(self, message: QueueLoading.PagesLoaded) -> None:
        if message.generation != self.generation:
            return  # the answer to a question nobody is asking any more
        w, op, pages = self.window, message.op, message.pages
        if op == "reset":
            w.reset(pages[0])
        elif op == "refresh":
            if not w.replace(message.cursor, pages):
                self._want("refresh")  # the window moved meanwhile: ask again from where it is
                return
            if not w.rows and not w.at_top:
                self.load()  # everything held is gone: back to the top
                return
        elif message.cursor is None or not (
                w.add_below(message.cursor, pages[0]) if op == "below"
                else w.add_above(message.cursor, pages[0])):
            return
        self.page = pages[-1]
        first = not self.table.ticket_ids
        self.table.show_rows(w.rows, reset_cursor=op == "reset" and message.reset_cursor)
        if first and w.rows:
            self._presence(self.table.ticket_ids)
            settle_after_refresh(self.app, "queue")
            self.set_timer(PREPARE_AFTER, self._prepare_workspace)
        empty = self.query_one("#empty", Static)
        empty.update(EMPTY_MESSAGE)
        empty.display = not w.rows
        self._render_position()

    def _prepare_workspace(self) -> None:
        ticket_id = self.table.selected_id
        if ticket_id is not None:
            row = self.table.ticket(ticket_id)
            self.prepare_workspace(ticket_id, row.customer_id if row else None)

    @on(TicketTable.NearEdge, "#tickets")
    def _near_edge(self, event: TicketTable.NearEdge) -> None:
        event.stop()
        self._want("below" if event.edge == "end" else "above")

    @on(TicketTable.Moved, "#tickets")
    def _moved(self, event: TicketTable.Moved) -> None:
        event.stop()
        self._render_position()

    def on_queue_loading_counts_loaded(self, message: QueueLoading.CountsLoaded) -> None:
        if message.query != self.query_state:
            return
        self.counts = message.counts
        self.matching = message.matching
        self._render_bar()

    @on(Worker.StateChanged)
    def _fetch_finished(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        if event.state is WorkerState.ERROR and self.page is None:
            self.query_one("#empty", Static).update("The queue could not be loaded: r retries.")
            self.query_one("#empty").display = True
        if self._pending:
            self._start(self._pending.pop(0), False)

    def on_tickets_changed(self, message: TicketsChanged) -> None:
        self.request_refresh()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.request_refresh()

    # -- views -----------------------------------------------------------
    def _view_arg(self, view: View) -> str | None:
        if view is View.TEAM:
            teams = self.session.teams
            return teams[self._team_index % len(teams)].name if teams else None
        if view is View.CHANNEL:
            return CHANNELS[self._channel_index % len(CHANNELS)].value
        return None

    def _render_bar(self) -> None:
        raise NotImplementedError

    def _render_position(self) -> None:
        raise NotImplementedError
