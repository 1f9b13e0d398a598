"""One ticket: header, thread and composer; reply, note, take and "next status"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker

from agent_tui.backend import (
    BackendError,
    Conflict,
    Customer360,
    Presence,
    PresenceState,
    TicketDetail,
)
from screens.base import Session, TicketsChanged, describe_error
from screens.command_line import Command
from screens.customer import CustomerScreen
from screens.heap import settle_after_refresh
from screens.kept import KeptScreen
from screens.reveal import RevealScreen
from screens.ticket_actions import ACTION_BINDINGS
from screens.ticket_commands import ticket_commands
from screens.ticket_fields import FIELD_BINDINGS
from screens.ticket_open import Neighbour, Opening, fetch_opening
from screens.ticket_send import TicketSend
from widgets.composer import Composer, Draft, Mode
from widgets.customer_panel import CustomerPanel
from widgets.key_bar import KeyBar
from widgets.status_bar import StatusBar
from widgets.suggestions import SuggestionPanel
from widgets.thread import Thread
from widgets.ticket_header import TicketHeader

#: How often the screen says "I am here" and looks who else is; well inside the
#: backend's presence TTL (45 s), so a closed terminal drops off soon after.
PRESENCE_BEAT = 10.0
#: The first beat on a ticket waits this long, so its database write and read do
#: not compete with drawing the ticket (a few ms of CPU of each opening); other
#: agents see the presence a fifth of a second later, well inside their polling.
PRESENCE_FIRST = 0.2

NAV = Binding.Group("Move")

ACT = Binding.Group("Ticket")
CUST = Binding.Group("Customer")


def _event_version(diff: dict[str, object]) -> int | None:
    after = diff.get("after")
    if isinstance(after, dict):
        version = after.get("version")
        if isinstance(version, int):
            return version
    return None


class TicketScreen(TicketSend, KeptScreen):
    """A ticket's header and conversation.

    Writes send the version on screen as ``expected_version``: if somebody
    saved the ticket in between, the backend refuses with ``Conflict`` and
    the screen says who, then reloads. Changes seen on the live feed are
    announced, not applied under the agent's eyes; ``R`` reloads. Replies and
    notes are written in the composer; a refused send keeps the draft as typed.
    """

    CSS_PATH = "ticket.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="ticket.back", group=NAV),
        Binding("j", "scroll_down", "Scroll down", id="ticket.scroll_down", group=NAV),
        Binding("k", "focus_knowledge", "Knowledge", id="ticket.knowledge", group=NAV),
        Binding("right_square_bracket", "step(1)", "Next ticket", id="ticket.next", group=NAV,
                key_display="]"),
        Binding("left_square_bracket", "step(-1)", "Previous ticket", id="ticket.previous",
                group=NAV, key_display="["),
        Binding("r", "compose('reply')", "Reply", id="ticket.reply", group=ACT),
        Binding("n", "compose('note')", "Note", id="ticket.note", group=ACT),
        Binding("R", "reload", "Reload", id="ticket.reload", group=ACT),
        Binding("c", "toggle_customer", "Customer 360", id="ticket.customer", group=CUST),
        Binding("C", "customer_screen", "Customer (full)", id="ticket.customer_full",
                group=CUST),
        Binding("v", "reveal", "Reveal", id="ticket.reveal", group=CUST),
        *FIELD_BINDINGS,
        *ACTION_BINDINGS,
    ]

    class Loaded(Message):
        """The ticket as the backend has it now; ``done`` says what just happened."""

        def __init__(self, ticket: TicketDetail, done: str = "", *, sent: bool = False) -> None:
            super().__init__()
            self.ticket = ticket
            self.done = done
            self.sent = sent  # the composer's draft went out with this change

    class Opened(Message):
        """The ticket with its 360 and suggestions, fetched together (screens.ticket_open)."""

        def __init__(self, opening: Opening) -> None:
            super().__init__()
            self.opening = opening

    class CustomerLoaded(Message):
        """The 360 of the ticket's customer."""

        def __init__(self, data: Customer360) -> None:
            super().__init__()
            self.data = data

    class PresenceSeen(Message):
        """Other agents on this ticket now (None: the backend could not say)."""

        def __init__(self, others: list[Presence] | None) -> None:
            super().__init__()
            self.others = others

    def __init__(self, session: Session, ticket_id: int, *,
                 customer_id: int | None = None, neighbour: Neighbour | None = None,
                 opening: Opening | None = None) -> None:
        super().__init__(session)
        self.ticket_id = ticket_id
        self.customer_hint = customer_id  # from the queue row: the 360 need not wait
        self.neighbour = neighbour  # the queue's next/previous row, when opened from it
        #: Fetched before the screen opened (OpensTickets): composed in, not loaded.
        self.opening = opening
        self.ticket: TicketDetail | None = None
        self._presence_timer: Timer | None = None

    def _post_loaded(self, ticket: TicketDetail, done: str, *, sent: bool = False) -> None:
        self.post_message(self.Loaded(ticket, done=done, sent=sent))

    def compose(self) -> ComposeResult:
        yield TicketHeader(id="header")
        with Horizontal(id="workspace"):
            yield Thread(self.opening.ticket.messages if self.opening else None, id="thread")
            with Vertical(id="side"):
                yield CustomerPanel(id="customer")
                yield SuggestionPanel(id="knowledge")
        draft = self.session.drafts.setdefault(self.ticket_id, Draft(mode="reply"))
        yield Composer(draft, id="composer")
        me = self.session.me
        yield StatusBar(login=me.login, role=me.role.value, location=self.session.location,
                        view=f"ticket #{self.ticket_id}")
        yield KeyBar()

    def on_mount(self) -> None:
        self._focus_draft()
        if self.opening is not None:
            # Shown before the first layout: the screen's first frame is complete.
            self._fill(self.opening)
            self.opening = None  # the screen keeps what it shows, not what it opened with
        else:
            self._open()
        if self.is_current:  # not when built off screen (OpensTickets.prepare_workspace)
            self._announce()
        settle_after_refresh(self.app, "workspace")

    def _focus_draft(self) -> None:
        self.query_one(Thread).focus()
        composer = self.query_one(Composer)
        if composer.draft.text.strip():
            # An unsent draft from an earlier visit: show it where it was left.
            composer.open(composer.draft.mode)

    # -- one workspace for every ticket ----------------------------------
    #: Worker groups that belong to the ticket on screen: a switch cancels them, so
    #: nothing fetched for the last ticket lands on the next. A send is let finish
    #: (its draft must not be sent twice); its result names its ticket.
    TICKET_GROUPS: ClassVar[tuple[str, ...]] = (
        "ticket", "customer", "presence", "kb", "kb-article", "pickers")

    class Switch(Message):
        """Show another ticket in this workspace (see :meth:`switch_to`)."""

        def __init__(self, opening: Opening, neighbour: Neighbour | None, show: bool,
                     replace: bool) -> None:
            super().__init__()
            self.opening = opening
            self.neighbour = neighbour
            self.show = show
            self.replace = replace

    def switch_to(self, opening: Opening, neighbour: Neighbour | None, *,
                  show: bool = False, replace: bool = False) -> None:
        """Show ``opening`` here instead of the ticket shown (``show``: then put it on screen).

        Building a workspace is most of what opening a ticket costs, so the app
        keeps one and refills it. The last ticket's workers stop now; what they
        already posted is handled before the switch, which is itself a message.
        """
        for group in self.TICKET_GROUPS:
            self.workers.cancel_group(self, group)
        self.post_message(self.Switch(opening, neighbour, show, replace))

    async def on_ticket_screen_switch(self, message: TicketScreen.Switch) -> None:
        opening = message.opening
        with self.app.batch_update():
            self.ticket_id = opening.ticket.id
            self.neighbour = message.neighbour
            self.customer_hint = None
            self.query_one(TicketHeader).set_presence([])
            self.query_one(StatusBar).view = f"ticket #{self.ticket_id}"
            self.query_one(Composer).use_draft(
                self.session.drafts.setdefault(self.ticket_id, Draft(mode="reply")))
            await self._show_opening(opening)
            self._focus_draft()
        if message.show and not self.is_current:
            if message.replace:
                self.app.switch_screen(self)
            else:
                self.app.push_screen(self)
        self._announce()

    # -- workers ---------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _open(self) -> None:
        self.post_message(self.Opened(
            await fetch_opening(self.backend, self.ticket_id, self.customer_hint)))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _load(self) -> None:
        self.post_message(self.Loaded(await self.backend.get_ticket(self.ticket_id)))

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def _load_customer(self, customer_id: int, reason: str | None = None) -> None:
        if reason is None:
            data = await self.backend.get_360(customer_id)
        else:
            data = await self.backend.reveal_customer(customer_id, reason)
        self.post_message(self.CustomerLoaded(data))

    @work(exclusive=True, exit_on_error=False, group="presence")
    async def _beat(self, state: PresenceState) -> None:
        try:
            await self.backend.set_presence(self.ticket_id, state)
            others = await self.backend.presence([self.ticket_id])
        except BackendError:
            others = None  # presence is a courtesy: never an error on screen
        self.post_message(self.PresenceSeen(others))

    def _announce(self) -> None:
        """The first beat on a ticket just opened: once it is drawn (PRESENCE_FIRST)."""
        if self._presence_timer is not None:
            self._presence_timer.stop()
        self._presence_timer = self.set_timer(PRESENCE_FIRST, self._presence_tick)

    def _presence_tick(self) -> None:
        composer = self.query_one(Composer)
        writing = composer.is_open and bool(composer.draft.text.strip())
        self._beat(PresenceState.COMPOSING if writing else PresenceState.VIEWING)

    def on_ticket_screen_presence_seen(self, message: TicketScreen.PresenceSeen) -> None:
        if message.others is not None:
            self.query_one(TicketHeader).set_presence(
                [p for p in message.others if p.ticket_id == self.ticket_id])
        # Re-arm one timer per beat: beats never pile up behind a slow backend.
        if self._presence_timer is not None:
            self._presence_timer.stop()
        if self not in self.app.screen_stack:
            # Back at the queue (the workspace is kept for the next ticket): no beat.
            return
        self._presence_timer = self.set_timer(PRESENCE_BEAT, self._presence_tick)

    # -- handlers --------------------------------------------------------
    async def on_ticket_screen_opened(self, message: TicketScreen.Opened) -> None:
        await self._show_opening(message.opening)

    async def _show_opening(self, opening: Opening) -> None:
        with self.app.batch_update():
            await self.query_one(Thread).show(opening.ticket.messages)
            self._fill(opening)

    def _fill(self, opening: Opening) -> None:
        """Show an opening's ticket header, 360 and suggestions (the thread is shown)."""
        self.ticket = opening.ticket
        self.query_one(TicketHeader).show(opening.ticket)
        if isinstance(opening.customer, BaseException):
            self.query_one(CustomerPanel).show_error(
                f"The customer could not be loaded ({describe_error(opening.customer)}):"
                " R reloads.")
        else:
            self.query_one(CustomerPanel).show(opening.customer, current_ticket=self.ticket_id)
        if isinstance(opening.found, BaseException):
            self._suggest("")  # one more try on its own; its failure is then reported
        else:
            self.query_one(SuggestionPanel).show(opening.found, query="")

    async def on_ticket_screen_loaded(self, message: TicketScreen.Loaded) -> None:
        if message.ticket.id != self.ticket_id:
            # A send that finished after the agent moved on to another ticket.
            if message.sent and (draft := self.session.drafts.get(message.ticket.id)):
                draft.text = ""
            if message.done:
                self.notify(message.done, markup=False)
            return
        first = self.ticket is None
        grew = not first and self.ticket is not None and (
            len(message.ticket.messages) != len(self.ticket.messages))
        self.ticket = message.ticket
        if first or message.sent:
            self._load_customer(message.ticket.customer_id)
        if first or grew:
            self._suggest(self.query_one(SuggestionPanel).query_text)
        self.query_one(TicketHeader).show(message.ticket)
        await self.query_one(Thread).show(message.ticket.messages)
        if message.sent:
            self.query_one(Composer).sent()
            self.query_one(Thread).focus()
        if message.done:
            self.notify(message.done, markup=False)

    def on_ticket_screen_customer_loaded(self, message: TicketScreen.CustomerLoaded) -> None:
        self.query_one(CustomerPanel).show(message.data, current_ticket=self.ticket_id)

    def focus_thread(self) -> None:
        self.query_one(Thread).focus()

    def on_composer_closed(self, message: Composer.Closed) -> None:
        self.query_one(Thread).focus()
        self._presence_tick()

    def on_composer_writing(self, message: Composer.Writing) -> None:
        # The first characters of a draft tell the others at once that I am writing.
        self._presence_tick()

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
                f"(version {_event_version(last.diff)}): press R to reload.")

    # -- actions ---------------------------------------------------------
    def action_back(self) -> None:
        """Return to the queue."""
        if self._presence_timer is not None:
            self._presence_timer.stop()
        self.workers.cancel_group(self, "presence")
        backend = self.backend
        self.app.run_worker(backend.set_presence(None, None), exit_on_error=False,
                            group="presence-leave")
        self.dismiss()

    def action_step(self, step: int) -> None:
        """The next (1) or previous (-1) ticket of the queue, without going back to it.

        The draft of this ticket stays in the session: coming back finds it.
        """
        target = self.neighbour(self.ticket_id, step) if self.neighbour else None
        if target is None:
            where = "next" if step > 0 else "previous"
            self.notify(f"No {where} ticket in the queue here." if self.neighbour
                        else "Open a ticket from the queue to move between tickets.",
                        markup=False)
            return
        ticket_id, customer_id = target
        self.open_workspace(ticket_id, customer_id=customer_id, neighbour=self.neighbour,
                            replace=True)

    def action_scroll_down(self) -> None:
        self.query_one(Thread).scroll_down(animate=False)

    def action_compose(self, mode: Mode) -> None:
        """Write a reply to the customer (r) or an internal note (n)."""
        self.query_one(Composer).open(mode)

    def action_toggle_customer(self) -> None:
        """Show or hide the customer 360 beside the thread."""
        panel = self.query_one(CustomerPanel)
        panel.display = not panel.display

    def action_customer_screen(self) -> None:
        """Open the customer 360 as a whole screen."""
        if self.ticket is not None:
            self.app.push_screen(CustomerScreen(self.session, self.ticket.customer_id,
                                                current_ticket=self.ticket_id))

    def action_reveal(self) -> None:
        """Ask why, then show this customer's masked personal data (an audited event)."""
        data = self.query_one(CustomerPanel).data
        if self.ticket is None or data is None or not data.masked:
            self.notify("Nothing is masked here.", markup=False)
            return
        customer_id = self.ticket.customer_id

        def done(reason: str | None) -> None:
            if reason:
                self._load_customer(customer_id, reason)

        self.app.push_screen(RevealScreen(data.customer.name), done)

    def action_reload(self) -> None:
        """Fetch the ticket and its customer again."""
        self._load()
        if self.ticket is not None:
            self._load_customer(self.ticket.customer_id)

    def commands(self) -> dict[str, Command]:
        return ticket_commands(self)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("ticket: reply", "Write a reply to the customer",
                            lambda: self.action_compose("reply"))
        yield SystemCommand("ticket: note", "Write an internal note",
                            lambda: self.action_compose("note"))
        yield from self.field_commands()
        yield from self.action_commands()
        yield SystemCommand("ticket: reload", "Fetch this ticket again", self.action_reload)
        yield SystemCommand("customer: 360", "Show or hide the customer beside the thread",
                            self.action_toggle_customer)
        yield SystemCommand("customer: open", "The customer 360 as a whole screen",
                            self.action_customer_screen)
        yield SystemCommand("customer: reveal", "Show masked personal data (asks why)",
                            self.action_reveal)
        yield SystemCommand("ticket: back", "Return to the queue", self.action_back)
