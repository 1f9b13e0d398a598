"""Ask why an agent needs a customer's personal data before showing it (ARCHITECTURE §9)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class RevealScreen(ModalScreen[str | None]):
    """A reason, or None when the agent thinks better of it. The reveal is audited."""

    DEFAULT_CSS: ClassVar[str] = """
    RevealScreen { align: center middle; }
    RevealScreen > Vertical {
        width: 70;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    RevealScreen #reveal-help { color: $text-muted; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reveal.cancel"),
    ]

    def __init__(self, customer_name: str) -> None:
        super().__init__()
        self.customer_name = customer_name

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text("Reveal personal data of ")
            title.append(self.customer_name, style="bold")
            yield Static(title)
            yield Input(placeholder="Why do you need it? e.g. caller verified, ticket #123",
                        id="reveal-reason")
            yield Static(Text("The reason and your name are recorded in the audit log. "
                              "enter to reveal, esc to cancel."), id="reveal-help")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if len(reason) < 3:
            self.notify("Say why you need it (at least a few words).", markup=False,
                        severity="warning")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
