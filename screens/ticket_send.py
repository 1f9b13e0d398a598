"""Sending the composer's draft: a reply or a note, refused without losing a character."""

from __future__ import annotations

from textual import work
from textual.message import Message

from agent_tui.backend import Conflict, TicketDetail
from screens.changes import describe_changes
from screens.ticket_actions import TicketActions
from widgets.composer import Composer, Mode
from widgets.thread import Thread
from widgets.ticket_header import TicketHeader


class TicketSend(TicketActions):
    """Base of :class:`~screens.ticket.TicketScreen`: the draft goes out from here.

    A send names its ticket: the workspace may show another one by the time
    the backend answers (next/previous ticket), and the answer must land on
    the draft it belongs to, never on the one now in the composer.
    """

    class SendRefused(Message):
        """The backend refused a draft; ``fresh`` is the ticket as it is now, if known."""

        def __init__(self, ticket_id: int, reason: str, fresh: TicketDetail | None) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.reason = reason
            self.fresh = fresh

    # Not exclusive: a send to one ticket never cancels a send to another
    # (the composer itself refuses a second send of the same draft).
    @work(exit_on_error=False, group="send")
    async def _send(self, ticket_id: int, mode: Mode, text: str, version: int) -> None:
        send = self.backend.reply if mode == "reply" else self.backend.note
        try:
            ticket = await send(ticket_id, text, expected_version=version)
        except Conflict as conflict:
            who = conflict.changed_by or "someone"
            try:
                fresh: TicketDetail | None = await self.backend.get_ticket(ticket_id)
            except Exception:
                fresh = None
            what = ""
            if fresh is not None and self.ticket is not None and self.ticket.id == ticket_id:
                what = "; ".join(describe_changes(self.ticket, fresh))
            self.post_message(self.SendRefused(
                ticket_id,
                f"Not sent: {who} changed #{ticket_id} while you were writing"
                f"{' (' + what + ')' if what else ''}. The thread is updated and your "
                "draft is kept as you wrote it: read it, then ctrl+s to send.", fresh))
            return
        except Exception as error:
            self.post_message(self.SendRefused(
                ticket_id, f"Not sent: {error}. Your draft is kept; ctrl+s to try again.",
                None))
            return
        label = "Reply sent" if mode == "reply" else "Note added"
        self._post_loaded(ticket, f"{label} on #{ticket.id}", sent=True)

    async def on_ticket_send_send_refused(self, message: TicketSend.SendRefused) -> None:
        if message.ticket_id != self.ticket_id:
            # The agent has moved to another ticket: that draft stays in the session.
            self.notify(message.reason, title="Not sent", severity="warning", markup=False,
                        timeout=10)
            return
        if message.fresh is not None:
            self.ticket = message.fresh
            self.query_one(TicketHeader).show(message.fresh)
            await self.query_one(Thread).show(message.fresh.messages)
        self.query_one(Composer).refused(message.reason)

    def on_composer_send(self, message: Composer.Send) -> None:
        if self.ticket is None:
            message.composer.refused("The ticket is still loading; ctrl+s again in a moment.")
            return
        self._send(self.ticket_id, message.draft.mode, message.draft.text, self.ticket.version)
