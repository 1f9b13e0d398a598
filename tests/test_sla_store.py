"""SLA engine and the store: import fix-up, the sweep's index, the migration,
the background sweep of an open backend, and the demo's clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent_tui.domain.tables import Ticket, TicketSla
from agent_tui.services.sla_sweeper import run_recompute
from agent_tui.store import Store
from tests.conftest import ADMIN, World
from tests.test_sla import (
    MIN,
    FakeClock,
    events,
    install_clock,
    new_ticket,
    ticket,
    with_any_policy,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_clock(monkeypatch)


@pytest.fixture
def sla_world(world: World) -> World:
    return with_any_policy(world)


def test_recompute_fills_clocks_after_an_import(sla_world: World, clock: FakeClock) -> None:
    store = sla_world.store
    tid = new_ticket(sla_world)
    with store.write() as s:  # what a bulk import leaves: no clock state, no due times
        s.execute(sa.delete(TicketSla))
        s.execute(sa.update(Ticket).values(sla_due_at=None, first_response_due_at=None,
                                           resolution_due_at=None, sla_check_at=None))
    created = ticket(store, tid).created_at
    assert run_recompute(store, ADMIN, now=created + 70 * MIN) == 1
    t = ticket(store, tid)
    assert t.first_response_due_at == created + 60 * MIN and t.sla_breached
    assert t.sla_due_at == created + 60 * MIN
    with store.read() as s:
        assert s.get(TicketSla, tid) is not None


def test_sweep_reads_the_partial_index(sla_world: World) -> None:
    store = sla_world.store
    if store.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with store.read() as s:
        plan = " ".join(str(r[-1]) for r in s.execute(sa.text(
            "EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE sla_check_at IS NOT NULL "
            "AND sla_check_at <= :now ORDER BY sla_check_at LIMIT 501"), {"now": "2030-01-01"}))
    assert "ix_ticket_sla_check" in plan and "SCAN ticket" not in plan.replace(
        "USING INDEX", "")


def test_migration_downgrades_and_upgrades(store: Store) -> None:
    from alembic import command

    from agent_tui.store.migrate import _config

    cfg = _config()
    for target, fn in (("0003", command.downgrade), ("head", command.upgrade)):
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            fn(cfg, target)
    with Session(store.engine) as s:
        assert s.exec(select(Ticket.sla_breached)).all() == []



async def test_open_backend_sweeps_in_the_background(sla_world: World) -> None:
    import asyncio
    import time

    from agent_tui.local import LocalBackend

    tid = new_ticket(sla_world)
    past = ticket(sla_world.store, tid).created_at - timedelta(hours=2)
    with sla_world.store.write() as s:  # as if the ticket had waited two hours unswept
        row = s.get(TicketSla, tid)
        assert row is not None
        row.segment_start = past
        s.add(row)
        s.execute(sa.update(Ticket).where(col(Ticket.id) == tid).values(sla_check_at=past))
    backend = LocalBackend(sla_world.store, "alice", sla_sweep_interval=0.05)
    try:
        await backend.whoami()  # the first call starts the sweeper
        deadline = time.monotonic() + 20
        while not ticket(sla_world.store, tid).sla_breached:
            assert time.monotonic() < deadline, "the background sweep never ran"
            await asyncio.sleep(0.05)
    finally:
        await backend.close()
    breached = events(sla_world.store, "sla.breached", tid)
    assert [(b["clock"], b["late"]) for b in breached] == [("first_response", False)]


def test_demo_clocks_agree_with_the_engine(store: Store) -> None:
    """The generator's integer clocks equal what ``sla recompute`` derives."""
    from agent_tui.services.demo import build_demo

    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    build_demo(store, tickets=300, seed=7, now=now)
    columns = ("id", "sla_due_at", "first_response_due_at", "next_response_due_at",
               "resolution_due_at", "sla_at_risk", "sla_breached", "sla_check_at")

    def snapshot() -> list[tuple[object, ...]]:
        with store.read() as s:
            return [tuple(getattr(t, c) for c in columns)
                    for t in s.exec(select(Ticket).order_by(col(Ticket.id)))]

    before = snapshot()
    assert any(row[6] for row in before) and any(row[5] for row in before)
    assert run_recompute(store, ADMIN, include_closed=True, now=now) == len(before)
    assert snapshot() == before
    assert events(store, "sla.breached") == []  # known breaches are not reported again


def test_the_demo_teams_have_leads_for_escalation(store: Store) -> None:
    from agent_tui.services.demo import build_demo

    build_demo(store, tickets=50, seed=2, workers=0)
    with store.read() as s:
        leads = dict(s.execute(sa.text(
            "SELECT t.name, a.login FROM team t JOIN agent a ON a.id = t.lead_agent_id")).all())
    assert leads == {"billing": "raj", "sales": "raj", "tech": "wang.wei",
                     "logistics": "wang.wei", "accounts": "olivia"}
