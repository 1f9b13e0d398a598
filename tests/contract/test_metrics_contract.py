"""The metrics part of the Backend contract, through the protocol only."""

from __future__ import annotations

import pytest

from agent_tui.backend import (
    Forbidden,
    GroupBy,
    Invalid,
    MetricsSnapshot,
    Status,
    TicketCreate,
    TicketUpdate,
)
from tests.contract.conftest import BackendFor


def _ticket(subject: str) -> TicketCreate:
    return TicketCreate(subject=subject, body="The app will not pair.", team="tech",
                        customer_email="lee@example.com", customer_name="Lee")


async def test_snapshot_is_for_supervisors_and_counts_what_happened(
        backend_for: BackendFor) -> None:
    bob, sam = backend_for("bob"), backend_for("sam")
    t = await bob.create_ticket(_ticket("Pairing fails"))
    t = await bob.reply(t.id, "Hold the button for 5 s.")
    t = await bob.update_ticket(t.id, TicketUpdate(status=Status.SOLVED),
                                expected_version=t.version)
    await bob.create_ticket(_ticket("Second one"))
    with pytest.raises(Forbidden):
        await bob.metrics_snapshot("7d")
    snap = await sam.metrics_snapshot("1d", GroupBy.TEAM)
    assert isinstance(snap, MetricsSnapshot) and snap.group_by is GroupBy.TEAM
    assert (snap.overall.created, snap.overall.solved, snap.overall.fcr) == (2, 1, 1.0)
    assert snap.overall.resolution_rate == 0.5 and snap.backlog.total == 1
    assert [(g.key, g.kpis.created) for g in snap.groups] == [("tech", 2)]
    hourly = await sam.metrics_snapshot("2h")
    assert hourly.overall.created == 2 and hourly.overall.first_response.count == 1
    with pytest.raises(Invalid):
        await sam.metrics_snapshot("fortnight")


async def test_agents_log_a_rating_and_csat_follows(backend_for: BackendFor) -> None:
    bob, sam = backend_for("bob"), backend_for("sam")
    t = await bob.create_ticket(_ticket("Pairing fails"))
    with pytest.raises(Invalid):
        await bob.record_rating(t.id, csat=5)  # never solved yet
    t = await bob.update_ticket(t.id, TicketUpdate(status=Status.SOLVED),
                                expected_version=t.version)
    rating = await bob.record_rating(t.id, csat=4, nps=10, comment="Thanks [/]")
    assert (rating.ticket_id, rating.csat, rating.nps, rating.comment) == (
        t.id, 4, 10, "Thanks [/]")
    with pytest.raises(Invalid):
        await bob.record_rating(t.id, csat=7)
    snap = await sam.metrics_snapshot("1d")
    assert (snap.overall.csat, snap.overall.nps, snap.overall.csat_responses) == (1.0, 100.0, 1)
