"""The ticket screen's header: subject and the fields an agent scans first."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from agent_tui.backend import Presence, PresenceState, TicketDetail
from widgets.theme_colors import theme_color


class TicketHeader(Widget):
    """Subject on the first line, then status, priority, channel, people, tags, version.

    ``notice`` is a line under the fields for things the agent must see
    (e.g. someone else changed the ticket since it was loaded).
    """

    DEFAULT_CSS: ClassVar[str] = """
    TicketHeader {
        height: auto;
        padding: 0 1;
        background: $boost;
        border-bottom: solid $primary;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._ticket: TicketDetail | None = None
        self._notice = ""
        self._others: list[Presence] = []

    def show(self, ticket: TicketDetail, *, notice: str = "") -> None:
        """Display ``ticket`` (and an optional notice line)."""
        self._ticket = ticket
        self._notice = notice
        self.refresh(layout=True)

    def set_notice(self, notice: str) -> None:
        """Replace the notice line ("" hides it)."""
        self._notice = notice
        self.refresh(layout=True)

    def set_presence(self, others: list[Presence]) -> None:
        """Who else has this ticket open, and whether they are writing on it."""
        others = sorted(others, key=lambda p: p.agent)
        if others != self._others:  # a beat that changes nothing repaints nothing
            self._others = others
            self.refresh(layout=True)

    def render(self) -> Text:
        ticket = self._ticket
        if ticket is None:
            return Text("Loading…")
        label = "dim"
        text = Text()
        text.append(f"#{ticket.id} ", style="bold")
        text.append(ticket.subject, style="bold")  # customer text: plain Text, never markup
        text.append("\n")

        def field(name: str, value: str) -> None:
            text.append(f"{name} ", style=label)
            text.append(value)
            text.append("   ")

        field("status", ticket.status.value.replace("_", " "))
        field("priority", ticket.priority.label)
        field("channel", ticket.channel.value)
        field("version", str(ticket.version))
        text.append("\n")
        customer = ticket.customer_name
        if ticket.customer_email:
            customer = f"{customer} <{ticket.customer_email}>"
        field("customer", customer)
        field("assignee", ticket.assignee or "unassigned")
        field("team", ticket.team or "none")
        field("tags", ", ".join(ticket.tags) or "none")
        if ticket.merged_into_id is not None or ticket.links:
            text.append("\n")
            if ticket.merged_into_id is not None:
                text.append(f"merged into #{ticket.merged_into_id}", style="bold")
                text.append("   ")
            for i, link in enumerate(ticket.links[:4]):
                if i:
                    text.append(" · ", style=label)
                text.append(link.label)
                text.append(f" {link.subject}", style=label)  # customer text: plain Text
            if len(ticket.links) > 4:
                text.append(f" · +{len(ticket.links) - 4} more", style=label)
        if self._others:
            text.append("\n")
            text.append("also here ", style=label)
            for i, other in enumerate(self._others):
                if i:
                    text.append(" · ", style=label)
                writing = other.state is PresenceState.COMPOSING
                text.append(other.agent, style="bold" if writing else "")
                text.append(" writing" if writing else " viewing",
                            style="bold reverse" if writing else label)
        if self._notice:
            text.append("\n")
            warning = theme_color(self.app, "text-warning", "yellow")
            text.append(self._notice, style=f"bold {warning}")
        return text
