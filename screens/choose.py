"""Small keyboard pickers: one value from a list, or a line of text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

PICK_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{
    width: 60;
    height: auto;
    max-height: 80%;
    border: thick $primary;
    background: $surface;
    padding: 0 1;
}}
{cls} .pick-title {{ text-style: bold; margin-bottom: 1; }}
{cls} .pick-help {{ color: $text-muted; margin-top: 1; }}
{cls} OptionList {{ height: auto; max-height: 20; }}
"""


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of ``choices`` (value, label); None when cancelled."""

    DEFAULT_CSS: ClassVar[str] = PICK_CSS.format(cls="ChoiceScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choose.cancel"),
        Binding("j", "down", "Down", id="choose.down", show=False),
        Binding("k", "up", "Up", id="choose.up", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], *,
                 current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="pick-title")
            options = []
            for value, label in self.choices:
                prompt = Text(label)
                if value == self.current:
                    prompt.append("  (now)", style="dim")
                options.append(Option(prompt, id=value))
            yield OptionList(*options, id="pick-options")
            yield Static(Text("j/k or arrows to move, enter to pick, esc to cancel"),
                         classes="pick-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _label in self.choices]
        if self.current in values:
            options.highlighted = values.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[str | None]):
    """Edit one line of text (tags, say); None when cancelled."""

    DEFAULT_CSS: ClassVar[str] = PICK_CSS.format(cls="TextScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="text.cancel"),
    ]

    def __init__(self, title: str, value: str = "", *, help_text: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.help_text = help_text or "enter to save, esc to cancel"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="pick-title")
            yield Input(self.value, id="text-value")
            yield Static(Text(self.help_text), classes="pick-help")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
