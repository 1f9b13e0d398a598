"""The queue's rows as a Line-API window: it draws only the lines on screen.

The widget holds the few hundred rows the queue screen has fetched around
the cursor (``show_rows``), never a whole view. Each row is rendered once into
a ``Strip`` and kept until the row, its presence marker, the width or the
theme changes, so moving the cursor or paging repaints from the cache. It
says when the cursor comes near either end of what it holds (``NearEdge``),
so the screen can fetch the next page before the agent gets there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from agent_tui.backend import (
    Presence,
    PresenceState,
    Priority,
    Status,
    TicketRow,
    safe_line,
)
from widgets.relative_time import ago, due, is_overdue
from widgets.theme_colors import theme_color

#: (column key, header, width). Fixed widths, except that the subject takes
#: whatever the others leave (at least its width here): a long subject is cut
#: with "…" instead of pushing the rest of the row off screen.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "#", 7),
    ("here", "", 2),  # another agent viewing (·) or writing (✎)
    ("channel", "channel", 7),
    ("priority", "priority", 8),
    ("status", "status", 8),
    ("subject", "subject", 24),
    ("customer", "customer", 18),
    ("assignee", "assignee", 10),
    ("team", "team", 10),
    ("sla", "SLA due", 16),
    ("updated", "updated", 12),
)
FLEX = "subject"
GAP = 1  # blank cells between columns

MOVE = Binding.Group("Move")  # the same title as the screens' moves: help lists them together


def _cell(value: str, style: str = "") -> tuple[str, str]:
    # (text, style): one string in one style. Customer strings arrive through
    # safe_text() at the backend boundary; safe_line() here also folds any line
    # break, so one row stays one line.
    return safe_line(value), style


class TicketTable(Widget, can_focus=True):
    """A window of queue rows, one ticket per line, keyed by ticket id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Down", show=False, id="table.down", group=MOVE),
        Binding("up", "cursor_up", "Up", show=False, id="table.up", group=MOVE),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down",
                group=MOVE),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up", group=MOVE),
        Binding("end", "last", "Last loaded row", show=False, id="table.last", group=MOVE),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket-table--header", "ticket-table--cursor", "ticket-table--even",
    }

    DEFAULT_CSS: ClassVar[str] = """
    TicketTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .ticket-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .ticket-table--even { background: $surface-lighten-1 50%; }
        & > .ticket-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:dark > .ticket-table--even { background: $surface-darken-1 40%; }
        &:focus > .ticket-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    class Moved(Message):
        """The cursor or the first line on screen changed."""

        def __init__(self, table: TicketTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> TicketTable:
            return self.table

    class NearEdge(Message):
        """The cursor is within ``margin`` rows of the ``"start"`` or ``"end"`` held."""

        def __init__(self, table: TicketTable, edge: str) -> None:
            super().__init__()
            self.table = table
            self.edge = edge

        @property
        def control(self) -> TicketTable:
            return self.table

    def __init__(self, *, margin: int = 100, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.margin = margin
        self._rows: list[TicketRow] = []
        self._index: dict[int, int] = {}
        self._here: dict[int, list[Presence]] = {}
        self._cursor = 0
        self._top = 0  # the row drawn on the first line under the header
        self._now = datetime.now(UTC)
        # ticket id -> (row, presence mark, line style, the line drawn in that style)
        self._strips: dict[int, tuple[TicketRow, str, Style, Strip]] = {}
        self._mixed: dict[tuple[Style, str], Style] = {}  # line style + a cell's style
        self._layout: tuple[int, list[int]] = (0, [])
        self._styles: tuple[Style, Style, Style] | None = None
        self._palette: tuple[str, str] | None = None  # error, warning: per theme

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    # -- reading ---------------------------------------------------------
    @property
    def selected_id(self) -> int | None:
        """The ticket under the cursor, if any."""
        return self._rows[self._cursor].id if self._rows else None

    @property
    def cursor_row(self) -> int:
        """The cursor's index among the rows held."""
        return self._cursor

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def visible_count(self) -> int:
        """How many rows fit under the header."""
        return max(self.size.height - 1, 1)

    def ticket(self, ticket_id: int) -> TicketRow | None:
        """The row held for ``ticket_id``, if it is in the window."""
        i = self._index.get(ticket_id)
        return None if i is None else self._rows[i]

    @property
    def ticket_ids(self) -> list[int]:
        """The ids held, in display order."""
        return [r.id for r in self._rows]

    def get_row_index(self, ticket_id: int | str) -> int:
        """The index of ``ticket_id`` among the rows held (KeyError if not held)."""
        return self._index[int(ticket_id)]

    def neighbour(self, ticket_id: int, step: int) -> int | None:
        """The id ``step`` rows away from ``ticket_id`` in display order, if held."""
        i = self._index.get(ticket_id)
        if i is None or not 0 <= i + step < len(self._rows):
            return None
        return self._rows[i + step].id

    # -- writing ---------------------------------------------------------
    def show_rows(self, rows: Sequence[TicketRow], *, now: datetime | None = None,
                  reset_cursor: bool = False) -> None:
        """Hold ``rows`` in this order, keeping the cursor on its ticket.

        The cursor stays on the ticket it was on and on the same screen line
        (rows added above it, by a live change or a page fetched before, do
        not move what the agent is looking at); if that ticket left the
        window, the cursor keeps its index.
        """
        self._now = now or datetime.now(UTC)
        selected = None if reset_cursor else self.selected_id
        line = self._cursor - self._top
        painted = self._painted()
        self._rows = list(rows)
        self._index = {r.id: i for i, r in enumerate(self._rows)}
        self._strips = {k: v for k, v in self._strips.items() if k in self._index}
        if reset_cursor:
            cursor, top = 0, 0
        else:
            cursor = self._index.get(selected, self._cursor) if selected is not None else 0
            top = cursor - line
        self._place(cursor, top)
        if not self._same_screen(painted, self._painted()):
            # A page fetched above or below the screen, or a live change off it,
            # leaves what is drawn as it is: repainting all of it would cost a
            # second full frame for the key that asked for the page.
            self.refresh()
        self._announce()

    def _painted(self) -> tuple[int, int, list[TicketRow]]:
        """What the screen shows: the cursor's line, the stripe phase, the rows."""
        return (self._cursor - self._top, self._top % 2,
                self._rows[self._top:self._top + self.visible_count])

    @staticmethod
    def _same_screen(a: tuple[int, int, list[TicketRow]],
                     b: tuple[int, int, list[TicketRow]]) -> bool:
        return a[:2] == b[:2] and len(a[2]) == len(b[2]) and all(
            x is y or x == y for x, y in zip(a[2], b[2], strict=True))

    def show_presence(self, others: Sequence[Presence]) -> None:
        """Mark the rows other agents have open (· viewing, ✎ writing)."""
        here: dict[int, list[Presence]] = {}
        for p in others:
            here.setdefault(p.ticket_id, []).append(p)
        if here != self._here:
            self._here = here
            self.refresh()

    def presence_at(self, ticket_id: int) -> list[Presence]:
        """Who else the table last heard has ``ticket_id`` open."""
        return self._here.get(ticket_id, [])

    def refresh_times(self, now: datetime | None = None) -> None:
        """Re-render the relative-time cells ("in 2h 5m", "3m ago") as the clock moves."""
        self._now = now or datetime.now(UTC)
        self._strips.clear()
        self.refresh()

    def _restyle(self) -> None:
        self._palette = None
        self._strips.clear()
        self._mixed.clear()
        self.refresh()

    # -- moving ----------------------------------------------------------
    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on ``row`` (clamped), scrolling as little as needed."""
        del animate  # never animated: a jump is one repaint
        old_cursor, old_top = self._cursor, self._top
        self._place(row, self._top)
        if self._top != old_top:
            self.refresh()
        elif self._cursor != old_cursor:
            self.refresh(Region(0, old_cursor - self._top + 1, self.size.width, 1),
                         Region(0, self._cursor - self._top + 1, self.size.width, 1))
        if (self._cursor, self._top) != (old_cursor, old_top):
            self._announce()

    def select(self, ticket_id: int) -> bool:
        """Move the cursor to ``ticket_id`` if it is held."""
        i = self._index.get(ticket_id)
        if i is not None:
            self.move_cursor(row=i)
        return i is not None

    def _place(self, cursor: int, top: int) -> None:
        count, visible = len(self._rows), self.visible_count
        self._cursor = min(max(cursor, 0), max(count - 1, 0))
        top = min(max(top, self._cursor - visible + 1), self._cursor)
        self._top = max(min(top, count - visible), 0)

    def _announce(self) -> None:
        self.post_message(self.Moved(self))
        if self._rows and self._cursor >= len(self._rows) - self.margin:
            self.post_message(self.NearEdge(self, "end"))
        if self._rows and self._cursor < self.margin:
            self.post_message(self.NearEdge(self, "start"))

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_page_down(self) -> None:
        """One screenful down: the cursor keeps its line."""
        step = self.visible_count
        line = self._cursor - self._top
        self._place(self._cursor + step, self._top + step)
        self._place(self._cursor, self._cursor - line)
        self.refresh()
        self._announce()

    def action_page_up(self) -> None:
        """One screenful up: the cursor keeps its line."""
        step = self.visible_count
        line = self._cursor - self._top
        self._place(self._cursor - step, self._top - step)
        self._place(self._cursor, self._cursor - line)
        self.refresh()
        self._announce()

    def action_last(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def on_resize(self, event: Resize) -> None:
        self._strips.clear()
        self._place(self._cursor, self._top)

    # -- drawing ---------------------------------------------------------
    def _widths(self, width: int) -> list[int]:
        if self._layout[0] != width:
            fixed = sum(w for key, _l, w in COLUMNS if key != FLEX) + GAP * len(COLUMNS)
            flex_min = next(w for key, _l, w in COLUMNS if key == FLEX)
            widths = [max(flex_min, width - fixed) if key == FLEX else w
                      for key, _l, w in COLUMNS]
            self._layout = (width, widths)
        return self._layout[1]

    def _line(self, cells: Sequence[tuple[str, str]], width: int, line_style: Style) -> Strip:
        # Each cell is one plain string in one style (see _cell), so it becomes one
        # Segment cut or padded to its column: no Text copies, no wrapping. The
        # line's own style (cursor, stripe) goes under each cell's as the segment
        # is made, instead of a second pass that copies the whole line.
        segments: list[Segment] = []
        widths = self._widths(width)
        mixed = self._mixed
        for (plain, style), cell_width in zip(cells, widths, strict=True):
            length = len(plain) if plain.isascii() else cell_len(plain)
            if length > cell_width:
                plain = set_cell_size(plain, cell_width - 1) + "…"
            elif length < cell_width:
                plain += " " * (cell_width - length)
            cell_style = mixed.get((line_style, style))
            if cell_style is None:
                cell_style = mixed[line_style, style] = line_style + Style.parse(style)
            segments.append(Segment(" " * GAP + plain, cell_style))
        strip = Strip(segments, sum(widths) + GAP * len(widths))
        return strip if strip.cell_length == width else strip.crop_extend(0, width, None)

    def render_lines(self, crop: Region) -> list[Strip]:
        base = self.rich_style
        self._styles = (base, base + self.get_component_rich_style("ticket-table--cursor"),
                        base + self.get_component_rich_style("ticket-table--even"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, cursor, even = self._styles or (self.rich_style,) * 3
        if y == 0:
            header = self.get_component_rich_style("ticket-table--header")
            return self._line([_cell(label) for _k, label, _w in COLUMNS], width, base + header)
        i = self._top + y - 1
        if i >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[i]
        here = self._here_key(row.id)
        style = cursor if i == self._cursor else even if i % 2 else base
        cached = self._strips.get(row.id)
        if (cached is None or cached[1] != here or cached[2] != style
                or (cached[0] is not row and cached[0] != row)):
            cached = (row, here, style, self._line(list(self._cells(row).values()), width, style))
            self._strips[row.id] = cached
        return cached[3]

    def _here_key(self, ticket_id: int) -> str:
        others = self._here.get(ticket_id, [])
        if not others:
            return ""
        if any(p.state is PresenceState.COMPOSING for p in others):
            return "✎"
        return "·" if len(others) == 1 else "⁚"

    def _cells(self, row: TicketRow) -> dict[str, tuple[str, str]]:
        now = self._now
        if self._palette is None:
            self._palette = (theme_color(self.app, "text-error", "red"),
                             theme_color(self.app, "text-warning", "yellow"))
        error, warning = self._palette
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
        here = self._here_key(row.id)
        return {
            "id": _cell(f"#{row.id}", "bold"),
            "here": _cell(here, f"bold {warning}" if here == "✎" else "bold"),
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
