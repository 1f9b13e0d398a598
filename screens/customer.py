"""The customer 360 as a whole screen: profile, identities, orders, tickets, ratings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message

from agent_tui.backend import Customer360
from screens.base import BackendScreen, Session
from screens.reveal import RevealScreen
from widgets.customer_panel import CustomerPanel
from widgets.key_bar import KeyBar
from widgets.status_bar import StatusBar

CUSTOMER = Binding.Group("Customer")


class CustomerScreen(BackendScreen):
    """One customer's 360, full width; ``v`` reveals masked data after asking why."""

    DEFAULT_CSS: ClassVar[str] = """
    CustomerScreen CustomerPanel { height: 1fr; border-left: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="customer.back", group=CUSTOMER),
        Binding("v", "reveal", "Reveal", id="customer.reveal", group=CUSTOMER),
        Binding("j", "scroll_down", "Scroll down", id="customer.scroll_down", group=CUSTOMER),
        Binding("k", "scroll_up", "Scroll up", id="customer.scroll_up", group=CUSTOMER),
    ]

    class Loaded(Message):
        def __init__(self, data: Customer360) -> None:
            super().__init__()
            self.data = data

    def __init__(self, session: Session, customer_id: int, *,
                 current_ticket: int | None = None) -> None:
        super().__init__(session)
        self.customer_id = customer_id
        self.current_ticket = current_ticket
        self.data: Customer360 | None = None

    def compose(self) -> ComposeResult:
        yield CustomerPanel(id="customer")
        me = self.session.me
        yield StatusBar(login=me.login, role=me.role.value, location=self.session.location,
                        view=f"customer #{self.customer_id}")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(CustomerPanel).focus()
        self._load()

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def _load(self) -> None:
        self.post_message(self.Loaded(await self.backend.get_360(self.customer_id)))

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def _reveal(self, reason: str) -> None:
        self.post_message(self.Loaded(await self.backend.reveal_customer(self.customer_id,
                                                                         reason)))

    def on_customer_screen_loaded(self, message: CustomerScreen.Loaded) -> None:
        self.data = message.data
        self.query_one(CustomerPanel).show(message.data, current_ticket=self.current_ticket)

    def action_back(self) -> None:
        self.dismiss()

    def action_scroll_down(self) -> None:
        self.query_one(CustomerPanel).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one(CustomerPanel).scroll_up(animate=False)

    def action_reveal(self) -> None:
        """Ask for a reason, then show the unmasked 360 (an audited event)."""
        if self.data is None or not self.data.masked:
            self.notify("Nothing is masked here.", markup=False)
            return

        def done(reason: str | None) -> None:
            if reason:
                self._reveal(reason)

        self.app.push_screen(RevealScreen(self.data.customer.name), done)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("customer: reveal", "Show masked personal data (asks why)",
                            self.action_reveal)
        yield SystemCommand("customer: back", "Return to the ticket", self.action_back)
