"""``?``: the keys of the screen you came from, grouped, built from its bindings.

Nothing here is hand-written: a binding added (or remapped with a keymap)
anywhere shows up with its group and description.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


@dataclass
class HelpGroup:
    """A titled list of (keys, description) lines."""

    title: str
    rank: int  # the screen's groups first, then the app's, general keys, widget keys
    lines: dict[str, list[str]] = field(default_factory=dict)  # description -> keys
    ids: dict[str, str] = field(default_factory=dict)  # description -> binding id (keymap)


def _place(node: DOMNode, binding: Binding) -> tuple[str, int]:
    """The group title of a binding and where that group goes in the list."""
    if binding.group is not None:
        return binding.group.description, 0 if isinstance(node, Screen) else 1
    if isinstance(node, Screen | App):
        return "General", 2
    # A widget's own keys (the table's arrows, the thread's scrolling) come last.
    return f"{type(node).__name__} keys", 3


def help_groups(bindings: Iterable[ActiveBinding], app: App[object]) -> list[HelpGroup]:
    """Group active bindings by their ``Binding.Group`` (else by where they are bound).

    Bindings without a description are skipped; keys doing the same thing
    are listed together (``j / down``).
    """
    groups: dict[str, HelpGroup] = {}
    for active in bindings:
        binding = active.binding
        if not binding.description or binding.system:
            continue
        title, rank = _place(active.node, binding)
        group = groups.setdefault(title, HelpGroup(title=title, rank=rank))
        group.rank = min(group.rank, rank)
        keys = group.lines.setdefault(binding.description, [])
        if binding.id:
            group.ids.setdefault(binding.description, binding.id)
        shown = app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return sorted(groups.values(), key=lambda g: g.rank)


def help_text(groups: list[HelpGroup]) -> Text:
    """The help body as plain Text (descriptions are never parsed as markup)."""
    text = Text()
    for i, group in enumerate(groups):
        if i:
            text.append("\n")
        text.append(group.title, style="bold underline")
        text.append("\n")
        for description, keys in group.lines.items():
            text.append(f"  {' / '.join(keys):>10}  ", style="bold")
            text.append(description)
            if description in group.ids:
                text.append(f"  {group.ids[description]}", style="dim")
            text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys of the screen underneath, grouped."""

    DEFAULT_CSS: ClassVar[str] = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > #help-box {
        width: 90;
        max-height: 90%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title {
        text-style: bold;
        color: $text-accent;
        padding-bottom: 1;
    }
    HelpScreen #help-body {
        height: auto;
        max-height: 75vh;
    }
    HelpScreen #help-hint {
        color: $text-muted;
        padding-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close",
                group=Binding.Group("Help")),
        Binding("j", "scroll(1)", "Scroll down", id="help.scroll_down",
                group=Binding.Group("Help")),
        Binding("k", "scroll(-1)", "Scroll up", id="help.scroll_up",
                group=Binding.Group("Help")),
    ]

    def __init__(self, title: str, bindings: Iterable[ActiveBinding]) -> None:
        super().__init__()
        self.title_text = title
        self.bindings = list(bindings)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text(self.title_text), id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_text(help_groups(self.bindings, self.app)), id="help-keys")
            yield Static("escape, q or ? closes; ctrl+p finds any command; the dim names "
                         "are binding ids for keymap.toml", id="help-hint")

    def action_close(self) -> None:
        self.dismiss()

    def action_scroll(self, lines: int) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=lines, animate=False)
