"""Routing through the Backend contract: ``next_ticket`` and ``route_explain``."""

from __future__ import annotations

import pytest

from agent_tui.backend import Forbidden, NotFound, Priority, TicketCreate
from tests.contract.conftest import BackendFor


def _ticket(subject: str, priority: Priority, team: str = "billing") -> TicketCreate:
    return TicketCreate(subject=subject, body="Please help with this.", priority=priority,
                        customer_email="nina@example.com", customer_name="Nina", team=team)


async def test_next_ticket_is_the_most_urgent_in_my_teams_and_taking_assigns_it(
        backend_for: BackendFor) -> None:
    alice, bob = backend_for("alice"), backend_for("bob")
    assert await bob.next_ticket() is None
    await alice.create_ticket(_ticket("Low thing", Priority.LOW))
    urgent = await alice.create_ticket(_ticket("Card charged twice", Priority.URGENT))
    normal = await alice.create_ticket(_ticket("Invoice copy", Priority.NORMAL))
    await alice.create_ticket(_ticket("Tech is not my team", Priority.URGENT, team="tech"))

    best = await alice.next_ticket()
    assert best is not None and best.ticket.id == urgent.id and not best.taken
    assert "urgent" in best.reason and best.score > 0
    assert (await alice.get_ticket(urgent.id)).assignee is None  # looking is not taking

    taken = await alice.next_ticket(take=True)
    assert taken is not None and taken.taken and taken.ticket.id == urgent.id
    assert taken.ticket.assignee == "alice"
    assert (await alice.get_ticket(urgent.id)).assignee == "alice"
    # Still mine and untouched: it stays first, and says so.
    again = await alice.next_ticket()
    assert again is not None and again.ticket.id == urgent.id
    assert "assigned to you" in again.reason
    await alice.reply(urgent.id, "On it.")
    after = await alice.next_ticket()
    assert after is not None and after.ticket.id == normal.id


async def test_route_explain_is_for_supervisors(backend_for: BackendFor) -> None:
    alice, sam = backend_for("alice"), backend_for("sam")
    t = await alice.create_ticket(_ticket("Refund", Priority.HIGH))
    with pytest.raises(Forbidden):
        await alice.route_explain(t.id)
    view = await sam.route_explain(t.id)
    assert view.ticket_id == t.id and view.team == "billing"
    assert {c.login for c in view.candidates} == {"ada", "sam", "alice"}
    assert view.winner in {"ada", "sam", "alice"} and view.reason
    assert [c.rank for c in view.candidates if c.login == view.winner] == [1]
    with pytest.raises(NotFound):
        await sam.route_explain(999_999)
