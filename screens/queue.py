"""The queue: views with counts, a window of tickets around the cursor, live updates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from agent_tui.backend import Sort, View
from screens.command_line import Command
from screens.filter_syntax import parse_filter
from screens.queue_commands import queue_commands
from screens.queue_loading import CHANNELS, EMPTY_MESSAGE, VIEW_KEYS, QueueQuery
from screens.queue_next import NEXT_BINDINGS
from screens.queue_saved import QueueSaved
from widgets.key_bar import KeyBar
from widgets.status_bar import StatusBar
from widgets.ticket_table import TicketTable
from widgets.view_bar import ViewBar, ViewTab

CLOCK_SECONDS = 30  # how often "in 2h 5m" / "3m ago" cells are re-rendered

SORTS: tuple[Sort, ...] = (Sort.PRIORITY, Sort.AGE, Sort.UPDATED)

VIEWS = Binding.Group("Views", compact=True)
MOVE = Binding.Group("Move")
QUEUE = Binding.Group("Queue")


def _view_binding(key: str, view: View, label: str) -> Binding:
    return Binding(key, f"show_view('{view.value}')", label, id=f"queue.view.{view.value}",
                   group=VIEWS)


class QueueScreen(QueueSaved):
    """The first screen: pick a view, move through tickets, open one.

    Every read runs in one exclusive worker (a newer request cancels a stale
    one). Live changes are applied from the rows their events carry, by row
    key, the cursor staying on its ticket; counts are re-fetched at most once
    a second. While another screen is on top nothing is fetched or drawn, and
    the queue catches up when it is shown again.
    """

    CSS_PATH = "queue.tcss"

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
        self.load()
        self.load_saved()
        self._arm_presence()

    def _tick(self) -> None:
        if self.is_active:
            self.table.refresh_times()

    # -- views -----------------------------------------------------------
    def _set_query(self, query: QueueQuery) -> None:
        self.query_state = query
        self._render_bar()
        self.load()

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
        """Fetch the rows held and the counts again now, where the window is."""
        self._want("refresh")

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
            self.load()

    def action_cursor_bottom(self) -> None:
        self.table.move_cursor(row=max(self.table.row_count - 1, 0))

    def action_open_ticket(self) -> None:
        """Open the ticket under the cursor."""
        ticket_id = self.table.selected_id
        if ticket_id is not None:
            self.open_ticket(ticket_id)

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
        row = self.table.ticket(ticket_id)
        self.open_workspace(ticket_id, customer_id=row.customer_id if row else None,
                            neighbour=self._neighbour)

    def _neighbour(self, ticket_id: int, step: int) -> tuple[int, int] | None:
        """The ticket ``step`` rows from ``ticket_id``; the cursor follows the workspace."""
        t = self.table
        other = t.neighbour(ticket_id, step)
        row = t.ticket(other) if other is not None else None
        if row is None:
            return None
        t.select(row.id)
        return row.id, row.customer_id

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
        yield from self.saved_palette()
        yield SystemCommand("queue: filter", "Filter subjects by text", self.action_filter)
        if self.query_state.text:
            yield SystemCommand("queue: clear filter", "Show every ticket of the view",
                                self.action_clear_filter)
        yield SystemCommand("queue: open ticket", "Open the ticket under the cursor",
                            self.action_open_ticket)
