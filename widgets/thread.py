"""A ticket's conversation: customer, agent and bot messages; internal notes set apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from agent_tui.backend import AuthorKind, MessageView
from widgets.laid_out import LaidOut
from widgets.relative_time import clock

KIND_LABELS: dict[AuthorKind, str] = {
    AuthorKind.CUSTOMER: "customer",
    AuthorKind.AGENT: "agent",
    AuthorKind.BOT: "bot",
    AuthorKind.SYSTEM: "system",
}


class MessageCard(LaidOut, Static):
    """One message: a header line (author, kind, time) and the body as plain text."""

    DEFAULT_CSS: ClassVar[str] = """
    MessageCard {
        margin: 0 0 1 0;
        padding: 0 1;
        border-left: thick $primary;
    }
    MessageCard.-customer { border-left: thick $secondary; }
    MessageCard.-bot { border-left: thick $success; }
    MessageCard.-note {
        border-left: thick $warning;
        background: $warning 10%;
    }
    """

    def __init__(self, message: MessageView, *, now: datetime) -> None:
        classes = f"-{message.author_kind.value}" + ("" if message.public else " -note")
        super().__init__(self._render_message(message, now), classes=classes)
        self.message = message

    @staticmethod
    def _render_message(message: MessageView, now: datetime) -> Text:
        text = Text()
        text.append(message.author_name, style="bold")  # names are customer text too
        text.append(f"  {KIND_LABELS[message.author_kind]}")
        if not message.public:
            text.append("  INTERNAL NOTE", style="bold reverse")
        text.append(f"  {clock(message.created_at, now)}  via {message.channel.value}",
                    style="dim")
        text.append("\n")
        text.append(message.body)
        return text


#: Messages a thread shows when it opens: the newest. Building a card costs
#: about a millisecond of the ticket's opening, so a 100-message thread in full
#: took ~130 ms; the earlier messages come in batches as the agent scrolls up.
RECENT = 20
EARLIER_BATCH = 20


class Thread(VerticalScroll):
    """The messages of one ticket, oldest first, scrolled to the newest.

    A window over the ticket's messages: the newest :data:`RECENT` on opening,
    a line at the top saying how many came before, and the next
    :data:`EARLIER_BATCH` of them shown each time the agent scrolls to the top,
    the messages being read staying where they are on screen.
    """

    DEFAULT_CSS: ClassVar[str] = """
    Thread {
        height: 1fr;
        padding: 1 1 0 1;
    }
    Thread > .thread--empty { color: $text-muted; }
    Thread > .thread--earlier { color: $text-muted; margin: 0 0 1 0; }
    """

    def __init__(self, messages: Sequence[MessageView] | None = None, *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        #: Messages known before mounting: composed with the thread, so the
        #: first layout is the final one (no empty frame, no re-layout).
        self._initial = messages
        self._messages: list[MessageView] = []  # all of the ticket's, oldest first
        self._first = 0  # index in _messages of the first message shown
        self._earlier = Static(Text(), classes="thread--earlier")
        self._empty = Static(Text("No messages yet."), classes="thread--empty")

    @property
    def hidden_earlier(self) -> int:
        """How many earlier messages are not shown (yet)."""
        return self._first

    def compose(self) -> ComposeResult:
        yield self._earlier
        yield self._empty
        if self._initial is not None:
            yield from self._window(self._initial, datetime.now(UTC))
            self._initial = None
        self._update_notes()

    def on_mount(self) -> None:
        self.anchor()
        self.watch(self, "scroll_y", self._scrolled, init=False)

    def _window(self, messages: Sequence[MessageView], now: datetime) -> list[MessageCard]:
        """Take ``messages`` as the ticket's: the cards of its newest."""
        self._messages = list(messages)
        self._first = max(0, len(self._messages) - RECENT)
        return self._cards(self._messages[self._first:], now)

    @staticmethod
    def _cards(messages: Sequence[MessageView], now: datetime) -> list[MessageCard]:
        return [MessageCard(m, now=now) for m in messages]

    def _update_notes(self) -> None:
        self._empty.display = not self._messages
        self._earlier.display = self._first > 0
        if self._first:
            n = self._first
            self._earlier.update(Text(f"▲ {n} earlier message{'s' if n != 1 else ''}:"
                                      " scroll up to show them"))

    async def show(self, messages: Sequence[MessageView], *, now: datetime | None = None) -> None:
        """Replace the shown messages; keep the cards of messages already shown."""
        now = now or datetime.now(UTC)
        shown = [card.message.id for card in self.query_children(MessageCard)]
        wanted = [m.id for m in messages]
        first = self._first
        if shown and wanted[first:first + len(shown)] == shown:
            # The usual change is new messages at the end: mount only those.
            self._messages = list(messages)
            new = self._cards(self._messages[first + len(shown):], now)
        else:
            await self.remove_children(MessageCard)
            new = self._window(messages, now)
        self._update_notes()
        if new:
            await self.mount_all(new)
            self.anchor()  # stays at the newest as the cards are laid out, no extra frame

    def _scrolled(self, scroll_y: float) -> None:
        if scroll_y <= 0 and self._first > 0:
            self.show_earlier()

    def show_earlier(self) -> None:
        """Show the batch of messages before the first shown, keeping the reading place."""
        cards = list(self.query_children(MessageCard))
        if not self._first or not cards:
            return
        start = max(0, self._first - EARLIER_BATCH)
        new = self._cards(self._messages[start:self._first], datetime.now(UTC))
        reading = cards[0]
        on_screen = reading.virtual_region.y - self.scroll_y  # where it is in the view
        self._first = start
        self._update_notes()
        self.mount_all(new, before=reading)

        def keep_place() -> None:
            self.scroll_to(y=reading.virtual_region.y - on_screen, animate=False,
                           immediate=True)

        self.call_after_refresh(keep_place)
