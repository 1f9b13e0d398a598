"""The KPI facts of the tickets an import creates, built in the import's transaction.

A new imported ticket's fact depends only on what the import itself writes:
the ticket row (no SLA due times, no first response, no solve time), one
public customer message at ``created_at``, no rating, and no event of a
kind the fact reads (``ticket.imported`` is not one). So the facts are
computed with :func:`~agent_tui.services.metrics_facts.compute_fact` from
the rows in hand, instead of :func:`~agent_tui.services.metrics_facts.build_missing`
reading 100k tickets back after the commit, and the counters get ONE
:func:`~agent_tui.services.metrics_rollup.apply` for the whole import
instead of one per 5,000 tickets (which touched the same day rows twenty
times): 6.5 s of a 100k-row import became ~1.5 s.

The watermark (every ticket up to it has its fact) moves only when it was
flush with the store's newest ticket before the import and the import's
ids follow it without a gap, as ``surveys._advance_watermark`` does for
one ticket; otherwise the facts are still written (they are correct) and
``build_missing`` after the commit recomputes whatever lies above the
watermark, as it always did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import AuthorKind
from agent_tui.domain.tables import LoopSetting, Ticket, TicketFact, utcnow
from agent_tui.services import metrics_rollup as rollup
from agent_tui.services.importing.writes import insert_tuples
from agent_tui.services.metrics_facts import WATERMARK, compute_fact

F = TicketFact.__table__  # type: ignore[attr-defined]
T = Ticket.__table__  # type: ignore[attr-defined]
_CUSTOMER = AuthorKind.CUSTOMER.value


class _NewTicket:
    """The ticket columns ``compute_fact`` reads, as an import creates them."""

    __slots__ = ("assignee_id", "channel", "created_at", "id", "priority", "status", "team_id")
    first_response_at = solved_at = first_response_due_at = resolution_due_at = None
    sla_breached = False

    def __init__(self, ticket_id: int, channel: str, team_id: int | None,
                 assignee_id: int | None, priority: int, status: str,
                 created_at: datetime) -> None:
        self.id, self.channel, self.team_id, self.assignee_id = (
            ticket_id, channel, team_id, assignee_id)
        self.priority, self.status, self.created_at = priority, status, created_at


def new_fact(channel: str, team_id: int | None, assignee_id: int | None, priority: int,
             status: str, created_at: datetime) -> dict[str, Any]:
    """The fact of a ticket an import creates, with one customer message at ``created_at``.

    Its ``ticket_id`` is None until :meth:`NewTicketFacts.add` knows the id;
    nothing else in it depends on the id, so it can be worked out beforehand.
    """
    fact = compute_fact(_NewTicket(0, channel, team_id, assignee_id, priority, status, created_at),
                        ((_CUSTOMER, True, created_at),), (), None)
    fact["ticket_id"] = None
    return fact


class NewTicketFacts:
    """Collects the facts of created tickets a batch at a time; :meth:`finish` applies them."""

    def __init__(self, session: Session) -> None:
        top = int(session.execute(sa.select(sa.func.max(T.c.id))).scalar() or 0)
        row = session.get(LoopSetting, WATERMARK)
        mark = int(row.value) if row is not None else 0
        #: The id the next created ticket must have for the watermark to follow it.
        self._next: int | None = top + 1 if mark == top else None
        self._delta = rollup.Delta()
        self.built = 0

    def add(self, session: Session, tickets: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Facts of new tickets ``(id, new_fact(...))``; each dict gets its ``ticket_id``."""
        if not tickets:
            return
        rows: list[tuple[Any, ...]] = []
        add = self._delta.add
        for tid, fact in tickets:
            fact["ticket_id"] = tid
            add(fact, 1)
            rows.append(tuple(fact.values()))
        insert_tuples(session, F, tuple(tickets[0][1]), rows)
        self.built += len(rows)
        ids = [t[0] for t in tickets]
        if self._next is not None:
            contiguous = ids[0] == self._next and ids[-1] - ids[0] + 1 == len(ids) and (
                ids == sorted(ids))
            self._next = ids[-1] + 1 if contiguous else None

    def finish(self, session: Session) -> None:
        """Add the collected facts to the counters and move the watermark if it may."""
        if not self.built:
            return
        rollup.apply(session, self._delta)
        self._delta = rollup.Delta()
        if self._next is None:
            return
        row = session.get(LoopSetting, WATERMARK)
        if row is None:
            row = LoopSetting(key=WATERMARK, value="0")
        row.value, row.updated_at = str(self._next - 1), utcnow()
        session.add(row)
        session.flush()
