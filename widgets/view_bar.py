"""The queue's view bar: each view with its key and count, the current one lit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from widgets.theme_colors import theme_color


@dataclass(frozen=True)
class ViewTab:
    """One entry of the bar: ``3 All open 42``."""

    key: str  # the key that selects it, shown to the user
    label: str
    count: int | None  # None while it is being counted
    current: bool = False


class ViewBar(Widget):
    """A single line listing the queue views, their keys and their counts.

    The screen owns the state; it calls :meth:`show` with what to display.
    """

    DEFAULT_CSS: ClassVar[str] = """
    ViewBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground-muted;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._tabs: list[ViewTab] = []

    def show(self, tabs: Sequence[ViewTab]) -> None:
        """Display ``tabs``."""
        self._tabs = list(tabs)
        self.refresh()

    def render(self) -> Text:
        accent = theme_color(self.app, "text-accent")
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, tab in enumerate(self._tabs):
            if i:
                text.append(" │ ")
            count = "…" if tab.count is None else f"{tab.count:,}"
            style = f"bold reverse {accent}" if tab.current else ""
            text.append(f" {tab.key} ", style="bold")
            text.append(f"{tab.label} {count} ", style=style)
        return text
