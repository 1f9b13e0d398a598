"""SLA clocks and policies through the Backend contract only.

Policies are set up on the shared store by an admin (as ``agent-tui sla set``
would); everything asserted goes through the ``Backend`` protocol.
"""

from __future__ import annotations

import pytest

from agent_tui.backend import Priority, Status, TicketCreate, TicketUpdate
from agent_tui.services import sla_admin
from tests.conftest import ADMIN, World
from tests.contract.conftest import BackendFor


@pytest.fixture
def policies(world: World) -> None:
    with world.store.write() as s:
        sla_admin.set_policy(s, ADMIN, name="Normal", priority=Priority.NORMAL,
                             first_response=60, next_response=240, resolution=480)
        sla_admin.set_policy(s, ADMIN, name="Basic issue", category="basic",
                             first_response=15, next_response=30, resolution=60)


def _ticket(**kw: object) -> TicketCreate:
    data: dict[str, object] = {"subject": "Printer on fire", "body": "Help",
                               "customer_email": "sla@example.com", "team": "billing"}
    data.update(kw)
    return TicketCreate(**data)  # type: ignore[arg-type]


@pytest.mark.usefixtures("policies")
async def test_list_sla_policies(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    rows = await alice.list_sla_policies()
    assert [(p.name, p.priority, p.category) for p in rows] == [
        ("Normal", Priority.NORMAL, None), ("Basic issue", None, "basic")]
    assert rows[1].resolution_minutes == 60 and rows[0].hours is None


@pytest.mark.usefixtures("policies")
async def test_clocks_follow_the_ticket(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket())
    clocks = {c.clock: c for c in await alice.sla_clocks(t.id)}
    assert set(clocks) == {"first_response", "resolution"}
    fr = clocks["first_response"]
    assert fr.policy == "Normal" and fr.target_minutes == 60 and fr.running and not fr.breached
    assert t.sla_due_at == fr.due_at and t.sla_at_risk is False and t.sla_breached is False

    t = await alice.reply(t.id, "Looking into it.")
    clocks = {c.clock: c for c in await alice.sla_clocks(t.id)}
    assert not clocks["first_response"].running and clocks["next_response"].running
    assert t.sla_due_at == clocks["next_response"].due_at

    t = await alice.update_ticket(t.id, TicketUpdate(status=Status.PENDING),
                                  expected_version=t.version)
    clocks = {c.clock: c for c in await alice.sla_clocks(t.id)}
    assert clocks["resolution"].paused and t.sla_due_at is None


@pytest.mark.usefixtures("policies")
async def test_category_policy_applies(backend_for: BackendFor) -> None:
    alice = backend_for("alice")
    t = await alice.create_ticket(_ticket(category="Basic"))
    clocks = {c.clock: c for c in await alice.sla_clocks(t.id)}
    assert clocks["resolution"].policy == "Basic issue"
    assert clocks["resolution"].target_minutes == 60
