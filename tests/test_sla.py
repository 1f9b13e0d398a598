"""The SLA engine on SQLite and PostgreSQL: policy choice, clocks through the
ticket lifecycle, sweeps with an injected ``now``, escalations exactly once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from agent_tui.domain.enums import Priority, Status
from agent_tui.domain.sla_clock import add_minutes
from agent_tui.domain.tables import Customer, Event, Ticket
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.services import agents, sla, sla_admin, tickets
from agent_tui.services.sla_book import load_book
from agent_tui.services.sla_sweeper import run_recompute, run_sweep
from agent_tui.store import Store
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, World

MIN = timedelta(minutes=1)


class FakeClock:
    """``utcnow`` for the ticket and SLA services, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def install_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for module in ("agent_tui.services.tickets", "agent_tui.services.sla",
                   "agent_tui.services.sla_escalate", "agent_tui.services.sla_sweeper"):
        monkeypatch.setattr(f"{module}.utcnow", fake)
    return fake


def with_any_policy(world: World) -> World:
    """One 24x7 policy for every ticket: 1 h first, 2 h next response, 8 h resolution."""
    with world.store.write() as s:
        sla_admin.set_policy(s, ADMIN, name="Any", first_response=60, next_response=120,
                             resolution=480)
    return world


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_clock(monkeypatch)


@pytest.fixture
def sla_world(world: World) -> World:
    return with_any_policy(world)


def actor(world: World, login: str) -> Actor:
    with world.store.read() as s:
        return agents.actor_for(s, login, "tui")


def new_ticket(world: World, **kw: object) -> int:
    data: dict[str, object] = {"subject": "Help", "body": "It broke.",
                               "customer_email": "c@example.com", "team": "billing"}
    data.update(kw)
    with world.store.write() as s:
        return tickets.create(s, ADMIN, TicketCreate(**data)).id  # type: ignore[arg-type]


def ticket(store: Store, ticket_id: int) -> Ticket:
    with store.read() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        s.expunge(t)
        return t


def events(store: Store, kind: str, ticket_id: int | None = None) -> list[dict[str, object]]:
    with store.read() as s:
        stmt = select(Event).where(Event.kind == kind)
        if ticket_id is not None:
            stmt = stmt.where(Event.entity_id == ticket_id)
        return [json.loads(e.diff) for e in s.exec(stmt.order_by(col(Event.seq)))]


def set_status(world: World, ticket_id: int, status: Status, who: str = "alice") -> None:
    with world.store.write() as s:
        version = s.get(Ticket, ticket_id).version  # type: ignore[union-attr]
        tickets.update(s, actor(world, who), ticket_id, TicketUpdate(status=status),
                       expected_version=version)


def sweep(store: Store, now: datetime) -> sla.SweepReport:
    return store.run_write(lambda s: sla.sweep(s, ADMIN, now=now))


def test_most_specific_policy_wins(world: World) -> None:
    with world.store.write() as s:
        for name, kw in [("Normal", {"priority": Priority.NORMAL}),
                         ("Urgent", {"priority": Priority.URGENT}),
                         ("VIP", {"tier": "vip"}),
                         ("Basic", {"category": "basic"}),
                         ("Major", {"priority": Priority.URGENT, "category": "major"})]:
            sla_admin.set_policy(s, ADMIN, name=name, first_response=30, resolution=60,
                                 **kw)  # type: ignore[arg-type]
        book = load_book(s)

    def pick(prio: Priority, tier: str | None, cat: str | None) -> str | None:
        p = book.choose(int(prio), tier, cat)
        return p.name if p else None

    assert pick(Priority.NORMAL, "standard", None) == "Normal"
    assert pick(Priority.HIGH, "standard", None) is None
    assert pick(Priority.HIGH, "VIP", None) == "VIP"
    assert pick(Priority.NORMAL, "vip", "Basic") == "Basic"   # category beats tier
    assert pick(Priority.URGENT, None, "major") == "Major"   # category + priority
    assert pick(Priority.NORMAL, None, "major") == "Normal"


def test_due_times_on_create_in_business_hours(world: World, clock: FakeClock) -> None:
    with world.store.write() as s:
        sla_admin.set_hours(s, ADMIN, name="Office", timezone="Europe/London",
                            days={d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
        sla_admin.set_policy(s, ADMIN, name="Office", first_response=60, resolution=600,
                             hours="Office")
        sched = load_book(s).schedule(load_book(s).policies[0])
    clock.now = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)  # Friday 16:30 London
    t = ticket(world.store, new_ticket(world))
    assert t.first_response_due_at == datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # Monday
    assert t.resolution_due_at == add_minutes(sched, clock.now, 600)
    assert t.sla_due_at == t.first_response_due_at
    assert t.sla_check_at == datetime(2026, 12, 7, 9, 18, tzinfo=UTC)  # 80 % of 60 min
    assert not t.sla_at_risk and not t.sla_breached


def test_first_reply_stops_first_response_and_starts_next(sla_world: World,
                                                          clock: FakeClock) -> None:
    tid = new_ticket(sla_world)
    created = clock.now
    replied = clock.advance(20 * MIN)
    with sla_world.store.write() as s:
        tickets.reply(s, actor(sla_world, "alice"), tid, "On it.")
    t = ticket(sla_world.store, tid)
    assert t.first_response_due_at == created + 60 * MIN  # kept as history
    assert t.next_response_due_at == replied + 120 * MIN
    assert t.sla_due_at == replied + 120 * MIN  # nearest running: next response
    with sla_world.store.read() as s:
        clocks = {c.clock: c for c in sla_admin.clocks(s, tid, now=replied)}
    assert not clocks["first_response"].running and clocks["first_response"].used_minutes == 20
    assert clocks["next_response"].running and clocks["resolution"].used_minutes == 20
    # An internal note is not a response: next response keeps running from the reply.
    clock.advance(30 * MIN)
    with sla_world.store.write() as s:
        tickets.note(s, actor(sla_world, "alice"), tid, "internal")
    assert ticket(sla_world.store, tid).next_response_due_at == replied + 120 * MIN


def test_pending_pauses_every_clock(sla_world: World, clock: FakeClock) -> None:
    tid = new_ticket(sla_world)
    created = clock.now
    clock.advance(10 * MIN)
    set_status(sla_world, tid, Status.PENDING)
    t = ticket(sla_world.store, tid)
    assert t.sla_due_at is None and t.sla_check_at is None
    # Days pass while the customer is asked: nothing to sweep, nothing breaches.
    assert sweep(sla_world.store, clock.advance(timedelta(days=3))).checked == 0
    set_status(sla_world, tid, Status.OPEN)
    t = ticket(sla_world.store, tid)
    assert t.first_response_due_at == clock.now + 50 * MIN
    assert t.resolution_due_at == clock.now + 470 * MIN
    assert t.resolution_due_at - created > timedelta(days=3)
    assert not t.sla_breached


def test_solve_stops_and_reopen_restarts_resolution(sla_world: World, clock: FakeClock) -> None:
    tid = new_ticket(sla_world)
    with sla_world.store.write() as s:
        tickets.reply(s, actor(sla_world, "alice"), tid, "Fixed.")
    clock.advance(10 * MIN)
    set_status(sla_world, tid, Status.SOLVED)
    t = ticket(sla_world.store, tid)
    assert t.sla_due_at is None and t.sla_check_at is None
    reopened = clock.advance(timedelta(days=2))
    set_status(sla_world, tid, Status.OPEN)
    t = ticket(sla_world.store, tid)
    assert t.resolution_due_at == reopened + 480 * MIN
    assert t.next_response_due_at == reopened + 120 * MIN
    assert t.sla_due_at == reopened + 120 * MIN and not t.sla_breached


def test_sweep_flags_at_risk_then_breach_once(sla_world: World, clock: FakeClock) -> None:
    tid = new_ticket(sla_world)
    created = clock.now
    assert sweep(sla_world.store, created + 47 * MIN).checked == 0
    report = sweep(sla_world.store, created + 48 * MIN)
    assert [o.became_at_risk for o in report.outcomes] == [True]
    assert ticket(sla_world.store, tid).sla_at_risk
    report = sweep(sla_world.store, created + 61 * MIN)
    assert report.outcomes[0].breaches == ["first_response"]
    t = ticket(sla_world.store, tid)
    assert t.sla_breached and not t.sla_at_risk
    assert t.sla_check_at == created + 384 * MIN  # resolution at risk next
    for later in (62, 90, 383, 384, 400):
        sweep(sla_world.store, created + later * MIN)
    assert len(events(sla_world.store, "sla.at_risk", tid)) == 2  # first response, resolution
    breached = events(sla_world.store, "sla.breached", tid)
    assert [b["clock"] for b in breached] == ["first_response"]
    assert breached[0]["late"] is False


def test_late_reply_records_breach_without_escalating(sla_world: World,
                                                      clock: FakeClock) -> None:
    with sla_world.store.write() as s:
        sla_admin.set_rule(s, ADMIN, name="tell", action="notify_supervisor")
    tid = new_ticket(sla_world)
    clock.advance(90 * MIN)  # nobody swept
    with sla_world.store.write() as s:
        tickets.reply(s, actor(sla_world, "alice"), tid, "Sorry for the wait.")
    assert ticket(sla_world.store, tid).sla_breached
    assert [b["late"] for b in events(sla_world.store, "sla.breached", tid)] == [True]
    assert events(sla_world.store, "notify.supervisor", tid) == []


@pytest.fixture
def escalating(sla_world: World) -> World:
    with sla_world.store.write() as s:
        sla_admin.set_team_lead(s, ADMIN, "billing", "sam")
        for action in ("raise_priority", "reassign_lead", "notify_supervisor"):
            sla_admin.set_rule(s, ADMIN, name=action, action=action, clock="first_response")
    return sla_world


def test_breach_runs_each_escalation_action_exactly_once(escalating: World,
                                                         clock: FakeClock) -> None:
    store = escalating.store
    tid = new_ticket(escalating)
    with store.write() as s:
        tickets.assign(s, ADMIN, tid, "alice")
    version = ticket(store, tid).version
    for minutes in (61, 61, 75, 200, 500):
        sweep(store, clock.now + minutes * MIN)
    t = ticket(store, tid)
    assert Priority(t.priority) is Priority.HIGH and t.assignee_id is not None
    with store.read() as s:
        assert agents.get_agent(s, "sam").id == t.assignee_id
    assert t.version == version + 2  # priority and assignee changed; flags alone do not bump
    escalations = events(store, "sla.escalation", tid)
    assert sorted(e["action"] for e in escalations) == ["raise_priority", "reassign_lead"]
    assert escalations[0]["before"] == {"priority": "normal"}
    notes = events(store, "notify.supervisor", tid)
    assert len(notes) == 1 and notes[0]["supervisor"] == "sam"
    assert notes[0]["clock"] == "first_response" and notes[0]["team"] == "billing"
    # The resolution breach (at 480 min) is its own breach, but no rule names that clock.
    assert [b["clock"] for b in events(store, "sla.breached", tid)] == [
        "first_response", "resolution"]


def test_two_concurrent_sweeps_do_not_double_escalate(escalating: World,
                                                      clock: FakeClock) -> None:
    store = escalating.store
    ids = [new_ticket(escalating, customer_email=f"c{i}@example.com") for i in range(6)]
    now = clock.now + 61 * MIN
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            store.run_write(lambda s: sla.sweep(s, ADMIN, now=now))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors
    for tid in ids:
        assert len(events(store, "sla.breached", tid)) == 1
        assert len(events(store, "notify.supervisor", tid)) == 1
        assert sorted(e["action"] for e in events(store, "sla.escalation", tid)) == [
            "raise_priority", "reassign_lead"]
        assert Priority(ticket(store, tid).priority) is Priority.HIGH


def test_skipped_action_is_still_one_event(sla_world: World, clock: FakeClock) -> None:
    with sla_world.store.write() as s:
        sla_admin.set_rule(s, ADMIN, name="lead", action="reassign_lead")
    tid = new_ticket(sla_world, team="tech")
    sweep(sla_world.store, clock.now + 61 * MIN)
    (event,) = events(sla_world.store, "sla.escalation", tid)
    assert event["skipped"] == "team has no lead"
    assert ticket(sla_world.store, tid).assignee_id is None


def test_vip_tier_changes_the_targets(sla_world: World, clock: FakeClock) -> None:
    with sla_world.store.write() as s:
        sla_admin.set_policy(s, ADMIN, name="VIP", tier="vip", first_response=15,
                             resolution=120)
    tid = new_ticket(sla_world, customer_email="vip@example.com")
    with sla_world.store.write() as s:
        customer = s.exec(select(Customer).where(Customer.email == "vip@example.com")).one()
        customer.tier = "vip"
        s.add(customer)
    run_recompute(sla_world.store, ADMIN, now=clock.now)
    assert ticket(sla_world.store, tid).first_response_due_at == clock.now + 15 * MIN


def test_run_sweep_reports_and_an_idle_store_does_not_write(sla_world: World,
                                                            clock: FakeClock) -> None:
    tid = new_ticket(sla_world)
    assert run_sweep(sla_world.store, ADMIN, now=clock.now).checked == 0
    result = run_sweep(sla_world.store, ADMIN, now=clock.now + 61 * MIN)
    assert result.checked == 1 and result.changed[0].ticket_id == tid
    assert result.changed[0].breached == ["first_response"]


def test_reopen_by_an_earlier_reaction_restarts_resolution(sla_world: World,
                                                           clock: FakeClock) -> None:
    """The closed loop may reopen a solved ticket before SLA runs: the state says so."""
    from agent_tui.services.lifecycle import TicketChange

    tid = new_ticket(sla_world)
    with sla_world.store.write() as s:
        tickets.reply(s, actor(sla_world, "alice"), tid, "Done.")
    set_status(sla_world, tid, Status.SOLVED)
    later = clock.advance(timedelta(days=1))
    with sla_world.store.write() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        t.status, t.is_open, t.solved_at = Status.OPEN, True, None
        sla.recompute(s, ADMIN, t, change=TicketChange(
            "customer_message", Status.SOLVED, Status.SOLVED))
    t = ticket(sla_world.store, tid)
    assert t.resolution_due_at == later + 480 * MIN
    assert t.next_response_due_at == later + 120 * MIN


def test_rules_match_on_policy_priority_and_clock(sla_world: World, clock: FakeClock) -> None:
    with sla_world.store.write() as s:
        sla_admin.set_rule(s, ADMIN, name="urgent only", action="notify_supervisor",
                           priority=Priority.URGENT)
        sla_admin.set_rule(s, ADMIN, name="resolution only", action="raise_priority",
                           policy="Any", clock="resolution")
        book = load_book(s)
        policy = book.policies[0]
    assert book.actions_for(policy, int(Priority.NORMAL), "first_response") == []
    assert book.actions_for(policy, int(Priority.URGENT), "first_response") == [
        "notify_supervisor"]
    assert book.actions_for(policy, int(Priority.NORMAL), "resolution") == ["raise_priority"]
    assert book.actions_for(None, int(Priority.NORMAL), "resolution") == []
    tid = new_ticket(sla_world)
    sweep(sla_world.store, clock.now + 61 * MIN)
    assert events(sla_world.store, "notify.supervisor", tid) == []
    assert events(sla_world.store, "sla.escalation", tid) == []


def test_at_risk_share_is_configurable(sla_world: World, clock: FakeClock) -> None:
    with sla_world.store.write() as s:
        sla_admin.set_risk_percent(s, ADMIN, 50)
    tid = new_ticket(sla_world)
    assert ticket(sla_world.store, tid).sla_check_at == clock.now + 30 * MIN
    sweep(sla_world.store, clock.now + 30 * MIN)
    assert ticket(sla_world.store, tid).sla_at_risk
