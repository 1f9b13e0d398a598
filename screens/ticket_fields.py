"""Changing a ticket's fields from the workspace: status, priority, tags, assignee, team.

Each change is one backend call with the version on screen as
``expected_version``; the ticket screen handles the answer (``Loaded``) and
a ``Conflict`` the same way for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding

from agent_tui.backend import Priority, Status, TicketDetail, TicketUpdate
from screens.choose import ChoiceScreen, TextScreen
from screens.ticket_open import OpensTickets

FIELDS = Binding.Group("Fields")

FIELD_BINDINGS = [
    Binding("s", "pick_status", "Status", id="ticket.status", group=FIELDS),
    Binding("S", "cycle_status", "Next status", id="ticket.cycle_status", group=FIELDS,
            show=False),
    Binding("p", "pick_priority", "Priority", id="ticket.priority", group=FIELDS),
    Binding("t", "edit_tags", "Tags", id="ticket.tags", group=FIELDS),
    Binding("a", "pick_assignee", "Assign", id="ticket.assign", group=FIELDS),
    Binding("T", "take", "Take", id="ticket.take", group=FIELDS),
    Binding("A", "pick_team", "Team", id="ticket.team", group=FIELDS),
]

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
NOBODY = "\x00nobody"  # an option id no login can be


def _label(status: Status) -> str:
    return status.value.replace("_", " ")


class TicketFields(OpensTickets):
    """Base of :class:`~screens.ticket.TicketScreen`: the field pickers and their saves."""

    ticket: TicketDetail | None
    ticket_id: int

    def _post_loaded(self, ticket: TicketDetail, done: str, *, sent: bool = False) -> None:
        """Hand a saved ticket to the screen (it posts its own ``Loaded`` message).

        ``sent``: the composer's draft went out with this change.
        """
        raise NotImplementedError

    def _ready(self) -> TicketDetail | None:
        if self.ticket is None:
            self.notify("The ticket is still loading.", markup=False)
        return self.ticket

    # -- workers ---------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _update(self, changes: TicketUpdate, version: int,
                      done: str) -> None:
        ticket = await self.backend.update_ticket(self.ticket_id, changes,
                                                  expected_version=version)
        self._post_loaded(ticket, done.format(ticket=ticket))

    @work(exclusive=True, exit_on_error=False, group="ticket")
    async def _assign(self, login: str | None, team: str | None,
                      version: int) -> None:
        ticket = await self.backend.assign(self.ticket_id, login, team=team,
                                           expected_version=version)
        if team is not None:
            done = f"#{ticket.id} moved to team {ticket.team or 'none'}"
        elif ticket.assignee == self.session.me.login:
            done = f"#{ticket.id} is yours"
        else:
            done = f"#{ticket.id} assigned to {ticket.assignee or 'nobody'}"
        self._post_loaded(ticket, done)

    @work(exclusive=True, exit_on_error=False, group="pickers")
    async def _pick_person(self) -> None:
        agents = await self.backend.list_agents()
        me = self.session.me.login
        choices = [(me, f"me ({me})")]
        choices += [(a.login, f"{a.name} ({a.login}) — {a.status.value}")
                    for a in agents if a.login != me]
        choices.append((NOBODY, "nobody (back to the queue)"))
        ticket = self.ticket
        current = ticket.assignee if ticket and ticket.assignee else NOBODY
        self.app.push_screen(ChoiceScreen(f"Assign #{self.ticket_id} to", choices,
                                          current=current), self._assignee_chosen)

    # -- actions ---------------------------------------------------------
    def _pick(self, title: str, choices: list[tuple[str, str]],
              current: str | None, then: Callable[[str | None], None]) -> None:
        self.app.push_screen(ChoiceScreen(title, choices, current=current), then)

    def action_pick_status(self) -> None:
        """Choose the ticket's status."""
        if (ticket := self._ready()) is None:
            return
        choices = [(s.value, _label(s)) for s in Status]

        def chosen(value: str | None) -> None:
            if value and self.ticket is not None and value != self.ticket.status.value:
                self._update(TicketUpdate(status=Status(value)), self.ticket.version,
                             "#{ticket.id} is now " + _label(Status(value)))

        self._pick(f"Status of #{ticket.id}", choices, ticket.status.value, chosen)

    def action_cycle_status(self) -> None:
        """Move the ticket to the next status: open → pending → on hold → solved → open."""
        if (ticket := self._ready()) is None:
            return
        new = NEXT_STATUS[ticket.status]
        self._update(TicketUpdate(status=new), ticket.version,
                     "#{ticket.id} is now " + _label(new))

    def action_pick_priority(self) -> None:
        """Choose the ticket's priority."""
        if (ticket := self._ready()) is None:
            return
        choices = [(p.label, p.label) for p in sorted(Priority, reverse=True)]

        def chosen(value: str | None) -> None:
            if value and self.ticket is not None and value != self.ticket.priority.label:
                self._update(TicketUpdate(priority=Priority.parse(value)), self.ticket.version,
                             "#{ticket.id} priority " + value)

        self._pick(f"Priority of #{ticket.id}", choices, ticket.priority.label, chosen)

    def action_edit_tags(self) -> None:
        """Edit the ticket's tags (space or comma separated)."""
        if (ticket := self._ready()) is None:
            return

        def saved(value: str | None) -> None:
            if value is None or self.ticket is None:
                return
            tags = [t for t in value.replace(",", " ").split() if t]
            if tags != self.ticket.tags:
                self._update(TicketUpdate(tags=tags), self.ticket.version,
                             "#{ticket.id} tags updated")

        self.app.push_screen(TextScreen(f"Tags of #{ticket.id}", " ".join(ticket.tags),
                                        help_text="space or comma between tags; enter to "
                                                  "save, esc to cancel"), saved)

    def action_pick_assignee(self) -> None:
        """Give the ticket to me, another agent, or nobody."""
        if self._ready() is not None:
            self._pick_person()

    def _assignee_chosen(self, value: str | None) -> None:
        if value is None or self.ticket is None:
            return
        login = None if value == NOBODY else value
        if login != self.ticket.assignee:
            self._assign(login, None, self.ticket.version)

    def action_take(self) -> None:
        """Assign the ticket to me."""
        if (ticket := self._ready()) is None:
            return
        if ticket.assignee == self.session.me.login:
            self.notify(f"#{self.ticket_id} is already yours.", markup=False)
            return
        self._assign(self.session.me.login, None, ticket.version)

    def action_pick_team(self) -> None:
        """Move the ticket to another team's queue (supervisors and admins)."""
        if (ticket := self._ready()) is None:
            return
        choices = [(t.name, t.name) for t in self.session.teams]
        choices.append((NOBODY, "no team"))

        def chosen(value: str | None) -> None:
            if value is None or self.ticket is None:
                return
            team = "" if value == NOBODY else value
            if (team or None) != self.ticket.team:
                self._assign(self.ticket.assignee, team, self.ticket.version)

        self._pick(f"Team of #{ticket.id}", choices, ticket.team or NOBODY, chosen)

    def field_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("ticket: status", "Choose the status", self.action_pick_status)
        yield SystemCommand("ticket: priority", "Choose the priority",
                            self.action_pick_priority)
        yield SystemCommand("ticket: tags", "Edit the tags", self.action_edit_tags)
        yield SystemCommand("ticket: assign", "Give it to me, an agent or nobody",
                            self.action_pick_assignee)
        yield SystemCommand("ticket: take", "Assign this ticket to me", self.action_take)
        yield SystemCommand("ticket: team", "Move it to another team",
                            self.action_pick_team)
