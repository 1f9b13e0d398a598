"""The composer: a public reply or an internal note, and a draft that is never lost."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

Mode = Literal["reply", "note"]

COMPOSE = Binding.Group("Compose")


@dataclass
class Draft:
    """What an agent is writing on one ticket, kept while the app runs."""

    mode: Mode
    text: str = ""


class Composer(Vertical):
    """Writes a reply (seen by the customer) or an internal note (never shown to them).

    The text area holds the draft; the screen that owns the composer sends
    it (``Composer.Send``) and calls :meth:`sent` once the backend took it.
    A refused send leaves the text exactly as typed. ``escape`` hides the
    composer and keeps the draft; ``ctrl+e`` edits it in ``$EDITOR``.
    """

    DEFAULT_CSS: ClassVar[str] = """
    Composer {
        height: auto;
        max-height: 50%;
        border-top: solid $primary;
        padding: 0 1;
        display: none;
    }
    Composer.-open { display: block; }
    Composer.-note { border-top: solid $warning; }
    Composer > #composer-title { color: $text-muted; }
    Composer.-note > #composer-title { color: $warning; }
    Composer > #composer-banner {
        display: none;
        background: $error 20%;
        color: $text;
        padding: 0 1;
    }
    Composer > #composer-banner.-shown { display: block; }
    Composer > TextArea { height: auto; min-height: 5; max-height: 20; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", id="composer.send", group=COMPOSE, priority=True),
        Binding("ctrl+e", "external_editor", "Edit in $EDITOR", id="composer.editor",
                group=COMPOSE, priority=True),
        Binding("ctrl+t", "toggle_mode", "Reply/note", id="composer.toggle", group=COMPOSE,
                priority=True),
        Binding("escape", "close", "Hide (keeps draft)", id="composer.close", group=COMPOSE,
                priority=True),
    ]

    class Send(Message):
        """The agent asked to send the draft."""

        def __init__(self, composer: Composer, draft: Draft) -> None:
            super().__init__()
            self.composer = composer
            self.draft = draft

        @property
        def control(self) -> Composer:
            return self.composer

    class Closed(Message):
        """The composer was hidden; the draft stays in :attr:`Composer.draft`."""

        def __init__(self, composer: Composer) -> None:
            super().__init__()
            self.composer = composer

        @property
        def control(self) -> Composer:
            return self.composer

    class Writing(Message):
        """The draft went from empty to written, or back: others may want to know."""

        def __init__(self, composer: Composer, writing: bool) -> None:
            super().__init__()
            self.composer = composer
            self.writing = writing

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(self, draft: Draft | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.draft = draft or Draft(mode="reply")
        self.sending = False

    def compose(self) -> ComposeResult:
        yield Static(id="composer-title")
        yield Static(id="composer-banner")
        yield TextArea(self.draft.text, id="composer-text", soft_wrap=True,
                       show_line_numbers=False)

    def on_mount(self) -> None:
        self._show_mode()

    @property
    def area(self) -> TextArea:
        return self.query_one("#composer-text", TextArea)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    # -- what the screen calls ---------------------------------------------
    def open(self, mode: Mode) -> None:
        """Show the composer in ``mode``, with the draft as it was left."""
        self.draft.mode = mode
        self._show_mode()
        self.add_class("-open")
        self.area.focus()

    def use_draft(self, draft: Draft) -> None:
        """Write ``draft`` from now on (another ticket's); the composer closes."""
        self.draft = draft
        self.sending = False
        self.area.load_text(draft.text)
        self.area.move_cursor(self.area.document.end)
        self.hide_banner()
        self.remove_class("-open")
        self._show_mode()

    def add_text(self, text: str) -> None:
        """Append ``text`` to the draft (a blank line apart) and put the cursor after it."""
        current = self.area.text
        joined = f"{current.rstrip()}\n\n{text}" if current.strip() else text
        self.area.load_text(joined)
        self.area.move_cursor(self.area.document.end)
        self.draft.text = joined

    def sent(self) -> None:
        """The backend took the draft: start a fresh one."""
        self.sending = False
        self.draft.text = ""
        self.area.load_text("")
        self.hide_banner()
        self.remove_class("-open")

    def refused(self, banner: str) -> None:
        """Sending failed: say why above the text, keep every character of it."""
        self.sending = False
        banner_widget = self.query_one("#composer-banner", Static)
        banner_widget.update(Text(banner))
        banner_widget.add_class("-shown")
        self.add_class("-open")
        self.area.focus()

    def hide_banner(self) -> None:
        self.query_one("#composer-banner", Static).remove_class("-shown")

    # -- actions -------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        was = bool(self.draft.text.strip())
        self.draft.text = event.text_area.text
        now = bool(self.draft.text.strip())
        if was != now:
            self.post_message(self.Writing(self, now))

    def action_send(self) -> None:
        """Send the draft (the screen decides what that means and reports back)."""
        if self.sending:
            return
        self.draft.text = self.area.text
        if not self.draft.text.strip():
            self.app.notify("Nothing to send yet.", markup=False)
            return
        self.sending = True
        self.post_message(self.Send(self, self.draft))

    def action_close(self) -> None:
        """Hide the composer; the draft stays and comes back with r or n."""
        self.draft.text = self.area.text
        self.remove_class("-open")
        self.post_message(self.Closed(self))

    def action_toggle_mode(self) -> None:
        """Switch between a public reply and an internal note."""
        self.draft.mode = "note" if self.draft.mode == "reply" else "reply"
        self._show_mode()

    def action_external_editor(self) -> None:
        """Edit the draft in ``$VISUAL``/``$EDITOR`` with the app suspended."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.app.notify("Set $EDITOR (or $VISUAL) to write in your own editor.",
                            markup=False)
            return
        with tempfile.TemporaryDirectory(prefix="agent-tui-draft-") as tmp:
            path = Path(tmp) / "draft.txt"
            path.write_text(self.area.text, encoding="utf-8")
            try:
                with self.app.suspend():
                    result = subprocess.run([*shlex.split(editor), str(path)], check=False)
            except Exception as exc:  # SuspendNotSupported, a missing editor binary
                self.app.notify(f"Could not run {editor}: {exc}", severity="error",
                                markup=False)
                return
            if result.returncode != 0:
                self.app.notify(f"{editor} exited with {result.returncode}; draft unchanged.",
                                severity="warning", markup=False)
                return
            text = path.read_text(encoding="utf-8", errors="replace")
        self.area.load_text(text)
        self.draft.text = text
        self.area.focus()

    def _show_mode(self) -> None:
        note = self.draft.mode == "note"
        self.set_class(note, "-note")
        title = ("Internal note — only agents see this" if note
                 else "Reply to the customer")
        self.query_one("#composer-title", Static).update(
            Text(f"{title}   ctrl+s send · ctrl+t reply/note · ctrl+e $EDITOR · esc hide"))
