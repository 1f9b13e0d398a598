"""The ``:`` command line: the CLI's words, typed where the agent is.

``:assign alice``, ``:status pending``, ``:view unassigned``, ``:open 1234``.
Each screen offers its own verbs (:meth:`BackendScreen.commands`); the app
adds a few that work everywhere. A verb may be shortened to any unambiguous
prefix (``:st pending``). An unknown verb or a bad argument is answered in
words, with the verbs that would work here.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

#: A verb's handler gets the words after the verb; it returns None when done
#: or a sentence saying why it could not.
Handler = Callable[[list[str]], "str | None"]


@dataclass(frozen=True)
class Command:
    """One verb of the command line."""

    handler: Handler
    usage: str  # e.g. "status STATUS"
    help: str


def split_line(line: str) -> list[str]:
    """Words of a command line; quotes group words, an unbalanced quote is forgiven."""
    line = line.strip().removeprefix(":").strip()
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def resolve(verb: str, commands: Mapping[str, Command]) -> tuple[str | None, str | None]:
    """The full verb for ``verb`` (exact, else a unique prefix), or an error sentence."""
    verb = verb.lower()
    if verb in commands:
        return verb, None
    matches = sorted(v for v in commands if v.startswith(verb))
    if len(matches) == 1:
        return matches[0], None
    if matches:
        return None, f":{verb} could be {', '.join(':' + m for m in matches)}"
    known = ", ".join(":" + v for v in sorted(commands))
    return None, f"no command :{verb} here; try {known}"


def run_line(line: str, commands: Mapping[str, Command]) -> str | None:
    """Run one line against ``commands``; None when it ran, else what went wrong."""
    words = split_line(line)
    if not words:
        return None
    verb, error = resolve(words[0], commands)
    if verb is None:
        return error
    return commands[verb].handler(words[1:])


class CommandLineScreen(ModalScreen[str | None]):
    """One line at the bottom of the screen; enter runs it, esc cancels."""

    DEFAULT_CSS: ClassVar[str] = """
    CommandLineScreen { align: left bottom; background: transparent; }
    CommandLineScreen > Vertical {
        height: auto;
        background: $surface;
        border-top: solid $primary;
    }
    CommandLineScreen #command-help { color: $text-muted; padding: 0 1; }
    CommandLineScreen Input, CommandLineScreen Input:focus {
        border: none; height: 1; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="command.cancel"),
    ]

    def __init__(self, commands: Mapping[str, Command]) -> None:
        super().__init__()
        self.commands = commands

    def compose(self) -> ComposeResult:
        with Vertical():
            usage = "  ".join(f":{c.usage}" for _v, c in sorted(self.commands.items()))
            yield Static(Text(usage), id="command-help")
            yield Input(placeholder=":command — enter runs it, esc cancels", id="command")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
