"""The queue: views with counts, a window of tickets around the cursor, live updates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from agent_tui.backend import (
    Channel,
    Page,
    Sort,
    TicketFilters,
    TicketRow,
    View,
)
from screens import queue_window
from screens.base import Session, TicketsChanged
from screens.command_line import Command
from screens.filter_syntax import parse_filter
from screens.queue_commands import queue_commands
from screens.queue_next import NEXT_BINDINGS, QueueNext
from screens.ticket import TicketScreen
from widgets.key_bar import KeyBar
from widgets.status_bar import StatusBar
from widgets.ticket_table import TicketTable
from widgets.view_bar import ViewBar, ViewTab

EMPTY_MESSAGE = "No tickets in this view."
CLOCK_SECONDS = 30  # how often "in 2h 5m" / "3m ago" cells are re-rendered

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
SORTS: tuple[Sort, ...] = (Sort.PRIORITY, Sort.AGE, Sort.UPDATED)
CHANNELS: tuple[Channel, ...] = tuple(Channel)

VIEWS = Binding.Group("Views", compact=True)
MOVE = Binding.Group("Move")
QUEUE = Binding.Group("Queue")


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


def _view_binding(key: str, view: View, label: str) -> Binding:
    return Binding(key, f"show_view('{view.value}')", label, id=f"queue.view.{view.value}",
                   group=VIEWS)


class QueueScreen(QueueNext):
    """The first screen: pick a view, move through tickets, open one.

    Every read runs in one exclusive worker (a newer request cancels a stale
    one). Live refreshes are debounced: at most one in flight and one pending;
    while another screen is on top nothing is fetched, and the queue catches
    up when it is shown again.
    """

    CSS_PATH = "queue.tcss"
    page_size: ClassVar[int] = queue_window.PAGE_SIZE
    max_pages: ClassVar[int] = queue_window.MAX_PAGES

    BINDINGS: ClassVar[list[BindingType]] = [
        *(_view_binding(k, v, label) for k, v, label in VIEW_KEYS),
        Binding("9", "next_team", "Next team", id="queue.view.next_team", group=VIEWS),
        Binding("0", "next_channel", "Next channel", id="queue.view.next_channel", group=VIEWS),
        Binding("j", "cursor_down", "Down", id="queue.cursor_down", group=MOVE),
        Binding("k", "cursor_up", "Up", id="queue.cursor_up", group=MOVE),
        Binding("g,home", "cursor_top", "Top of the view", id="queue.cursor_top", group=MOVE,
                show=False),
        Binding("G", "cursor_bottom", "Last loaded row", id="queue.cursor_bottom", group=MOVE,
                show=False),
        Binding("right_square_bracket", "next_page", "Page down", id="queue.next_page",
                group=MOVE, key_display="]"),
        Binding("left_square_bracket", "prev_page", "Page up", id="queue.prev_page",
                group=MOVE, key_display="["),
        Binding("enter", "open_ticket", "Open", id="queue.open", group=QUEUE),
        Binding("s", "cycle_sort", "Sort", id="queue.sort", group=QUEUE),
        Binding("slash", "filter", "Filter", id="queue.filter", group=QUEUE, key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", id="queue.clear_filter",
                group=QUEUE),
        Binding("r", "refresh", "Refresh", id="queue.refresh", group=QUEUE),
        *NEXT_BINDINGS,
    ]

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

    # -- layout ----------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ViewBar(id="views")
        yield TicketTable(id="tickets", margin=self.page_size)
        yield Static(EMPTY_MESSAGE, id="empty")
        yield Input(placeholder="Filter: words in the subject and status:open prio:high chan:chat "
                    "team:billing tag:vip assignee:me — enter applies, escape clears",
                    id="filter")
        me = self.session.me
        yield StatusBar(login=me.login, role=me.role.value, location=self.session.location,
                        view=self._describe())
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TicketTable).focus()
        self.set_interval(CLOCK_SECONDS, self._tick)
        self._render_bar()
        self.load(reset_cursor=True)
        self._arm_presence()

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    # -- loading ---------------------------------------------------------
    def load(self, *, reset_cursor: bool) -> None:
        """Fetch the first page of the view and the counts now (cancelling a stale fetch)."""
        self._pending.clear()
        self.generation += 1
        self.page = None if reset_cursor else self.page
        self._start("reset", reset_cursor)

    @property
    def loading(self) -> bool:
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

    def on_queue_screen_pages_loaded(self, message: QueueScreen.PagesLoaded) -> None:
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
                self.load(reset_cursor=True)  # everything held is gone: back to the top
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
        empty = self.query_one("#empty", Static)
        empty.update(EMPTY_MESSAGE)
        empty.display = not w.rows
        self._render_position()

    @on(TicketTable.NearEdge, "#tickets")
    def _near_edge(self, event: TicketTable.NearEdge) -> None:
        event.stop()
        self._want("below" if event.edge == "end" else "above")

    @on(TicketTable.Moved, "#tickets")
    def _moved(self, event: TicketTable.Moved) -> None:
        event.stop()
        self._render_position()

    def on_queue_screen_counts_loaded(self, message: QueueScreen.CountsLoaded) -> None:
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

    def _tick(self) -> None:
        if self.is_active:
            self.table.refresh_times()

    # -- views -----------------------------------------------------------
    def _view_arg(self, view: View) -> str | None:
        if view is View.TEAM:
            teams = self.session.teams
            return teams[self._team_index % len(teams)].name if teams else None
        if view is View.CHANNEL:
            return CHANNELS[self._channel_index % len(CHANNELS)].value
        return None

    def _set_query(self, query: QueueQuery) -> None:
        self.query_state = query
        self._render_bar()
        self.load(reset_cursor=True)

    def action_show_view(self, view_name: str) -> None:
        """Switch to a built-in view (first page, filter kept)."""
        view = View(view_name)
        arg = self._view_arg(view)
        if view is View.TEAM and arg is None:
            self.notify("There are no teams yet.", severity="warning", markup=False)
            return
        self._set_query(replace(self.query_state, view=view, view_arg=arg))

    def action_next_team(self) -> None:
        """Show the team view, moving to the next team if it is already shown."""
        if not self.session.teams:
            self.notify("There are no teams yet.", severity="warning", markup=False)
            return
        if self.query_state.view is View.TEAM:
            self._team_index = (self._team_index + 1) % len(self.session.teams)
        self.action_show_view(View.TEAM.value)

    def action_next_channel(self) -> None:
        """Show the channel view, moving to the next channel if it is already shown."""
        if self.query_state.view is View.CHANNEL:
            self._channel_index = (self._channel_index + 1) % len(CHANNELS)
        self.action_show_view(View.CHANNEL.value)

    def action_cycle_sort(self) -> None:
        """Priority → age → updated → priority."""
        following = SORTS[(SORTS.index(self.query_state.sort) + 1) % len(SORTS)]
        self._set_query(replace(self.query_state, sort=following))

    def action_refresh(self) -> None:
        """Fetch the page and counts again now."""
        self.load(reset_cursor=False)

    # -- paging and moving -----------------------------------------------
    def action_next_page(self) -> None:
        """A screenful down; the window fetches ahead as the cursor goes."""
        t = self.table
        if t.cursor_row >= t.row_count - 1 and self.window.at_bottom:
            self.notify("This is the end of the view.", markup=False)
        else:
            t.action_page_down()

    def action_prev_page(self) -> None:
        """A screenful up."""
        t = self.table
        if t.cursor_row == 0 and self.window.at_top:
            self.notify("This is the top of the view.", markup=False)
        else:
            t.action_page_up()

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_cursor_top(self) -> None:
        """The first ticket of the view (fetching it again if the window has moved on)."""
        if self.window.at_top:
            self.table.move_cursor(row=0)
        else:
            self.load(reset_cursor=True)

    def action_cursor_bottom(self) -> None:
        self.table.move_cursor(row=max(self.table.row_count - 1, 0))

    def action_open_ticket(self) -> None:
        """Open the ticket under the cursor."""
        ticket_id = self.table.selected_id
        if ticket_id is not None:
            self.app.push_screen(TicketScreen(self.session, ticket_id))

    # -- filter ----------------------------------------------------------
    def action_filter(self) -> None:
        """Show the filter input with the current text."""
        box = self.query_one("#filter", Input)
        box.value = self.query_state.text or ""
        box.add_class("-shown")
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip() or None
        if text is not None:
            errors = parse_filter(text).errors
            if errors:
                # Keep the box open with what was typed, so one fix is one edit.
                self.notify("Filter: " + "; ".join(errors), title="Not understood",
                            severity="warning", markup=False, timeout=8)
                return
        event.input.remove_class("-shown")
        self.table.focus()
        if text != self.query_state.text:
            self._set_query(replace(self.query_state, text=text))

    def action_clear_filter(self) -> None:
        """Hide the filter input and drop the filter."""
        box = self.query_one("#filter", Input)
        box.remove_class("-shown")
        box.value = ""
        self.table.focus()
        if self.query_state.text:
            self._set_query(replace(self.query_state, text=None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            shown = self.is_mounted and self.query_one("#filter").has_class("-shown")
            return bool(self.query_state.text or shown)
        return True

    # -- display ---------------------------------------------------------
    def _describe(self) -> str:
        q = self.query_state
        label = next(label for _k, v, label in VIEW_KEYS if v is q.view)
        if q.view_arg:
            label = f"{label} {q.view_arg}"
        parts = [label, f"by {q.sort.value}"]
        if self.is_mounted and self.table.row_count:
            parts.append(self._position())
        if q.text:
            matching = "…" if self.matching is None else f"{self.matching:,}"
            parts.append(f"filter: {q.text} ({matching} match)")
        return " · ".join(parts)

    def _position(self) -> str:
        """"row 1,201 of 148,530": where the cursor is in the whole view."""
        q = self.query_state
        key = next(k for k, v, _label in VIEW_KEYS if v is q.view)
        total = self.matching if q.text else self.counts.get(key)
        row = self.window.offset + self.table.cursor_row + 1
        return f"row {row:,}" + ("" if total is None else f" of {max(total, row):,}")

    def _render_position(self) -> None:
        self.query_one(StatusBar).view = self._describe()

    def _render_bar(self) -> None:
        q = self.query_state
        tabs = []
        for key, view, label in VIEW_KEYS:
            arg = self._view_arg(view)
            if view in (View.TEAM, View.CHANNEL):
                label = f"{label} {arg or '—'}"
            tabs.append(ViewTab(key=key, label=label, count=self.counts.get(key),
                                current=view is q.view))
        self.query_one(ViewBar).show(tabs)
        self.query_one(StatusBar).view = self._describe()
        self.refresh_bindings()

    def commands(self) -> dict[str, Command]:
        return queue_commands(self)

    def set_sort(self, sort: Sort) -> None:
        """Order the queue by ``sort`` (first page)."""
        self._set_query(replace(self.query_state, sort=sort))

    def apply_filter(self, line: str) -> str | None:
        """Apply a filter line as ``/`` does; what was not understood, if anything."""
        text = line.strip() or None
        if text is not None and (errors := parse_filter(text).errors):
            return "; ".join(errors)
        if text != self.query_state.text:
            self._set_query(replace(self.query_state, text=text))
        return None

    def open_ticket(self, ticket_id: int) -> None:
        """Open ticket ``ticket_id``, shown in the queue or not."""
        self.app.push_screen(TicketScreen(self.session, ticket_id))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("queue: refresh", "Fetch this page and the counts again",
                            self.action_refresh)
        for _key, view, label in VIEW_KEYS:
            yield SystemCommand(f"queue: view {label.lower()}", f"Show the {label} view",
                                lambda v=view: self.action_show_view(v.value))
        yield SystemCommand("queue: next team", "Show the next team's view",
                            self.action_next_team)
        yield SystemCommand("queue: next channel", "Show the next channel's view",
                            self.action_next_channel)
        yield SystemCommand("queue: cycle sort", "Sort by priority, age or last update",
                            self.action_cycle_sort)
        yield SystemCommand("queue: filter", "Filter subjects by text", self.action_filter)
        if self.query_state.text:
            yield SystemCommand("queue: clear filter", "Show every ticket of the view",
                                self.action_clear_filter)
        yield SystemCommand("queue: open ticket", "Open the ticket under the cursor",
                            self.action_open_ticket)
