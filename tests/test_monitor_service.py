"""The monitor service (agent_tui.services.monitor*) on SQLite and PostgreSQL.

Tickets are made through the services with a real SLA policy; where a test
needs a clock that has run out or is at risk *now*, it moves the ticket's
due time and flag as the SLA sweep would after time passed.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from agent_tui.domain.enums import Channel, PresenceState, Priority, Role, Source, Status
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.tables import Event, Ticket, utcnow
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.domain.views_monitor import MonitorSnapshot
from agent_tui.services import queue as queue_svc
from agent_tui.services import sla_admin, tickets
from agent_tui.services.agents import actor_for
from agent_tui.services.monitor import monitor_snapshot
from agent_tui.services.monitor_agents import assign_many
from agent_tui.store import Store
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, World


def actor(store: Store, login: str) -> Actor:
    with store.read() as s:
        return actor_for(s, login, Source.TUI)


def create(store: Store, subject: str, *, team: str | None = None,
           priority: Priority = Priority.NORMAL, channel: Channel = Channel.EMAIL) -> int:
    with store.write() as s:
        return tickets.create(s, ADMIN, TicketCreate(
            subject=subject, body="help", team=team, priority=priority, channel=channel,
            customer_name="Casey", customer_email="casey@example.com")).id


def snap(store: Store, login: str = "sam", window: str = "7d") -> MonitorSnapshot:
    with store.read() as s:
        return monitor_snapshot(s, actor(store, login), window=window)


def set_clock(store: Store, ticket_id: int, *, due_in: timedelta, at_risk: bool) -> None:
    """What the SLA sweep writes once time has passed: the due time and the flag."""
    with store.write() as s:
        s.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(  # type: ignore[arg-type]
            sla_due_at=utcnow() + due_in, sla_at_risk=at_risk))


@pytest.fixture
def shop(store: Store, world: World) -> dict[str, int]:
    with store.write() as s:
        sla_admin.set_policy(s, ADMIN, name="standard", first_response=30, resolution=480)
    return {
        "refund": create(store, "Refund [/] please", team="billing", priority=Priority.HIGH),
        "crash": create(store, "App crash", team="tech", priority=Priority.URGENT,
                        channel=Channel.APP),
        "order": create(store, "Where is my order", channel=Channel.CHAT),
        "invoice": create(store, "Invoice copy", team="billing"),
    }


def test_backlog_matrix_and_series_follow_the_tickets(store: Store, shop: dict[str, int]) -> None:
    got = snap(store)
    assert got.backlog.total == 4
    assert got.backlog.by_team == {"(none)": 1, "billing": 2, "tech": 1}
    assert got.backlog.by_channel == {"app": 1, "chat": 1, "email": 2}
    assert got.by_status_priority == {"new": {"high": 1, "normal": 2, "urgent": 1}}
    assert len(got.series.arrivals) == 12 and got.series.arrivals[-1] == 4
    assert got.series.backlog[-1] == 4 and got.series.backlog[0] == 0
    assert got.today.created == 4 and got.window_kpis.created == 4
    assert [d.kpis.created for d in got.window_days] == [4]
    assert got.last_seq > 0

    with store.write() as s:
        tickets.update(s, ADMIN, shop["order"], TicketUpdate(status=Status.SOLVED),
                       expected_version=1)
    after = snap(store)
    assert after.backlog.total == 3
    assert after.series.solved[-1] == 1 and after.series.backlog[-1] == 3
    assert after.today.solved == 1
    assert after.last_seq > got.last_seq


def test_sla_lists_are_ordered_and_at_risk_counted(store: Store, shop: dict[str, int]) -> None:
    set_clock(store, shop["refund"], due_in=timedelta(minutes=5), at_risk=True)
    set_clock(store, shop["crash"], due_in=timedelta(minutes=2), at_risk=True)
    set_clock(store, shop["order"], due_in=timedelta(minutes=-10), at_risk=False)
    set_clock(store, shop["invoice"], due_in=timedelta(minutes=-3), at_risk=False)
    got = snap(store)
    assert [t.id for t in got.at_risk] == [shop["crash"], shop["refund"]]
    assert [t.id for t in got.breached] == [shop["invoice"], shop["order"]]  # latest first
    assert got.at_risk_total == 2 and got.at_risk_exact
    assert got.backlog.past_due == 2
    crash = got.at_risk[0]
    assert (crash.team, crash.priority, crash.breached, crash.at_risk) == (
        "tech", Priority.URGENT, False, True)
    assert got.at_risk[1].subject == "Refund [/] please"
    assert all(t.breached for t in got.breached)


def test_forecast_counts_the_clocks_ending_in_each_horizon(store: Store,
                                                          shop: dict[str, int]) -> None:
    set_clock(store, shop["refund"], due_in=timedelta(minutes=10), at_risk=True)
    set_clock(store, shop["crash"], due_in=timedelta(minutes=25), at_risk=False)
    # order and invoice keep the policy's 30-minute first-response clock
    got = snap(store)
    by = {f.horizon_min: f for f in got.forecast}
    assert (by[15].due, by[30].due, by[60].due) == (1, 4, 4)
    # Nobody solved anything in the last hour: every one of those clocks breaches...
    assert by[15].from_backlog == 1 and by[15].ticket_ids == [shop["refund"]]
    assert by[60].from_backlog == 4
    # ...and the four arrivals of the last hour, on 30-minute clocks, add more.
    assert got.arrivals_per_hour == 4 and got.handled_per_hour == 0
    assert by[15].from_arrivals == 0 and by[60].from_arrivals > 0


def test_agent_board_shows_load_today_and_current_ticket(store: Store,
                                                         shop: dict[str, int]) -> None:
    with store.write() as s:
        tickets.assign(s, ADMIN, shop["refund"], "alice")
        tickets.assign(s, ADMIN, shop["invoice"], "alice")
        tickets.assign(s, ADMIN, shop["crash"], "bob")
    with store.write() as s:
        detail = tickets.detail(s, ADMIN, shop["crash"])
        tickets.reply(s, actor(store, "bob"), shop["crash"], "Fixed in 2.1")
        tickets.update(s, ADMIN, shop["crash"], TicketUpdate(status=Status.SOLVED),
                       expected_version=detail.version + 1)
    with store.write() as s:
        queue_svc.set_presence(s, actor(store, "sam"), shop["order"], PresenceState.COMPOSING)
    board = {row.login: row for row in snap(store).agents}
    assert set(board) == {"ada", "sam", "alice", "bob"}
    alice, bob, sam = board["alice"], board["bob"], board["sam"]
    assert (alice.load, alice.capacity, alice.teams) == (2, 10, ["billing"])
    assert alice.current_ticket_id in (shop["refund"], shop["invoice"])
    assert alice.current_state is None
    assert (bob.load, bob.handled_today) == (0, 1)
    assert bob.handle_time_today_s is not None
    assert (sam.current_ticket_id, sam.current_state) == (shop["order"], PresenceState.COMPOSING)
    assert sam.current_subject == "Where is my order"


def test_agents_are_refused_and_a_bad_window_is_one_clear_error(store: Store,
                                                                 shop: dict[str, int]) -> None:
    with pytest.raises(Forbidden, match="supervisor"):
        snap(store, "alice")
    with pytest.raises(Invalid, match="duration"):
        snap(store, "sam", window="soon")
    assert snap(store, "ada", window="24h").window == "24h"


def test_assign_many_reports_each_ticket_and_writes_one_event_each(
        store: Store, shop: dict[str, int]) -> None:
    with store.write() as s:
        solved = tickets.update(s, ADMIN, shop["order"], TicketUpdate(status=Status.SOLVED),
                                expected_version=1)
        tickets.update(s, ADMIN, shop["order"], TicketUpdate(status=Status.CLOSED),
                       expected_version=solved.version)
        stale = tickets.assign(s, ADMIN, shop["invoice"], "alice").version  # now version 2
    before = snap(store).last_seq
    sam = actor(store, "sam")
    with store.write() as s:
        results = assign_many(s, sam, [shop["refund"], shop["invoice"], shop["order"], 999_999,
                                       shop["crash"]], "bob", team="tech",
                              expected_versions={shop["invoice"]: stale - 1})
    by = {r.ticket_id: r for r in results}
    assert [r.ticket_id for r in results] == [shop["refund"], shop["invoice"], shop["order"],
                                              999_999, shop["crash"]]
    assert by[shop["refund"]].ok and by[shop["refund"]].assignee == "bob"
    assert by[shop["refund"]].team == "tech"
    assert by[shop["crash"]].ok
    assert not by[shop["invoice"]].ok and "version" in (by[shop["invoice"]].error or "")
    assert not by[shop["order"]].ok and "closed" in (by[shop["order"]].error or "")
    assert not by[999_999].ok and by[999_999].error
    with store.read() as s:
        events = [(e.entity_id, e.actor, json.loads(e.diff)) for e in s.exec(
            select(Event).where(Event.seq > before,  # type: ignore[operator]
                                Event.kind == "ticket.assigned"))]
        invoice = tickets.detail(s, ADMIN, shop["invoice"])
    assert (invoice.assignee, invoice.team, invoice.version) == ("alice", "billing", stale)
    assert sorted(e[0] or 0 for e in events) == sorted([shop["refund"], shop["crash"]])
    assert all(diff["reason"] == "monitor" and who == "sam" for _id, who, diff in events)
    board = {row.login: row for row in snap(store).agents}
    assert board["bob"].load == 2 and board["alice"].load == 1


def test_assign_many_is_for_supervisors_and_needs_tickets(store: Store,
                                                         shop: dict[str, int]) -> None:
    with store.write() as s, pytest.raises(Forbidden):
        assign_many(s, actor(store, "alice"), [shop["refund"]], "alice")
    with store.write() as s, pytest.raises(Invalid, match="at least one"):
        assign_many(s, actor(store, "sam"), [], "bob")
    assert actor(store, "sam").role is Role.SUPERVISOR
