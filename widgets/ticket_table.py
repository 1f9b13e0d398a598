"""One page of the queue in a DataTable, updated in place by row key.

This shell shows one page (≤ 500 rows) so Textual's DataTable is enough; the
1M-row windowed queue widget replaces it later with the same ``show_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from agent_tui.backend import Presence, PresenceState, Priority, Status, TicketRow
from widgets.relative_time import ago, due, is_overdue
from widgets.theme_colors import theme_color

#: (column key, header, width). Fixed widths: a long subject is cut with "…"
#: instead of pushing the rest of the row off screen.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "#", 7),
    ("here", "", 2),  # another agent viewing (·) or writing (✎)
    ("channel", "channel", 7),
    ("priority", "priority", 8),
    ("status", "status", 8),
    ("subject", "subject", 40),
    ("customer", "customer", 18),
    ("assignee", "assignee", 10),
    ("team", "team", 10),
    ("sla", "SLA due", 16),
    ("updated", "updated", 12),
)


def _cell(value: str, style: str = "") -> Text:
    # Text, never a str: DataTable parses str cells as markup.
    return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")


class TicketTable(DataTable[Text]):
    """The queue's rows: one ticket per row, keyed by ticket id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # DataTable binds enter to "select"; the queue screen opens the ticket on it.
        Binding("enter", "select_cursor", "Open ticket", show=False, id="table.select",
                group=Binding.Group("Table")),
    ]

    DEFAULT_CSS: ClassVar[str] = """
    TicketTable {
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, name=name, id=id,
                         classes=classes, disabled=disabled)
        self._tickets: dict[str, TicketRow] = {}
        self._here: dict[str, list[Presence]] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, width=width, key=key)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    # -- reading ---------------------------------------------------------
    @property
    def selected_id(self) -> int | None:
        """The ticket under the cursor, if any."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def ticket(self, ticket_id: int) -> TicketRow | None:
        """The row shown for ``ticket_id``, if it is on this page."""
        return self._tickets.get(str(ticket_id))

    @property
    def ticket_ids(self) -> list[int]:
        """The ids on this page, in display order."""
        return [int(row.key.value or 0) for row in self.ordered_rows]

    # -- writing ---------------------------------------------------------
    def show_rows(self, rows: Sequence[TicketRow], *, now: datetime | None = None,
                  reset_cursor: bool = False) -> None:
        """Make the table show ``rows`` in this order.

        Rows are matched by ticket id: unchanged rows are left alone, changed
        ones are updated cell by cell, gone ones removed, new ones added, and
        the cursor stays on the ticket it was on (unless ``reset_cursor``).
        """
        now = now or datetime.now(UTC)
        selected = None if reset_cursor else self.selected_id
        wanted = {str(r.id): r for r in rows}
        with self.app.batch_update():
            for key in [k for k in self._tickets if k not in wanted]:
                self.remove_row(key)
                del self._tickets[key]
            for key, row in wanted.items():
                old = self._tickets.get(key)
                if old is None:
                    self.add_row(*self._cells(row, now).values(), key=key)
                elif old != row:
                    for column, value in self._cells(row, now).items():
                        self.update_cell(key, column, value)
                self._tickets[key] = row
            order = {f"#{r.id}": i for i, r in enumerate(rows)}
            if [str(r.id) for r in rows] != [row.key.value for row in self.ordered_rows]:
                self.sort("id", key=lambda cell: order.get(cell.plain, len(order)))
            if selected is not None and str(selected) in wanted:
                self.move_cursor(row=self.get_row_index(str(selected)), animate=False)
            elif reset_cursor:
                self.move_cursor(row=0, animate=False)

    def show_presence(self, others: Sequence[Presence]) -> None:
        """Mark the rows other agents have open (· viewing, ✎ writing)."""
        here: dict[str, list[Presence]] = {}
        for p in others:
            here.setdefault(str(p.ticket_id), []).append(p)
        changed = set(here) | set(self._here)
        self._here = here
        with self.app.batch_update():
            for key in changed:
                if key in self._tickets:
                    self.update_cell(key, "here", self._here_cell(key))

    def presence_at(self, ticket_id: int) -> list[Presence]:
        """Who else the table last heard has ``ticket_id`` open."""
        return self._here.get(str(ticket_id), [])

    def _here_cell(self, key: str) -> Text:
        others = self._here.get(key, [])
        if not others:
            return _cell("")
        if any(p.state is PresenceState.COMPOSING for p in others):
            warning = theme_color(self.app, "text-warning", "yellow")
            return _cell("✎", f"bold {warning}")
        return _cell("·" if len(others) == 1 else "⁚", "bold")

    def refresh_times(self, now: datetime | None = None) -> None:
        """Re-render the relative-time cells ("in 2h 5m", "3m ago") as the clock moves."""
        now = now or datetime.now(UTC)
        with self.app.batch_update():
            for key, row in self._tickets.items():
                cells = self._cells(row, now)
                self.update_cell(key, "sla", cells["sla"])
                self.update_cell(key, "updated", cells["updated"])

    def _restyle(self) -> None:
        now = datetime.now(UTC)
        with self.app.batch_update():
            for key, row in self._tickets.items():
                for column, value in self._cells(row, now).items():
                    self.update_cell(key, column, value)

    # -- cells -----------------------------------------------------------
    def _cells(self, row: TicketRow, now: datetime) -> dict[str, Text]:
        error = theme_color(self.app, "text-error", "red")
        warning = theme_color(self.app, "text-warning", "yellow")
        muted = "dim"
        priority_style = {Priority.URGENT: f"bold {error}", Priority.HIGH: f"bold {warning}",
                          Priority.LOW: muted}.get(row.priority, "")
        status_style = muted if row.status in (Status.SOLVED, Status.CLOSED) else ""
        if row.sla_breached or is_overdue(row.sla_due_at, now):
            sla_style = f"bold {error}"
        elif row.sla_at_risk:
            sla_style = f"bold {warning}"
        else:
            sla_style = ""
        return {
            "id": _cell(f"#{row.id}", "bold"),
            "here": self._here_cell(str(row.id)),
            "channel": _cell(row.channel.value),
            "priority": _cell(row.priority.label, priority_style),
            "status": _cell(row.status.value.replace("_", " "), status_style),
            "subject": _cell(row.subject),
            "customer": _cell(row.customer_name),
            "assignee": _cell(row.assignee or "—", "" if row.assignee else muted),
            "team": _cell(row.team or "—", "" if row.team else muted),
            "sla": _cell(("breached " if row.sla_breached and not is_overdue(row.sla_due_at, now)
                          else "") + due(row.sla_due_at, now), sla_style),
            "updated": _cell(ago(row.updated_at, now)),
        }
