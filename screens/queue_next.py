""""Next ticket" from the queue: the backend's most urgent eligible ticket, with its reason."""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.message import Message

from agent_tui.backend import NextTicket
from screens.queue_presence import QueuePresence

NEXT = Binding.Group("Next")

NEXT_BINDINGS = [
    Binding("n", "next_ticket(True)", "Next ticket", id="queue.next", group=NEXT),
    Binding("N", "next_ticket(False)", "Peek next", id="queue.peek_next", group=NEXT),
]


class QueueNext(QueuePresence):
    """Base of the queue screen: ``n`` takes and opens the next ticket, ``N`` only says it."""

    class NextFound(Message):
        def __init__(self, found: NextTicket | None, take: bool) -> None:
            super().__init__()
            self.found = found
            self.take = take

    @work(exclusive=True, exit_on_error=False, group="next")
    async def _next(self, take: bool) -> None:
        self.post_message(self.NextFound(await self.backend.next_ticket(take=take), take))

    def action_next_ticket(self, take: bool) -> None:
        """Take the most urgent ticket I can work on (n), or just see which it is (N)."""
        self._next(take)

    def on_queue_next_next_found(self, message: QueueNext.NextFound) -> None:
        found = message.found
        if found is None:
            self.notify("Nothing for you right now: no eligible ticket is waiting.",
                        markup=False)
            return
        ticket = found.ticket
        title = f"#{ticket.id} {ticket.subject}"
        if message.take:
            self.notify(found.reason, title=f"Yours: {title}", markup=False, timeout=8)
            self.open_ticket(ticket.id)
        else:
            self.notify(f"{found.reason} — n takes it", title=f"Next: {title}", markup=False,
                        timeout=8)
            self.table.select(ticket.id)

    def open_ticket(self, ticket_id: int) -> None:
        raise NotImplementedError
