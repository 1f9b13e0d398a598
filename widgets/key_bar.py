"""The keys of the current screen on one line, like Textual's Footer but one widget.

Textual's ``Footer`` recomposes a widget per key on every focus or binding
change; on the ticket screen (~30 keys) that was most of the CPU of opening
a ticket (measured with benchmarks/ui_bench.py). This bar renders the same
grouping (keys of a group, then the group's name) into one ``Text`` and
re-renders only when the screen says its bindings changed.
"""

from __future__ import annotations

from itertools import groupby
from typing import ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """One line: ``key description`` pairs and ``k k k Group`` runs for grouped keys."""

    DEFAULT_CSS: ClassVar[str] = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        key_style = "bold"
        text = Text(no_wrap=True, overflow="ellipsis")
        shown = []
        seen_actions: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            shown.append((binding, enabled))
        for group, items in groupby(shown, key=lambda item: item[0].group):
            run = list(items)
            text.append(" ")
            if group is not None and len(run) > 1:
                for binding, enabled in run:
                    text.append(self.app.get_key_display(binding),
                                style=key_style if enabled else "dim")
                    text.append(" ")
                text.append(group.description, style="dim")
                text.append(" ")
            else:
                for binding, enabled in run:
                    text.append(self.app.get_key_display(binding),
                                style=key_style if enabled else "dim")
                    text.append(f" {binding.description}  ", style="" if enabled else "dim")
        return text
