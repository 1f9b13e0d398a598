"""Routing: eligibility, least loaded + round robin, VIP, language, skills, reopen, events.

Store tests run on SQLite and PostgreSQL (the ``world`` fixture); the
must-hold "never away/offline/over capacity" is also a Hypothesis property
over random agent pools, on the pure decision.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from agent_tui.domain.enums import AgentStatus, Channel, Role, Source, Status
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.routing import Candidate, Needs, decide, detect_language
from agent_tui.domain.tables import Customer, Event, Ticket
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.services import agents, inbound, routing, tickets
from agent_tui.services.customers import add_identity
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, World

# -- the pure decision ----------------------------------------------------

statuses = st.sampled_from(list(AgentStatus))
pool = st.lists(st.builds(
    Candidate,
    agent_id=st.integers(1, 10_000), login=st.just("a"), status=statuses, active=st.booleans(),
    capacity=st.integers(1, 5), load=st.integers(0, 7),
    skills=st.frozensets(st.sampled_from(["billing", "refunds", "senior"]), max_size=3),
    languages=st.frozensets(st.sampled_from(["en", "zh"]), max_size=2),
    last_routed_seq=st.none() | st.integers(1, 100)), max_size=12, unique_by=lambda c: c.agent_id)
needs = st.builds(Needs, team_id=st.just(1),
                  skills=st.frozensets(st.sampled_from(["billing", "refunds"]), max_size=2),
                  language=st.sampled_from(["en", "zh"]), vip=st.booleans())


@given(pool, needs)
@settings(max_examples=300, deadline=None)
def test_never_away_offline_disabled_or_over_capacity(agents_: list[Candidate],
                                                       need: Needs) -> None:
    winner = decide(agents_, need).winner
    ok = [c for c in agents_ if c.active and c.status is AgentStatus.ONLINE
          and c.load < c.capacity and need.skills <= c.skills
          and need.language in (c.languages or {"en"})]
    if winner is None:
        assert ok == []
        return
    assert winner.status is AgentStatus.ONLINE and winner.active
    assert winner.load < winner.capacity and need.skills <= winner.skills
    # Least loaded (as a share of capacity) among the eligible, seniors first for VIPs.
    pool_ = [c for c in ok if "senior" in c.skills] if need.vip else ok
    pool_ = pool_ or ok
    assert winner.load / winner.capacity == min(c.load / c.capacity for c in pool_)


def test_ties_go_to_whoever_waited_longest() -> None:
    a = Candidate(1, "a", AgentStatus.ONLINE, True, 5, 1, frozenset(), frozenset(), 30)
    b = Candidate(2, "b", AgentStatus.ONLINE, True, 5, 1, frozenset(), frozenset(), 10)
    c = Candidate(3, "c", AgentStatus.ONLINE, True, 5, 1, frozenset(), frozenset(), None)
    d = decide([a, b, c], Needs(team_id=1))
    assert d.winner == c and "round robin" in d.reason


@pytest.mark.parametrize(("text", "lang"), [
    ("My parcel never arrived", "en"), ("我的包裹还没到", "zh"),
    ("订单 A-1001 的 Aurora Hub 坏了", "zh"), ("注文がまだ届きません", "ja"), ("1234", "en")])
def test_language_by_script(text: str, lang: str) -> None:
    assert detect_language(text) == lang


# -- helpers over a store ---------------------------------------------------

def _set(world: World, login: str, **kw: object) -> None:
    with world.store.write() as s:
        agents.set_agent(s, ADMIN, login, **kw)  # type: ignore[arg-type]


def _mail(world: World, sender: str, body: str = "Please help with my invoice", *,
          team: str | None = "billing", subject: str | None = None) -> tuple[int, str | None]:
    with world.store.write() as s:
        r = inbound.receive(s, ADMIN, "email", address=sender, body=body, team=team,
                            subject=subject or f"Question from {sender}")
    return r.ticket_id, r.assignee


def _kinds(world: World, ticket_id: int) -> list[str]:
    with world.store.read() as s:
        return list(s.exec(select(Event.kind).where(Event.entity == "ticket",
                                                    Event.entity_id == ticket_id)
                           .order_by(col(Event.seq))))


def _load(world: World, login: str) -> int:
    with world.store.read() as s:
        agent = agents.get_agent(s, login)
        return len(list(s.exec(select(Ticket.id).where(Ticket.assignee_id == agent.id,
                                                       Ticket.is_open == True))))  # noqa: E712


# -- store tests ------------------------------------------------------------

def test_least_loaded_then_round_robin(world: World) -> None:
    # billing: ada, sam, alice — all online, capacity 10.
    first = [_mail(world, f"c{i}@example.com")[1] for i in range(3)]
    assert sorted(first) == ["ada", "alice", "sam"]  # one each: least loaded
    nxt = [_mail(world, f"d{i}@example.com")[1] for i in range(3)]
    assert nxt == first  # all equal again: the same rotation, persisted in the store


def test_away_and_offline_get_nothing_and_capacity_holds(world: World) -> None:
    _set(world, "sam", status=AgentStatus.AWAY)
    _set(world, "alice", status=AgentStatus.OFFLINE)
    _set(world, "ada", capacity=2)
    got = [_mail(world, f"c{i}@example.com")[1] for i in range(4)]
    assert got == ["ada", "ada", None, None]
    assert _load(world, "ada") == 2 and _load(world, "sam") == 0 and _load(world, "alice") == 0
    tid = _mail(world, "late@example.com")[0]
    assert _kinds(world, tid) == ["ticket.created", "ticket.queued"]
    with world.store.read() as s:
        diff = s.exec(select(Event.diff).where(Event.entity_id == tid,
                                               Event.kind == "ticket.queued")).one()
    reason = json.loads(diff)["reason"]
    assert "no eligible agent" in reason and "away" in reason and "offline" in reason


def test_skill_from_the_rule_map(world: World) -> None:
    with world.store.write() as s:
        routing.set_rule(s, ADMIN, "keyword", "refund", skill="refunds", team="billing")
    # No team given: the keyword rule places it in billing; only alice has "refunds".
    for i in range(3):
        assert _mail(world, f"r{i}@example.com", "I want a refund", team=None)[1] == "alice"
    with world.store.write() as s:
        routing.set_rule(s, ADMIN, "category", "billing", skill="billing", team=None)
    with world.store.read() as s:
        rules = {(r.field, r.value): r.skill for r, _ in routing.list_rules(s)}
    assert rules == {("keyword", "refund"): "refunds", ("category", "billing"): "billing"}


def test_the_first_thing_the_customer_names_decides_the_skill(world: World) -> None:
    with world.store.write() as s:
        routing.set_rule(s, ADMIN, "keyword", "refund", skill="refunds", team="billing")
        routing.set_rule(s, ADMIN, "keyword", "order", skill="orders", team="logistics")
        placed = routing.place(s, category=None, product=None, channel="email",
                               text="Refund for order A-1001, I was charged twice")
        assert placed.skills == frozenset({"refunds"})  # not refunds + orders together
        assert placed.team_id == agents.get_team(s, "billing").id
        placed = routing.place(s, category=None, product=None, channel="email",
                               text="My order arrived broken, I want a refund")
        assert placed.team_id == agents.get_team(s, "logistics").id
        assert placed.skills == frozenset({"orders"})


def test_pending_and_on_hold_tickets_do_not_take_capacity(world: World) -> None:
    _set(world, "sam", status=AgentStatus.AWAY)
    _set(world, "alice", status=AgentStatus.OFFLINE)
    _set(world, "ada", capacity=1)
    first, who = _mail(world, "c1@example.com")
    assert who == "ada"
    assert _mail(world, "c2@example.com")[1] is None  # ada is at capacity
    with world.store.write() as s:
        version = s.get(Ticket, first).version  # type: ignore[union-attr]
        tickets.update(s, ADMIN, first, TicketUpdate(status=Status.PENDING),
                       expected_version=version)
    assert _mail(world, "c3@example.com")[1] == "ada"  # waiting on the customer: a free slot


def test_chinese_text_goes_to_a_chinese_speaker(world: World) -> None:
    # tech: sam (en) and bob (en, zh). Load sam lower so only language decides.
    _set(world, "bob", capacity=50)
    assert _mail(world, "zh@example.com", "我的设备无法连接网络", team="tech")[1] == "bob"
    assert _mail(world, "zh@example.com", "还是不行，请帮忙", team="tech",
                 subject="其他问题")[1] == "bob"


def test_vip_goes_to_senior_first(world: World) -> None:
    _set(world, "sam", skills=["billing", "senior"])
    # sam is busier than the others, but the VIP goes to the senior agent.
    for i in range(2):
        _mail(world, f"s{i}@example.com", team="billing")
    with world.store.write() as s:
        vip = Customer(name="Vera VIP", email="vera@example.com", tier="vip")
        s.add(vip)
        s.flush()
        assert vip.id is not None
        add_identity(s, vip.id, Channel.EMAIL, "vera@example.com")
    _, who = _mail(world, "vera@example.com")
    assert who == "sam"
    with world.store.read() as s:
        ev = s.exec(select(Event).where(Event.kind == "ticket.routed")
                    .order_by(col(Event.seq).desc())).first()
        assert ev is not None and "VIP to senior" in json.loads(ev.diff)["reason"]


def test_every_assignment_is_exactly_one_event(world: World) -> None:
    ids = [_mail(world, f"e{i}@example.com")[0] for i in range(5)]
    with world.store.read() as s:
        routed = Counter(e.entity_id for e in s.exec(
            select(Event).where(Event.kind == "ticket.routed")))
        assert routed == Counter(ids)
        for e in s.exec(select(Event).where(Event.kind == "ticket.routed")):
            diff = json.loads(e.diff)
            assert diff["after"]["assignee"] and diff["reason"] and diff["trigger"] == "created"
            t = s.get(Ticket, e.entity_id)
            assert t is not None and t.version == diff["after"]["version"]


def test_tickets_filed_by_staff_are_not_routed(world: World) -> None:
    with world.store.write() as s:
        t = tickets.create(s, ADMIN, TicketCreate(subject="Phone call", body="Logged by hand",
                                                  customer_email="x@example.com", team="billing"))
    assert t.assignee is None and _kinds(world, t.id) == ["ticket.created"]


def test_reopen_keeps_an_available_agent_and_reroutes_otherwise(world: World) -> None:
    alice = Actor(login="alice", role=Role.AGENT, source=Source.TUI,
                  agent_id=_agent_id(world, "alice"))
    _set(world, "ada", status=AgentStatus.OFFLINE)
    _set(world, "sam", status=AgentStatus.OFFLINE)
    tid, who = _mail(world, "jo@example.com", subject="Invoice")
    assert who == "alice"

    def solve() -> None:
        with world.store.write() as s:
            v = s.get(Ticket, tid).version  # type: ignore[union-attr]
            tickets.update(s, alice, tid, TicketUpdate(status=Status.SOLVED), expected_version=v)

    solve()
    _mail(world, "jo@example.com", "Thanks, but it happened again", subject="Re: Invoice")
    assert _kinds(world, tid)[-1] == "ticket.reopened"  # alice still free: she keeps it
    solve()
    _set(world, "alice", status=AgentStatus.OFFLINE)
    _set(world, "sam", status=AgentStatus.ONLINE)
    _mail(world, "jo@example.com", "Still broken", subject="Re: Invoice")
    assert _kinds(world, tid)[-2:] == ["ticket.reopened", "ticket.routed"]
    with world.store.read() as s:
        t = s.get(Ticket, tid)
        assert t is not None and t.status == Status.OPEN
        assert t.assignee_id == _agent_id(world, "sam")


def _agent_id(world: World, login: str) -> int:
    with world.store.read() as s:
        a = agents.get_agent(s, login)
        assert a.id is not None
        return a.id


def test_concurrent_routing_never_exceeds_capacity(world: World) -> None:
    _set(world, "sam", status=AgentStatus.OFFLINE)
    _set(world, "alice", status=AgentStatus.OFFLINE)
    _set(world, "ada", capacity=1)
    results: list[str | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(world.store.run_write(lambda s: inbound.receive(
                s, ADMIN, "email", address=f"p{i}@example.com", body="hello",
                team="billing")).assignee)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert Counter(results) == Counter({"ada": 1, None: 3})
    assert _load(world, "ada") == 1


def test_explain_lists_every_candidate_for_supervisors_only(world: World) -> None:
    _set(world, "sam", status=AgentStatus.AWAY)
    with world.store.write() as s:
        t = tickets.create(s, ADMIN, TicketCreate(subject="Bill", body="Invoice please",
                                                  customer_email="q@example.com", team="billing"))
    with world.store.read() as s:
        view = routing.explain(s, ADMIN, t.id)
        alice = Actor(login="alice", role=Role.AGENT, agent_id=1)
        with pytest.raises(Forbidden):
            routing.explain(s, alice, t.id)
    by = {c.login: c for c in view.candidates}
    assert set(by) == {"ada", "sam", "alice"}
    assert by["sam"].why_not == "away" and not by["sam"].eligible
    assert view.winner in {"ada", "alice"} and by[view.winner].rank == 1


def test_settings_are_validated_and_audited(world: World) -> None:
    with world.store.write() as s:
        assert routing.set_setting(s, ADMIN, "bot.threshold", "0.8")["bot.threshold"] == "0.8"
        with pytest.raises(Invalid):
            routing.set_setting(s, ADMIN, "bot.threshold", "2")
        with pytest.raises(Invalid):
            routing.set_setting(s, ADMIN, "nonsense", "1")
        assert s.exec(select(Event).where(Event.kind == "routing.setting_changed")).first()


def test_load_count_reads_the_partial_index(world: World) -> None:
    if world.store.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from agent_tui.services.routing import load_statements

    (stmt,) = load_statements({1: 10, 2: 10}, "sqlite")
    sql = stmt.text
    with world.store.read() as s:
        rows = s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
    text = " ".join(str(r) for r in rows)
    assert "ix_q_asg" in text and "SCAN ticket" not in text


def test_agents_cannot_change_the_map(world: World) -> None:
    alice = Actor(login="alice", role=Role.AGENT, agent_id=1)
    with world.store.write() as s, pytest.raises(Forbidden):
        routing.set_rule(s, alice, "category", "billing", skill="billing", team=None)



def test_migration_downgrades_and_upgrades(world: World) -> None:
    from alembic import command

    from agent_tui.store.migrate import _config

    with world.store.write() as s:
        routing.set_rule(s, ADMIN, "category", "billing", skill="billing", team=None)
    cfg = _config()
    for target, fn in (("0004", command.downgrade), ("head", command.upgrade)):
        with world.store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            fn(cfg, target)
            names = set(sa.inspect(conn).get_table_names())
            assert ("routing_rule" in names) is (target == "head")
    with world.store.read() as s:
        assert routing.list_rules(s) == []
    assert _mail(world, "after@example.com")[1] is not None  # routing works again


def test_random_pools_through_the_store_never_break_the_rules(world: World) -> None:
    """The must-hold end to end (bounded load counts, locks, rotation), over seeded pools."""
    import random

    rnd = random.Random(20261202)
    logins = ["ada", "sam", "alice"]  # billing
    for round_ in range(6):
        pool_ = {x: (rnd.choice(list(AgentStatus)), rnd.randint(1, 3)) for x in logins}
        for login, (status, cap) in pool_.items():
            _set(world, login, status=status, capacity=cap)
        free = sum(cap for status, cap in pool_.values() if status is AgentStatus.ONLINE)
        got = [_mail(world, f"p{round_}-{i}@example.com")[1] for i in range(5)]
        # Exactly the free slots are filled, each by an online agent within capacity.
        assert sum(who is not None for who in got) == min(free, 5)
        for login, (status, cap) in pool_.items():
            load = _load(world, login)
            assert load <= cap
            if status is not AgentStatus.ONLINE:
                assert load == 0
        with world.store.write() as s:  # solve everything: each round starts from zero load
            for t in s.exec(select(Ticket).where(Ticket.is_open == True)):  # noqa: E712
                t.status, t.is_open = Status.SOLVED, False
                s.add(t)
