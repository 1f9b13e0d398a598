"""The ranked articles of the suggestion panel: three rows each, drawn line by line.

Textual's ``OptionList`` learns how tall its options are only when it wraps
them at render time, so each ticket opened laid the workspace out a second
time, and turning its options into content and lines was ~5 ms of the
opening (benchmarks/ui_bench.py). Every article here takes :data:`ROWS` rows —
its title line, then its snippet wrapped over two — so the list's height is
known as soon as it is filled, and each article's lines are made once per
width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agent_tui.backend import Suggestion

ROWS = 3  # title, then two lines of snippet
MATCH_STYLE = "bold reverse"


def title_line(s: Suggestion) -> Text:
    """Title, confidence and locale (spans, never markup)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(s.title, style="bold")
    text.append(f"  {round(s.confidence * 100)}%", style="dim")
    if s.locale:
        text.append(f"  {s.locale}", style="dim")
    return text


def snippet_text(s: Suggestion, *, match_style: str = MATCH_STYLE) -> Text:
    """The snippet with the words that matched the ticket styled."""
    text = Text()
    if s.spans:
        for span in s.spans:
            text.append(span.text, style=match_style if span.match else "")
    else:
        text.append(s.snippet.replace("[[", "").replace("]]", ""))
    return text


def fill_lines(text: Text, width: int) -> list[Text]:
    """``text`` filled into lines of ``width`` cells, keeping its styles.

    Breaks after a space, or between two characters of which one is wide (CJK
    has no spaces between words): a Latin word is not cut unless it is wider
    than a line, and a Chinese sentence after "2. " does not leave that line
    all but empty, as word wrapping does.
    """
    plain = text.plain.replace("\n", " ")
    offsets: list[int] = []
    start = used = 0
    last_break = -1  # an offset where the current line may end
    previous_wide = False
    for i, char in enumerate(plain):
        cells = get_character_cell_size(char)
        wide = cells > 1
        if char == " " and used + cells > width and i > start:
            # A space at the end of a full line ends it, taking no cell of its own.
            offsets.append(i + 1)
            start, last_break, used, previous_wide = i + 1, -1, 0, False
            continue
        if i > start and (wide or previous_wide or plain[i - 1] == " "):
            last_break = i
        if used + cells > width and i > start:
            cut = last_break if last_break > start else i
            offsets.append(cut)
            start, last_break = cut, -1
            used = sum(get_character_cell_size(c) for c in plain[cut:i])
        used += cells
        previous_wide = wide
    lines = list(text.divide(offsets)) if offsets else [text.copy()]
    for line in lines:
        line.plain = line.plain.replace("\n", " ")  # same length: the styles stay
    return [lines[0], *(line[len(line.plain) - len(line.plain.lstrip(" ")):]
                        for line in lines[1:])]


class SuggestionList(ScrollView, can_focus=True):
    """Articles, best first; ``up``/``down`` move, ``enter`` selects."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"suggestion-list--highlight"}

    DEFAULT_CSS: ClassVar[str] = """
    SuggestionList { height: 1fr; background: $surface; }
    SuggestionList > .suggestion-list--highlight {
        background: $block-cursor-blurred-background;
    }
    SuggestionList:focus > .suggestion-list--highlight {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    highlighted: reactive[int | None] = reactive(None, always_update=True)

    class Selected(Message):
        """``enter`` (or a click) on the article at ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._items: list[Suggestion] = []
        self._lines: dict[tuple[int, int], list[Strip]] = {}  # (index, width) → its rows
        #: Per paint (reading them is not free): content width, base and highlight styles.
        self._paint: tuple[int, Style, Style] | None = None

    @property
    def option_count(self) -> int:
        return len(self._items)

    def set_items(self, items: Sequence[Suggestion]) -> None:
        """Show ``items``, the first highlighted, from the top."""
        self._items = list(items)
        self._lines.clear()
        self.virtual_size = Size(0, ROWS * len(self._items))
        self.scroll_to(y=0, animate=False, immediate=True)
        self.highlighted = 0 if self._items else None
        self.refresh()

    # -- keys --------------------------------------------------------------
    def action_cursor_down(self) -> None:
        if self._items:
            current = self.highlighted
            self.highlighted = 0 if current is None else min(current + 1, len(self._items) - 1)

    def action_cursor_up(self) -> None:
        if self._items:
            current = self.highlighted
            self.highlighted = 0 if current is None else max(current - 1, 0)

    def action_select(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Selected(self.highlighted))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = (offset.y + int(self.scroll_y)) // ROWS
        if 0 <= index < len(self._items):
            self.highlighted = index
            self.action_select()

    def watch_highlighted(self, index: int | None) -> None:
        if index is not None:
            self.scroll_to_region(Region(0, index * ROWS, 1, ROWS), animate=False,
                                  force=True, immediate=True)
        self.refresh()

    # -- drawing -----------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        base = self.rich_style
        highlight = base + self.get_component_rich_style("suggestion-list--highlight")
        self._paint = (self.scrollable_content_region.width, base, highlight)
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        width, base, highlight = self._paint or (
            self.scrollable_content_region.width, self.rich_style, self.rich_style)
        index, row = divmod(int(self.scroll_y) + y, ROWS)
        if index >= len(self._items) or width <= 0:
            return Strip.blank(width, base)
        rows = self._lines.get((index, width))
        if rows is None:
            rows = self._lines[(index, width)] = self._make_rows(self._items[index], width)
        return rows[row].apply_style(highlight if index == self.highlighted else base)

    def _make_rows(self, s: Suggestion, width: int) -> list[Strip]:
        console = self.app.console
        title = title_line(s)
        title.truncate(width, overflow="ellipsis")
        snippet = fill_lines(snippet_text(s), width)
        lines = [title, *snippet[:ROWS - 1]]
        if len(snippet) > ROWS - 1:  # more than fits: say so on the last row
            last = lines[-1]
            last.rstrip()
            last.truncate(width - 1)
            last.rstrip()
            last.append("…")
        rows = []
        for line in lines:
            line.no_wrap = True
            segments = list(line.render(console, end=""))
            rows.append(Strip(segments).extend_cell_length(width).crop(0, width))
        while len(rows) < ROWS:
            rows.append(Strip([Segment(" " * width)], width))
        return rows
