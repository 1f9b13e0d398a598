"""The keys of the current screen on one line, like Textual's Footer but one widget.

Textual's ``Footer`` recomposes a widget per key on every focus or binding
change; on the ticket screen (~30 keys) that was most of the CPU of opening
a ticket (measured with benchmarks/ui_bench.py). This bar renders the same
grouping (keys of a group, then the group's name) into one line of segments,
made again only when the screen says its bindings changed or the bar's width
or colours did: a ``Text`` made into Textual content on every repaint was
~1–2 ms of each ticket opened, for one line.
"""

from __future__ import annotations

from itertools import groupby
from typing import ClassVar

from rich.style import Style
from textual.binding import Binding
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from widgets.one_line import fit_line

#: The bar's content: runs of (text, is a key, enabled) in order.
Parts = tuple[tuple[str, bool, bool], ...]


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

    _parts: Parts | None = None  # None: to be read from the screen's bindings
    _strip: tuple[tuple[Parts, int, Style], Strip] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._parts = None
            self.refresh()

    def parts(self) -> Parts:
        """What the bar says: ``key description`` pairs and ``k k k Group`` runs."""
        if self._parts is None:
            self._parts = self._read_parts()
        return self._parts

    def _read_parts(self) -> Parts:
        shown: list[tuple[Binding, bool]] = []
        seen_actions: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            shown.append((binding, enabled))
        parts: list[tuple[str, bool, bool]] = []
        for group, items in groupby(shown, key=lambda item: item[0].group):
            run = list(items)
            parts.append((" ", False, True))
            if group is not None and len(run) > 1:
                for binding, enabled in run:
                    parts.append((self.app.get_key_display(binding), True, enabled))
                    parts.append((" ", False, True))
                parts.append((group.description, False, False))
                parts.append((" ", False, True))
            else:
                for binding, enabled in run:
                    parts.append((self.app.get_key_display(binding), True, enabled))
                    parts.append((f" {binding.description}  ", False, enabled))
        return tuple(parts)

    def render_line(self, y: int) -> Strip:
        width, base = self.size.width, self.rich_style
        if y:
            return Strip.blank(width, base)
        key = (self.parts(), width, base)
        if self._strip is None or self._strip[0] != key:
            self._strip = (key, self._line(*key))
        return self._strip[1]

    @staticmethod
    def _line(parts: Parts, width: int, base: Style) -> Strip:
        """One line ``width`` cells wide: keys bold, disabled ones dim, cut with "…"."""
        bold, dim = base + Style(bold=True), base + Style(dim=True)
        return fit_line(((text, (bold if is_key else base) if enabled else dim)
                         for text, is_key, enabled in parts), width, base)
