"""One ticket: header and thread, read-only for now, plus "take" and "next status"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer
from textual.worker import Worker

from agent_tui.backend import Conflict, Status, TicketDetail, TicketUpdate
from screens.base import BackendScreen, Session, TicketsChanged
from widgets.status_bar import StatusBar
from widgets.thread import Thread
from widgets.ticket_header import TicketHeader

#: What "next status" (S) moves a ticket to. A closed ticket cannot change;
#: asking for "open" lets the backend say so in its own words.
NEXT_STATUS: dict[Status, Status] = {
    Status.NEW: Status.OPEN,
    Status.OPEN: Status.PENDING,
    Status.PENDING: Status.ON_HOLD,
    Status.ON_HOLD: Status.SOLVED,
    Status.SOLVED: Status.OPEN,
    Status.CLOSED: Status.OPEN,
}

NAV = Binding.Group("Move")
ACT = Binding.Group("Ticket")


def _event_version(diff: dict[str, object]) -> int | None:
    after = diff.get("after")
    if isinstance(after, dict):
        version = after.get("version")
        if isinstance(version, int):
            return version
    return None


class TicketScreen(BackendScreen):
    """A ticket's header and conversation.

    Writes send the version on screen as ``expected_version``: if somebody
    saved the ticket in between, the backend refuses with ``Conflict`` and
    the screen says who, then reloads. Changes seen on the live feed are
    announced, not applied under the agent's eyes; ``r`` reloads.
    """

    CSS_PATH = "ticket.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="ticket.back", group=NAV),
        Binding("j", "scroll_down", "Scroll down", id="ticket.scroll_down", group=NAV),
        Binding("k", "scroll_up", "Scroll up", id="ticket.scroll_up", group=NAV),
        Binding("t", "take", "Take", id="ticket.take", group=ACT),
        Binding("S", "cycle_status", "Next status", id="ticket.cycle_status", group=ACT),
        Binding("r", "reload", "Reload", id="ticket.reload", group=ACT),
    ]

    class Loaded(Message):
        """The ticket as the backend has it now; ``done`` says what just happened."""

        def __init__(self, ticket: TicketDetail, done: str = "") -> None:
            super().__init__()
            self.ticket = ticket
            self.done = done

    def __init__(self, session: Session, ticket_id: int) -> None:
        super().__init__(session)
        self.ticket_id = ticket_id
        self.ticket: TicketDetail | None = None

    def compose(self) -> ComposeResult:
        yield TicketHeader(id="header")
        yield Thread(id="thread")
        me = self.session.me
        yield StatusBar(login=me.login, role=me.role.value, location=self.session.location,
                        view=f"ticket #{self.ticket_id}")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Thread).focus()
        self._load()

    # -- workers ---------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _load(self) -> None:
        self.post_message(self.Loaded(await self.backend.get_ticket(self.ticket_id)))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _take(self, version: int) -> None:
        ticket = await self.backend.assign(self.ticket_id, self.session.me.login,
                                           expected_version=version)
        self.post_message(self.Loaded(ticket, done=f"#{ticket.id} is yours"))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _set_status(self, status: Status, version: int) -> None:
        ticket = await self.backend.update_ticket(self.ticket_id, TicketUpdate(status=status),
                                                  expected_version=version)
        label = ticket.status.value.replace("_", " ")
        self.post_message(self.Loaded(ticket, done=f"#{ticket.id} is now {label}"))

    # -- handlers --------------------------------------------------------
    async def on_ticket_screen_loaded(self, message: TicketScreen.Loaded) -> None:
        self.ticket = message.ticket
        self.query_one(TicketHeader).show(message.ticket)
        await self.query_one(Thread).show(message.ticket.messages)
        if message.done:
            self.notify(message.done, markup=False)

    def worker_failed(self, worker: Worker[object], error: BaseException | None) -> bool:
        if isinstance(error, Conflict):
            who = error.changed_by or "someone"
            self.notify(f"#{self.ticket_id} was changed by {who} (now version "
                        f"{error.current_version}); reloaded, nothing was saved. "
                        "Check it and try again.",
                        title="Conflict", severity="warning", markup=False, timeout=10)
            self._load()
            return True
        return False

    def on_tickets_changed(self, message: TicketsChanged) -> None:
        if self.ticket is None or self.ticket_id not in message.ticket_ids:
            return
        newer = [e for e in message.events if e.entity_id == self.ticket_id
                 and (_event_version(e.diff) or 0) > self.ticket.version]
        if newer:
            last = newer[-1]
            self.query_one(TicketHeader).set_notice(
                f"Changed by {last.actor} since you opened it "
                f"(version {_event_version(last.diff)}): press r to reload.")

    # -- actions ---------------------------------------------------------
    def action_back(self) -> None:
        """Return to the queue."""
        self.dismiss()

    def action_scroll_down(self) -> None:
        self.query_one(Thread).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one(Thread).scroll_up(animate=False)

    def action_reload(self) -> None:
        """Fetch the ticket again."""
        self._load()

    def action_take(self) -> None:
        """Assign the ticket to me."""
        if self.ticket is None:
            self.notify("The ticket is still loading.", markup=False)
            return
        if self.ticket.assignee == self.session.me.login:
            self.notify(f"#{self.ticket_id} is already yours.", markup=False)
            return
        self._take(self.ticket.version)

    def action_cycle_status(self) -> None:
        """Move the ticket to the next status: open → pending → on hold → solved → open."""
        if self.ticket is None:
            self.notify("The ticket is still loading.", markup=False)
            return
        self._set_status(NEXT_STATUS[self.ticket.status], self.ticket.version)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("ticket: take", "Assign this ticket to me", self.action_take)
        yield SystemCommand("ticket: next status", "open → pending → on hold → solved",
                            self.action_cycle_status)
        yield SystemCommand("ticket: reload", "Fetch this ticket again", self.action_reload)
        yield SystemCommand("ticket: back", "Return to the queue", self.action_back)
