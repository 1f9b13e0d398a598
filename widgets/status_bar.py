"""The bottom status line: who I am, which backend, whether the feed is live, the view."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

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

    def render(self) -> Text:
        # Every part is plain Text: a location or view name is never markup.
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(CONNECTION_LABELS.get(self.connection, self.connection), style="bold")
        if self.view:
            text.append(" │ ")
            text.append(self.view)
        text.append(" │ ")
        text.append(self.login, style="bold")
        text.append(f" ({self.role})")
        text.append(" │ ")
        text.append(self.location)  # last: the longest and the first to be cut
        return text
