"""Pick a macro by typing part of its name (or its text): the ``m`` key of a ticket."""

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

from agent_tui.backend import MacroView, safe_line
from screens.choose import PICK_CSS

#: How much of a macro's text the list shows under its name.
PREVIEW = 70


def matches(macro: MacroView, query: str) -> bool:
    """Every word of ``query`` is in the macro's name, text or locale (any case)."""
    hay = f"{macro.name}\n{macro.body}\n{macro.locale}".casefold()
    return all(word in hay for word in query.casefold().split())


def _prompt(macro: MacroView) -> Text:
    text = Text(macro.name, style="bold")  # names and bodies as Text, never markup
    meta = [macro.locale, *macro.actions.describe()]
    text.append("  " + " · ".join(meta), style="dim")
    first = safe_line(macro.body)
    text.append("\n  " + (first[:PREVIEW] + "…" if len(first) > PREVIEW else first),
                style="italic")
    return text


class MacroPicker(ModalScreen[MacroView | None]):
    """The active macros, narrowed as the agent types; enter picks, esc cancels."""

    DEFAULT_CSS: ClassVar[str] = PICK_CSS.format(cls="MacroPicker") + """
    MacroPicker > Vertical { width: 90; }
    MacroPicker OptionList { max-height: 24; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="macro.cancel"),
        Binding("down", "move(1)", "Down", id="macro.down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", id="macro.up", show=False, priority=True),
    ]

    def __init__(self, title: str, macros: Sequence[MacroView]) -> None:
        super().__init__()
        self.title_text = title
        self.macros = list(macros)
        self.shown: list[MacroView] = list(macros)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="pick-title")
            yield Input(placeholder="type to filter: refund, 订单, pending…", id="macro-filter")
            yield OptionList(id="macro-options")
            yield Static(Text("type to filter · up/down to move · enter to insert · "
                              "esc to cancel"), classes="pick-help")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        self.shown = [m for m in self.macros if matches(m, query)]
        options = self.query_one(OptionList)
        options.clear_options()
        if self.shown:
            options.add_options([Option(_prompt(m), id=str(m.id)) for m in self.shown])
            options.highlighted = 0
        else:
            options.add_option(Option(Text("no macro matches", style="dim"), disabled=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.shown):
            self.notify("No macro matches; change the filter or esc.", markup=False)
            return
        self.dismiss(self.shown[index])

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
