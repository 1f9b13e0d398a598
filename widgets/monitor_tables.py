"""The monitor's two tables: SLA clocks (selectable) and the agent board.

Both are ``DataTable``s updated by row key: a refresh changes only the cells
that changed, adds and removes only the rows that came or went, puts the
rows in the new order and keeps the cursor on the row it was on — inside
``App.batch_update()``, so nothing flickers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist, RowKey

from agent_tui.backend import AgentBoardRow, AgentStatus, SlaTicket, safe_line
from widgets.relative_time import span
from widgets.theme_colors import theme_color

SELECTED_MARK = "●"
CellRow = tuple[Text, ...]


def countdown(due_at: datetime, now: datetime) -> str:
    """``in 4m`` while the clock runs, ``12m late`` once it has run out.

    Whole minutes (``<1m`` under one): a cell then changes at most once a
    minute, so the countdowns cost one repaint every few seconds, not one
    per second per row.
    """
    seconds = (due_at - now).total_seconds()
    text = "<1m" if abs(seconds) < 60 else span(seconds)
    return f"in {text}" if seconds >= 0 else f"{text} late"


class KeyedTable(DataTable[Text]):
    """A DataTable whose rows are replaced by key, in a given order, cursor kept."""

    def set_rows(self, rows: Sequence[tuple[str, CellRow]]) -> None:
        """Show exactly ``rows`` (key, cells) in this order, touching only what changed."""
        keep = self.cursor_key()
        wanted = dict(rows)
        with self.app.batch_update():
            for row_key in [k for k in self.rows if k.value not in wanted]:
                self.remove_row(row_key)
            columns = list(self.columns)
            for key, cells in rows:
                if key not in self.rows:
                    self.add_row(*cells, key=key)
                    continue
                current = self.get_row(key)
                for column, old, new in zip(columns, current, cells, strict=True):
                    if old != new:
                        self.update_cell(key, column, new)
            order = {key: i for i, (key, _cells) in enumerate(rows)}
            if [k.value for k in self.rows] != [k for k, _c in rows]:
                first = columns[0]
                # The first column holds the key's text; sort by the wanted position.
                by_text = {cells[0].plain: order[key] for key, cells in rows}
                self.sort(first, key=lambda cell: by_text.get(cell.plain, len(order)))
            if keep is not None and keep in wanted:
                self.move_cursor(row=self.get_row_index(keep), animate=False)

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.row_count:
            return None
        try:
            row_key: RowKey = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except (CellDoesNotExist, RowDoesNotExist):
            return None
        return row_key.value


class SlaTable(KeyedTable):
    """At-risk and breached tickets with live countdowns; ``x`` marks rows for bulk actions."""

    DEFAULT_CSS: ClassVar[str] = "SlaTable { height: 1fr; }"

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("id", "#"), ("sel", " "), ("clock", "Clock"), ("prio", "Prio"), ("chan", "Chan"),
        ("team", "Team"), ("who", "Assignee"), ("subject", "Subject"))

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled,
                         cursor_type="row", zebra_stripes=False)
        self.tickets: dict[int, SlaTicket] = {}
        self.selected: set[int] = set()

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    @property
    def cursor_ticket(self) -> SlaTicket | None:
        key = self.cursor_key()
        return self.tickets.get(int(key)) if key else None

    def _cells(self, t: SlaTicket, now: datetime) -> CellRow:
        error = theme_color(self.app, "text-error", "red")
        warning = theme_color(self.app, "text-warning", "yellow")
        style = error if t.due_at < now else warning
        return (Text(f"#{t.id}"), Text(SELECTED_MARK if t.id in self.selected else " "),
                Text(countdown(t.due_at, now), style=style), Text(t.priority.label),
                Text(t.channel.value), Text(t.team or "—"), Text(t.assignee or "—"),
                Text(safe_line(t.subject), no_wrap=True, overflow="ellipsis"))

    def show(self, tickets: Sequence[SlaTicket], now: datetime) -> None:
        """Show these tickets in this order; selections of tickets gone are dropped."""
        self.tickets = {t.id: t for t in tickets}
        self.selected &= set(self.tickets)
        self.set_rows([(str(t.id), self._cells(t, now)) for t in tickets])

    def tick(self, now: datetime) -> None:
        """Re-render the countdowns that changed (once a second: cheap, no fetch)."""
        error = theme_color(self.app, "text-error", "red")
        warning = theme_color(self.app, "text-warning", "yellow")
        with self.app.batch_update():
            for t in self.tickets.values():
                cell = Text(countdown(t.due_at, now), style=error if t.due_at < now else warning)
                if self.get_cell(str(t.id), "clock") != cell:
                    self.update_cell(str(t.id), "clock", cell)

    def mark(self) -> None:
        """Re-render the selection marks."""
        for t in self.tickets.values():
            cell = Text(SELECTED_MARK if t.id in self.selected else " ")
            if self.get_cell(str(t.id), "sel") != cell:
                self.update_cell(str(t.id), "sel", cell)

    def toggle(self) -> int | None:
        """Select or unselect the ticket under the cursor; its id."""
        ticket = self.cursor_ticket
        if ticket is None:
            return None
        self.selected ^= {ticket.id}
        self.mark()
        return ticket.id


class AgentTable(KeyedTable):
    """One row per active agent: status, load/capacity, today's work, current ticket."""

    DEFAULT_CSS: ClassVar[str] = "AgentTable { height: 1fr; }"

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("login", "Agent"), ("status", "Status"), ("load", "Load"), ("today", "Solved"),
        ("aht", "AHT"), ("now", "Current ticket"))

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled,
                         cursor_type="row", zebra_stripes=False)
        self.agents: dict[str, AgentBoardRow] = {}

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def _cells(self, a: AgentBoardRow) -> CellRow:
        status_style = {AgentStatus.ONLINE: theme_color(self.app, "text-success", "green"),
                        AgentStatus.AWAY: theme_color(self.app, "text-warning", "yellow")
                        }.get(a.status, "dim")
        over = a.over_capacity
        load = f">{a.capacity}/{a.capacity}" if over else f"{a.load}/{a.capacity}"
        current = ""
        if a.current_ticket_id is not None:
            current = f"#{a.current_ticket_id} {a.current_subject or ''}".rstrip()
            if a.current_state is not None:
                current = f"{a.current_state.value}: {current}"
        aht = span(a.handle_time_today_s) if a.handle_time_today_s is not None else "—"
        return (Text(a.login), Text(a.status.value, style=status_style),
                Text(load, style=theme_color(self.app, "text-error", "red") if over else ""),
                Text(str(a.handled_today)), Text(aht),
                Text(safe_line(current), no_wrap=True, overflow="ellipsis"))

    def show(self, agents: Sequence[AgentBoardRow]) -> None:
        self.agents = {a.login: a for a in agents}
        self.set_rows([(a.login, self._cells(a)) for a in agents])
