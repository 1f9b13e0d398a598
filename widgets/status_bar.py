"""The bottom status line: who I am, which backend, whether the feed is live, the view."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from widgets.one_line import fit_line

#: Connection states the app reports, and how each one is shown.
CONNECTION_LABELS: dict[str, str] = {
    "connecting": "○ connecting",
    "live": "● live",
    "reconnecting": "◌ reconnecting",
    "error": "✕ error",
}


class StatusBar(Widget):
    """One line: ``● live │ All open · by priority · page 1 │ ada (admin) │ sqlite:///…``.

    Identity and location are fixed for a session and passed in. The
    connection state belongs to the app: if the app has a ``connection``
    reactive, every status bar follows it, on every screen.
    """

    DEFAULT_CSS: ClassVar[str] = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    StatusBar.-reconnecting { color: $text-warning; }
    StatusBar.-error { color: $text-error; }
    """

    connection: reactive[str] = reactive("connecting")
    """One of ``CONNECTION_LABELS``."""
    view: reactive[str] = reactive("")
    """What the screen shows: a view, a ticket."""

    def __init__(self, *, login: str, role: str, location: str, view: str = "",
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.login = login
        self.role = role
        self.location = location
        self.set_reactive(StatusBar.view, view)

    def on_mount(self) -> None:
        if hasattr(self.app, "connection"):
            self.watch(self.app, "connection", self._follow_connection, init=True)

    def _follow_connection(self, state: str) -> None:
        self.connection = state

    def watch_connection(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

    _strip: tuple[tuple[object, ...], Strip] | None = None

    def _runs(self) -> list[tuple[str, bool]]:
        # Every part is a plain string: a location or view name is never markup.
        runs = [(CONNECTION_LABELS.get(self.connection, self.connection), True)]
        if self.view:
            runs += [(" │ ", False), (self.view, False)]
        runs += [(" │ ", False), (self.login, True), (f" ({self.role})", False),
                 (" │ ", False), (self.location, False)]  # last: the first to be cut
        return runs

    def render_line(self, y: int) -> Strip:
        width, base = self.content_size.width, self.rich_style
        if y:
            return Strip.blank(width, base)
        key = (self.connection, self.view, self.login, self.role, self.location, width, base)
        if self._strip is None or self._strip[0] != key:
            bold = base + Style(bold=True)
            self._strip = (key, fit_line(((text, bold if strong else base)
                                          for text, strong in self._runs()), width, base))
        return self._strip[1]
