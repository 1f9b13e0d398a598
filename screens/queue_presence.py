"""The queue's presence markers: who else has a ticket of this page open."""

from __future__ import annotations

from textual import work
from textual.message import Message
from textual.timer import Timer

from agent_tui.backend import BackendError, Presence
from screens.base import Session
from screens.ticket_open import OpensTickets
from widgets.ticket_table import TicketTable

PRESENCE_SECONDS = 10  # how often the page asks who else has its tickets open


class QueuePresence(OpensTickets):
    """Base of the queue screen: polls presence for the rows on screen."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._presence_timer: Timer | None = None

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    class PresenceSeen(Message):
        """Other agents on tickets of this page."""

        def __init__(self, others: list[Presence]) -> None:
            super().__init__()
            self.others = others

    def _arm_presence(self) -> None:
        # One timer, re-armed after each answer: polls never pile up.
        if self._presence_timer is not None:
            self._presence_timer.stop()
        self._presence_timer = self.set_timer(PRESENCE_SECONDS, self._poll_presence)

    def _poll_presence(self) -> None:
        if self.is_active and self.table.ticket_ids:
            self._presence(self.table.ticket_ids)
        else:
            self._arm_presence()

    @work(exclusive=True, exit_on_error=False, group="queue-presence")
    async def _presence(self, ticket_ids: list[int]) -> None:
        try:
            others = await self.backend.presence(ticket_ids)
        except BackendError:
            others = []  # a courtesy, never an error on screen
        self.post_message(self.PresenceSeen(others))

    def on_queue_presence_presence_seen(self, message: QueuePresence.PresenceSeen) -> None:
        self.table.show_presence(message.others)
        self._arm_presence()

