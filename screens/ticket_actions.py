"""The ticket workspace's actions: macros (m), escalate (e), merge (M), link (L).

A base of :class:`~screens.ticket.TicketScreen`, like the field pickers and
the knowledge side. Every write sends the version on screen as
``expected_version``; a ``Conflict`` is reported and the ticket reloaded by
the screen's one failure handler. A macro's body goes into the composer at
the cursor — a reply composer is opened if none is — and never replaces
what the agent has already written.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.message import Message

from agent_tui.backend import LinkKind, MacroResult, MacroView, Role, TicketDetail
from screens.choose import ChoiceScreen, TextScreen
from screens.macro_picker import MacroPicker
from screens.ticket_knowledge import TicketKnowledge
from widgets.composer import Composer

ACTIONS = Binding.Group("Actions")

ACTION_BINDINGS = [
    Binding("m", "macro", "Macro", id="ticket.macro", group=ACTIONS),
    Binding("e", "escalate", "Escalate", id="ticket.escalate", group=ACTIONS),
    Binding("M", "merge", "Merge", id="ticket.merge", group=ACTIONS),
    Binding("L", "link", "Link", id="ticket.link", group=ACTIONS),
]

OTHER_CUSTOMER = "other-customer"


def parse_ticket_id(text: str) -> int | None:
    """``123`` or ``#123``; None for anything else."""
    value = text.strip().lstrip("#")
    return int(value) if value.isdigit() and int(value) > 0 else None


class TicketActions(TicketKnowledge):
    """Base of the ticket screen: macros, escalation, merging and links."""

    # -- messages ------------------------------------------------------------
    class MacrosLoaded(Message):
        """The active macros, for the picker."""

        def __init__(self, macros: list[MacroView]) -> None:
            super().__init__()
            self.macros = macros

    class MacroApplied(Message):
        """A macro's body for the composer and the ticket after its changes."""

        def __init__(self, result: MacroResult) -> None:
            super().__init__()
            self.result = result

    class MergeTarget(Message):
        """The ticket the agent named to merge into, to confirm against."""

        def __init__(self, target: TicketDetail) -> None:
            super().__init__()
            self.target = target

    # -- workers -------------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="pickers")
    async def _fetch_macros(self) -> None:
        self.post_message(self.MacrosLoaded(await self.backend.list_macros()))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _apply_macro(self, macro_id: int, version: int) -> None:
        result = await self.backend.apply_macro(self.ticket_id, macro_id,
                                                expected_version=version)
        self.post_message(self.MacroApplied(result))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _escalate(self, reason: str, version: int) -> None:
        ticket = await self.backend.escalate(self.ticket_id, reason, expected_version=version)
        who = ticket.assignee or "the team queue"
        self._post_loaded(ticket, f"#{ticket.id} escalated: priority {ticket.priority.label}, "
                                  f"now with {who}")

    @work(exclusive=True, exit_on_error=False, group="pickers")
    async def _fetch_merge_target(self, into_id: int) -> None:
        self.post_message(self.MergeTarget(await self.backend.get_ticket(into_id)))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _merge(self, into_id: int, version: int, other_customer: bool) -> None:
        await self.backend.merge(self.ticket_id, into_id, expected_version=version,
                                 other_customer=other_customer)
        ticket = await self.backend.get_ticket(self.ticket_id)
        self._post_loaded(ticket, f"#{self.ticket_id} merged into #{into_id} and closed")

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _link(self, other_id: int, kind: LinkKind) -> None:
        ticket = await self.backend.link(self.ticket_id, other_id, kind)
        self._post_loaded(ticket, f"#{ticket.id} {kind.phrase(outgoing=True)} #{other_id}")

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _unlink(self, other_id: int) -> None:
        ticket = await self.backend.unlink(self.ticket_id, other_id)
        self._post_loaded(ticket, f"#{ticket.id} no longer linked to #{other_id}")

    # -- handlers ------------------------------------------------------------
    def on_ticket_actions_macros_loaded(self, message: TicketActions.MacrosLoaded) -> None:
        if not message.macros:
            self.notify("No macros yet: a supervisor adds them with agent-tui macro add.",
                        markup=False)
            return

        def chosen(macro: MacroView | None) -> None:
            if macro is not None and self.ticket is not None:
                self._apply_macro(macro.id, self.ticket.version)

        self.app.push_screen(MacroPicker(f"Macro for #{self.ticket_id}", message.macros), chosen)

    def on_ticket_actions_macro_applied(self, message: TicketActions.MacroApplied) -> None:
        result = message.result
        self.insert_into_composer(result.body)
        done = f"Macro “{result.macro.name}” inserted"
        if result.changed:
            done += "; " + ", ".join(result.changed)
        self._post_loaded(result.ticket, done)

    def insert_into_composer(self, text: str) -> None:
        """Put ``text`` at the composer's cursor, opening a reply if nothing is open.

        What the agent already wrote stays: the text goes in where the cursor
        is (after a line break when the cursor ends a line of text).
        """
        composer = self.query_one(Composer)
        if not composer.is_open:
            composer.open(composer.draft.mode if composer.draft.text.strip() else "reply")
        area = composer.area
        row, col = area.cursor_location
        line = area.document.get_line(row)
        if line[:col].strip():  # mid-text: start the macro on its own line
            text = "\n" + text
        area.insert(text)
        composer.draft.text = area.text
        area.focus()

    def on_ticket_actions_merge_target(self, message: TicketActions.MergeTarget) -> None:
        target, ticket = message.target, self.ticket
        if ticket is None:
            return
        choices = [("merge", f"Merge #{ticket.id} into #{target.id} “{target.subject}”: "
                             f"move its messages there and close #{ticket.id}"),
                   ("cancel", "Cancel")]
        if target.customer_id != ticket.customer_id:
            if self.session.me.role is Role.AGENT:
                self.notify(f"#{target.id} belongs to another customer ({target.customer_name});"
                            " ask a supervisor if it is the same person.",
                            severity="warning", markup=False)
                return
            choices[0] = (OTHER_CUSTOMER, f"Merge into #{target.id} “{target.subject}” — a "
                                          f"different customer ({target.customer_name}): "
                                          "only if it is the same person")
        version = ticket.version

        def confirmed(value: str | None) -> None:
            if value in ("merge", OTHER_CUSTOMER):
                self._merge(target.id, version, value == OTHER_CUSTOMER)

        self.app.push_screen(ChoiceScreen(f"Merge #{ticket.id}?", choices, current=None),
                             confirmed)

    # -- actions -------------------------------------------------------------
    def action_macro(self) -> None:
        """Pick a macro: its text goes into the reply, its changes onto the ticket."""
        if self._ready() is not None:
            self._fetch_macros()

    def action_escalate(self) -> None:
        """Escalate: one priority up, to the team lead, with a reason kept as a note."""
        if (ticket := self._ready()) is None:
            return

        def reason(value: str | None) -> None:
            if value is not None and value.strip():
                self.escalate_now(value)

        self.app.push_screen(TextScreen(f"Escalate #{ticket.id}: why?", "",
                                        help_text="the reason is kept as an internal note; "
                                                  "enter to escalate, esc to cancel"), reason)

    def escalate_now(self, reason: str) -> None:
        if (ticket := self._ready()) is not None:
            self._escalate(reason.strip(), ticket.version)

    def action_merge(self) -> None:
        """Merge this ticket into another (asks its #id, then confirms)."""
        if (ticket := self._ready()) is None:
            return

        def target(value: str | None) -> None:
            if value is not None:
                self.merge_into(value)

        self.app.push_screen(TextScreen(f"Merge #{ticket.id} into which ticket?", "",
                                        help_text="#id of the ticket that keeps the "
                                                  "conversation; enter, esc to cancel"), target)

    def merge_into(self, value: str) -> str | None:
        """Start a merge into ``value`` (#id); an error line if it is no ticket id."""
        into = parse_ticket_id(value)
        if into is None:
            return f"{value.strip() or 'nothing'} is not a ticket id (write #123)"
        if into == self.ticket_id:
            return "a ticket cannot be merged into itself"
        self._fetch_merge_target(into)
        return None

    def action_link(self) -> None:
        """Link this ticket to another (asks its #id, then how they relate)."""
        if (ticket := self._ready()) is None:
            return

        def other(value: str | None) -> None:
            if value is None:
                return
            other_id = parse_ticket_id(value)
            if other_id is None:
                self.notify(f"{value.strip() or 'nothing'} is not a ticket id (write #123)",
                            severity="warning", markup=False)
                return
            kinds = [(k.value, f"#{ticket.id} {k.phrase(outgoing=True)} #{other_id}")
                     for k in LinkKind]

            def kind(chosen: str | None) -> None:
                if chosen is not None:
                    self._link(other_id, LinkKind(chosen))

            self.app.push_screen(ChoiceScreen("How are they related?", kinds,
                                              current=LinkKind.RELATED.value), kind)

        self.app.push_screen(TextScreen(f"Link #{ticket.id} to which ticket?", "",
                                        help_text="#id; enter, esc to cancel"), other)

    def link_to(self, value: str, kind: str = "related") -> str | None:
        """``:link ID [KIND]``; an error line for a bad id or kind."""
        other_id = parse_ticket_id(value)
        if other_id is None:
            return f"{value} is not a ticket id (write #123)"
        try:
            link_kind = LinkKind.parse(kind)
        except ValueError as exc:
            return str(exc)
        if self._ready() is not None:
            self._link(other_id, link_kind)
        return None

    def unlink_from(self, value: str) -> str | None:
        other_id = parse_ticket_id(value)
        if other_id is None:
            return f"{value} is not a ticket id (write #123)"
        if self._ready() is not None:
            self._unlink(other_id)
        return None

    def apply_macro_named(self, name: str) -> str | None:
        """``:macro NAME``: the one active macro whose name matches (else say so)."""
        if self._ready() is None:
            return "the ticket is still loading"
        self._macro_by_name(name)
        return None

    @work(exclusive=True, exit_on_error=False, group="pickers")
    async def _macro_by_name(self, name: str) -> None:
        found = await self.backend.list_macros()
        wanted = name.strip().casefold()
        exact = [m for m in found if m.name.casefold() == wanted]
        partial = exact or [m for m in found if wanted in m.name.casefold()]
        if len(partial) == 1:
            ticket = self.ticket
            if ticket is not None:
                result = await self.backend.apply_macro(self.ticket_id, partial[0].id,
                                                        expected_version=ticket.version)
                self.post_message(self.MacroApplied(result))
            return
        self.post_message(self.MacrosLoaded(partial or found))  # let the agent choose

    def action_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("ticket: macro", "Insert a canned reply and apply its changes",
                            self.action_macro)
        yield SystemCommand("ticket: escalate", "One priority up, to the team lead, with a "
                            "reason", self.action_escalate)
        yield SystemCommand("ticket: merge", "Merge this ticket into another",
                            self.action_merge)
        yield SystemCommand("ticket: link", "Link this ticket to another", self.action_link)
