"""What the ticket workspace shows on opening, fetched in one go.

The ticket, its customer's 360 and the knowledge suggestions are three reads
made in parallel (the queue row names the customer, so the 360 need not wait
for the ticket); the workspace shows them in one batch instead of laying the
screen out again as each arrives.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agent_tui.backend import Backend, Customer360, Suggestion, TicketDetail

SUGGESTIONS = 6  # articles suggested for a ticket


@dataclass(frozen=True)
class Opening:
    """A ticket with its 360 and suggestions; a part that failed holds its error."""

    ticket: TicketDetail
    customer: Customer360 | BaseException
    found: list[Suggestion] | BaseException


async def fetch_opening(backend: Backend, ticket_id: int,
                        customer_hint: int | None = None) -> Opening:
    """Read all three at once (``customer_hint``: the customer the queue row names).

    The ticket failing fails the whole (the others are cancelled); the 360 or
    the suggestions failing is kept in the result, so the ticket still shows.
    """
    ticket_task = asyncio.ensure_future(backend.get_ticket(ticket_id))
    found_task = asyncio.ensure_future(backend.suggest(ticket_id, k=SUGGESTIONS))
    customer_task = (asyncio.ensure_future(backend.get_360(customer_hint))
                     if customer_hint is not None else None)
    try:
        ticket = await ticket_task
    except BaseException:
        for task in (found_task, customer_task):
            if task is not None:
                task.cancel()
        raise
    if customer_task is None or customer_hint != ticket.customer_id:
        if customer_task is not None:
            customer_task.cancel()
        customer_task = asyncio.ensure_future(backend.get_360(ticket.customer_id))
    customer, found = await asyncio.gather(customer_task, found_task, return_exceptions=True)
    if isinstance(customer, asyncio.CancelledError) or isinstance(found, asyncio.CancelledError):
        raise asyncio.CancelledError
    return Opening(ticket, customer, found)
