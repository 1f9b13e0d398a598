"""The queue's loading: a window of pages around the cursor, counts, live refreshes.

Every read runs in one exclusive worker: a new query cancels a stale fetch,
and a live refresh or a fetch ahead asked for while one is in flight waits
its turn (one of each at most). While another screen is on top nothing is
fetched, and the queue catches up when it is shown again.

Live changes arrive as events carrying the ticket's queue row: the row is
put in the window by key (replaced, moved, dropped, or inserted between the
window's edges) with no page fetched, and the view counts are fetched again
at most once per ``COUNTS_EVERY``. Only an event without a row re-fetches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from agent_tui.backend import Channel, EventView, Page, Sort, TicketFilters, TicketRow, View
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
#: Live changes re-count the views at most this often (seconds): a change moves a
#: ticket between views the window does not hold, so the counts are fetched again,
#: but once for a burst of events rather than once per event.
COUNTS_EVERY = 1.0

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
        self._empty_text = EMPTY_MESSAGE  # what the "#empty" line holds (see compose)
        self._stale = False  # a live change arrived while another screen was on top
        self._counts_timer: Timer | None = None  # a debounced re-count is due
        self._counts_stale = False  # a re-count came due while another screen was on top
        self._counts_worker: Worker[None] | None = None
        # Live rows that arrived while pages were being fetched: the pages may predate
        # them, so they are applied again when the pages land.
        self._pages_in_flight = False
        self._live_meanwhile: dict[int, TicketRow] = {}
        self.live_applied = 0  # live rows applied in place (tests and benchmarks read it)
        self._hidden_rows: dict[int, TicketRow] = {}  # live rows met while hidden, newest

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
        self._pages_in_flight = True
        self._live_meanwhile = {}
        self._worker = self._fetch(self.generation, self.query_state, op, self._counted(),
                                   reset_cursor)

    def _counted(self) -> list[tuple[str, View, str | None]]:
        return [(key, view, self._view_arg(view)) for key, view, _label in VIEW_KEYS]

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
        await self._count_all(query, counted)

    async def _count_all(self, query: QueueQuery,
                         counted: list[tuple[str, View, str | None]]) -> None:
        backend = self.backend
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

    @work(exclusive=True, exit_on_error=False, group="queue-counts")
    async def _recount(self, query: QueueQuery,
                       counted: list[tuple[str, View, str | None]]) -> None:
        await self._count_all(query, counted)

    def on_queue_loading_pages_loaded(self, message: QueueLoading.PagesLoaded) -> None:
        if message.generation != self.generation:
            return  # the answer to a question nobody is asking any more
        meanwhile, self._live_meanwhile = self._live_meanwhile, {}
        self._pages_in_flight = False
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
        for row in meanwhile.values():
            self._apply_row(row)
        first = not self.table.ticket_ids
        self.table.show_rows(w.rows, reset_cursor=op == "reset" and message.reset_cursor)
        if first and w.rows:
            self._presence(self.table.ticket_ids)
            settle_after_refresh(self.app, "queue")
            self.set_timer(PREPARE_AFTER, self._prepare_workspace)
        self._say_empty(EMPTY_MESSAGE if not w.rows else None)
        self._render_position()

    def _say_empty(self, text: str | None) -> None:
        """Show ``text`` where the rows would be, or hide the line (``None``).

        The line is only touched when what it says changes: ``Static.update``
        asks for a new layout of the whole screen, which on every page fetched
        cost a second full repaint of the queue.
        """
        empty = self.query_one("#empty", Static)
        if text is not None and text != self._empty_text:
            self._empty_text = text
            empty.update(text)
        empty.display = text is not None

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
            self._say_empty("The queue could not be loaded: r retries.")
        if self._pending:
            self._start(self._pending.pop(0), False)

    def on_tickets_changed(self, message: TicketsChanged) -> None:
        """Apply the rows the events carry by row key; re-fetch only what they cannot say.

        An event without a row (an old one in the log, or written by a tool that
        does not add it) or a row this screen cannot place (masked text under a
        text filter) falls back to re-fetching the window where it is.
        """
        rows = [_row_of(ev) for ev in message.events]
        if not self.is_active:  # kept, not drawn: applied when the queue is shown again
            if any(row is None for row in rows):
                self._stale = True
            for row in rows:
                if row is not None:
                    self._hidden_rows[row.id] = row
            return
        if not self.window.chunks or any(row is None for row in rows):
            self.request_refresh()
            return
        self._apply_live([r for r in rows if r is not None])

    def _apply_live(self, rows: list[TicketRow]) -> None:
        if not all(self._apply_row(r, live=True) for r in rows):
            self.request_refresh()
            return
        self.table.show_rows(self.window.rows)
        self._say_empty(EMPTY_MESSAGE if not self.window.rows else None)
        self._want_counts()

    def _apply_row(self, row: TicketRow, *, live: bool = False) -> bool:
        """Put one live row in the window; False if the row cannot tell where it goes."""
        q = self.query_state
        keep = queue_window.belongs(row, q.view, q.view_arg, q.filters, self.session.me.login)
        if keep is None:
            return False
        if live and self._pages_in_flight:
            self._live_meanwhile[row.id] = row
        self.window.apply(row, keep=keep, key=queue_window.sort_key(q.sort))
        self.live_applied += 1
        return True

    def _want_counts(self) -> None:
        """Count the views again soon: at most once per COUNTS_EVERY for a burst."""
        if self._counts_timer is None:
            self._counts_timer = self.set_timer(COUNTS_EVERY, self._recount_now)

    def _recount_now(self) -> None:
        self._counts_timer = None
        if not self.is_active:
            self._counts_stale = True
            return
        self._counts_worker = self._recount(self.query_state, self._counted())

    def on_screen_resume(self) -> None:
        hidden, self._hidden_rows = self._hidden_rows, {}
        if self._stale or (hidden and not self.window.chunks):
            self._stale = False
            self.request_refresh()
        elif hidden:
            self._apply_live(list(hidden.values()))
        elif self._counts_stale:
            self._counts_stale = False
            self._want_counts()

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


def _row_of(event: EventView) -> TicketRow | None:
    """The queue row a ticket event carries, if it carries one."""
    row = event.diff.get("row")
    if not isinstance(row, dict):
        return None
    try:
        return TicketRow.model_validate(row)
    except ValueError:
        return None
