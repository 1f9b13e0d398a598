"""What reacts to a ticket change: routing, SLA clocks, surveys.

Every service that changes a ticket (``services.tickets``, inbound channels,
the bot) calls :func:`ticket_changed` after the change and its event are
written, inside the same transaction. Each part of the product that must
react to ticket changes adds its reaction to :func:`ticket_changed`, so
that the rules live in one visible place and run in a known order:

1. routing — new and reopened tickets go to an agent;
2. the closed loop — a solve asks for a rating, a customer reply reopens;
3. SLA — clocks are recomputed last, from the ticket's final state.

A reaction may change the ticket further (an assignee, due times) and
append its own events; it must not call back into :func:`ticket_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from agent_tui.domain.enums import AuthorKind, Status
from agent_tui.domain.tables import Ticket
from agent_tui.services.routing import react as route_reaction
from agent_tui.services.sla import recompute as sla_recompute
from agent_tui.services.surveys import closed_loop
from agent_tui.store.events import Actor


@dataclass(frozen=True, slots=True)
class TicketChange:
    """What just happened to a ticket.

    ``kind`` is one of ``created``, ``replied`` (public reply by an agent or
    the bot), ``noted`` (internal note), ``updated``, ``assigned`` and
    ``customer_message`` (the customer wrote on an existing ticket).
    """

    kind: str
    old_status: Status | None
    new_status: Status
    author: AuthorKind | None = None
    public: bool | None = None

    @property
    def reopened(self) -> bool:
        """Solved (or on its way out) and back to unsolved."""
        return (self.old_status is not None and not self.old_status.is_open
                and self.new_status.is_open)


def ticket_changed(session: Session, actor: Actor, ticket: Ticket, change: TicketChange) -> None:
    """Run every reaction to ``change`` of ``ticket``, in the order of the module docs."""
    # 1. routing
    route_reaction(session, actor, ticket, change)
    # 2. closed loop
    closed_loop(session, actor, ticket, change)
    # 3. SLA
    sla_recompute(session, actor, ticket, change=change)
    return None
