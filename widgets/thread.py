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
from widgets.relative_time import clock

KIND_LABELS: dict[AuthorKind, str] = {
    AuthorKind.CUSTOMER: "customer",
    AuthorKind.AGENT: "agent",
    AuthorKind.BOT: "bot",
    AuthorKind.SYSTEM: "system",
}


class MessageCard(Static):
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


class Thread(VerticalScroll):
    """The messages of one ticket, oldest first, scrolled to the newest."""

    DEFAULT_CSS: ClassVar[str] = """
    Thread {
        height: 1fr;
        padding: 1 1 0 1;
    }
    Thread > .thread--empty { color: $text-muted; }
    """

    def __init__(self, messages: Sequence[MessageView] | None = None, *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        #: Messages known before mounting: composed with the thread, so the
        #: first layout is the final one (no empty frame, no re-layout).
        self._initial = messages

    def compose(self) -> ComposeResult:
        if self._initial is None:
            return
        now = datetime.now(UTC)
        yield from self._cards(self._initial, now)
        if not self._initial:
            yield self._empty()
        self._initial = None

    def on_mount(self) -> None:
        self.anchor()

    @staticmethod
    def _cards(messages: Sequence[MessageView], now: datetime) -> list[MessageCard]:
        return [MessageCard(m, now=now) for m in messages]

    @staticmethod
    def _empty() -> Static:
        return Static("No messages yet.", classes="thread--empty")

    async def show(self, messages: Sequence[MessageView], *, now: datetime | None = None) -> None:
        """Replace the shown messages; keep the cards of messages already shown."""
        now = now or datetime.now(UTC)
        shown = [card.message.id for card in self.query_children(MessageCard)]
        wanted = [m.id for m in messages]
        if shown and wanted[: len(shown)] == shown:
            # The usual change is new messages at the end: mount only those.
            new = self._cards(messages[len(shown):], now)
        else:
            await self.remove_children()
            new = self._cards(messages, now)
            if not messages:
                await self.mount(self._empty())
        if new:
            await self.mount_all(new)
            self.anchor()  # stays at the newest as the cards are laid out, no extra frame
