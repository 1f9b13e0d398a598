"""Metric definitions against a hand-computed fixture, on SQLite and PostgreSQL.

Six tickets with exact times (the services' clock is pinned), on 2026-03-02
from T0 = 09:00 UTC; every figure below is worked out by hand from the
definitions in ``agent_tui.services.metrics``:

A email/billing  created T0,     reply +10m, solved +1h          rated 5/10 at +2h
B chat/billing   created T0+5m,  reply +35m, customer +50m, reply +1h10m, solved +2h
                                                                  rated 2/6 at +3h
C email/tech     created T0+10m, reply +20m, solved +30m, reopened +3h, solved +4h
                                                                  rated 4/8 at +5h (late)
D chat/billing   created T0+15m, bot message +16m, bot.resolved, solved +20m (self-service)
E app/tech       created T0+20m, bot message +21m, reply +30m (hand-off), still open
F email/billing  created T0+25m, unanswered (new)

SLA targets (set on the rows): A met both; B missed its first response.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from agent_tui.domain.enums import AuthorKind, Channel, Role, Source, Status
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.tables import Message, Ticket
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.domain.views_metrics import GroupBy, Kpis, MetricsSnapshot
from agent_tui.services import metrics, metrics_facts, metrics_rollup, surveys, tickets
from agent_tui.services.agents import actor_for
from agent_tui.store import Store
from agent_tui.store.events import Actor, append_event
from tests.conftest import ADMIN, World

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=6)
BOT = Actor.system(Source.BOT, login="bot")


class Clock:
    """The services' ``utcnow``, pinned to a moment the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    for module in ("agent_tui.services.tickets", "agent_tui.store.events",
                   "agent_tui.services.surveys", "agent_tui.services.autoclose"):
        monkeypatch.setattr(f"{module}.utcnow", c)
    return c


@dataclass
class Fixture:
    store: Store
    clock: Clock
    ids: dict[str, int]
    actors: dict[str, Actor]

    def snap(self, window: str = "24h", by: GroupBy | None = None) -> MetricsSnapshot:
        with self.store.read() as s:
            return metrics.snapshot(s, self.actors["sam"], window, by, now=NOW)


def _message(store: Store, ticket_id: int, kind: AuthorKind, at: datetime) -> None:
    """A customer or bot message written straight to the thread (no inbound path here)."""
    with store.write() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        s.add(Message(ticket_id=ticket_id, author_kind=kind, public=True, body="…",
                      author_customer_id=t.customer_id if kind is AuthorKind.CUSTOMER else None,
                      channel=Channel(t.channel), created_at=at))
        metrics_facts.refresh_fact(s, ticket_id)


def build_fixture(world: World, clock: Clock, *, rate_c: bool = True,
                  reopen_c: bool = True) -> Fixture:
    store = world.store
    with store.read() as s:
        actors = {login: actor_for(s, login, "tui") for login in ("alice", "bob", "sam")}
    alice, bob = actors["alice"], actors["bob"]
    ids: dict[str, int] = {}

    def run(minutes: float, fn: Callable[..., object]) -> object:
        clock.at(minutes)
        with store.write() as s:
            return fn(s)

    def create(name: str, minutes: float, channel: Channel, team: str) -> None:
        d = run(minutes, lambda s: tickets.create(s, ADMIN, TicketCreate(
            subject=f"ticket {name}", body="help", channel=channel, team=team,
            customer_email=f"{name.lower()}@example.com")))
        ids[name] = d.id  # type: ignore[attr-defined]

    def reply(name: str, minutes: float, who: Actor) -> None:
        run(minutes, lambda s: tickets.reply(s, who, ids[name], "answer"))

    def status(name: str, minutes: float, who: Actor, new: Status) -> None:
        def go(s: object) -> None:
            t = s.get(Ticket, ids[name])  # type: ignore[attr-defined]
            tickets.update(s, who, ids[name], TicketUpdate(status=new),  # type: ignore[arg-type]
                           expected_version=t.version)
        run(minutes, go)

    create("A", 0, Channel.EMAIL, "billing")
    create("B", 5, Channel.CHAT, "billing")
    create("C", 10, Channel.EMAIL, "tech")
    create("D", 15, Channel.CHAT, "billing")
    create("E", 20, Channel.APP, "tech")
    create("F", 25, Channel.EMAIL, "billing")
    reply("A", 10, alice)
    reply("C", 20, bob)
    _message(store, ids["D"], AuthorKind.BOT, T0 + timedelta(minutes=16))
    clock.at(20)
    with store.write() as s:
        append_event(s, BOT, kind="bot.resolved", entity="ticket", entity_id=ids["D"])
    status("D", 20, BOT, Status.SOLVED)
    _message(store, ids["E"], AuthorKind.BOT, T0 + timedelta(minutes=21))
    reply("E", 30, bob)
    status("C", 30, bob, Status.SOLVED)
    reply("B", 35, alice)
    _message(store, ids["B"], AuthorKind.CUSTOMER, T0 + timedelta(minutes=50))
    status("A", 60, alice, Status.SOLVED)
    reply("B", 70, alice)
    status("B", 120, alice, Status.SOLVED)
    run(120, lambda s: surveys.record_rating(s, ADMIN, ids["A"], csat=5, nps=10))
    run(180, lambda s: surveys.record_rating(s, ADMIN, ids["B"], csat=2, nps=6))
    if reopen_c:
        status("C", 180, bob, Status.OPEN)
        status("C", 240, bob, Status.SOLVED)
    if rate_c:
        run(300, lambda s: surveys.record_rating(s, ADMIN, ids["C"], csat=4, nps=8))
    with store.write() as s:  # SLA targets, set last so that nothing recomputes them
        for name, fr_due, res_due in (("A", 15, 120), ("B", 20, 180)):
            s.execute(sa.update(Ticket).where(Ticket.id == ids[name]).values(
                first_response_due_at=T0 + timedelta(minutes=fr_due),
                resolution_due_at=T0 + timedelta(minutes=res_due)))
            metrics_facts.refresh_fact(s, ids[name])
    return Fixture(store, clock, ids, actors)


@pytest.fixture
def fx(world: World, clock: Clock) -> Iterator[Fixture]:
    yield build_fixture(world, clock)


@pytest.mark.parametrize("window", ["24h", "1d", "30d"])  # the facts path, the counters path
def test_every_kpi_matches_the_hand_computed_values(fx: Fixture, window: str) -> None:
    snap = fx.snap(window)
    assert snap.facts_pending == 0  # tickets made by the services have theirs already
    k = snap.overall
    assert (k.created, k.solved) == (6, 4)
    # FRT: A 600, B 1800, C 600, E 600 -> median 600, p90 (4th of 4) 1800.
    assert k.first_response.count == 4
    assert k.first_response.median_s == pytest.approx(600, rel=0.045)
    assert k.first_response.p90_s == pytest.approx(1800, rel=0.045)
    # Next response: B's customer wrote at +50m, answered at +1h10m.
    assert (k.next_response.count, k.next_response.mean_s) == (1, 1200)
    # Resolution: D 300, A 3600, B 6900, C 13800 -> median 5250, p90 13800.
    assert k.resolution.count == 4
    assert k.resolution.median_s == pytest.approx(5250, rel=0.045)
    assert k.resolution.p90_s == pytest.approx(13800, rel=0.045)
    # AHT over A, B, C: A 600; B min(30m,15m)+min(20m,15m) = 1800; C 600 -> 3000 / 3.
    assert k.handle_time_mean_s == 1000
    assert (k.fcr, k.fcr_tickets, k.reopened) == (pytest.approx(1 / 3), 1, 1)
    assert k.resolution_rate == pytest.approx(4 / 6)
    assert (k.csat, k.csat_responses) == (pytest.approx(2 / 3), 3)
    assert (k.nps, k.nps_responses) == (0.0, 3)  # one promoter, one detractor, one passive
    assert (k.self_service_rate, k.bot_resolved) == (0.25, 1)
    assert (k.human_intervention_rate, k.bot_handled) == (0.5, 2)
    assert (k.sla_compliance, k.sla_breaches) == (0.5, 1)


def test_hour_windows_give_exact_percentiles_and_means(fx: Fixture) -> None:
    k = fx.snap("24h").overall
    assert (k.first_response.median_s, k.first_response.p90_s, k.first_response.mean_s) == (
        600, 1800, 900)
    assert (k.resolution.median_s, k.resolution.p90_s, k.resolution.mean_s) == (
        5250, 13800, 6150)


def test_backlog(fx: Fixture) -> None:
    b = fx.snap().backlog
    assert (b.total, b.by_status, b.by_channel) == (2, {"new": 1, "open": 1},
                                                     {"app": 1, "email": 1})
    assert b.by_team == {"billing": 1, "tech": 1}
    with fx.store.read() as s:
        overdue = s.execute(sa.select(sa.func.count()).select_from(Ticket).where(
            Ticket.is_open, Ticket.sla_due_at < NOW)).scalar()  # type: ignore[operator]
    assert b.past_due == overdue


@pytest.mark.parametrize("window", ["24h", "1d"])
def test_groups_by_channel_team_and_day(fx: Fixture, window: str) -> None:
    by_channel = {g.key: g.kpis for g in fx.snap(window, GroupBy.CHANNEL).groups}
    assert set(by_channel) == {"app", "chat", "email"}
    email, chat = by_channel["email"], by_channel["chat"]
    assert (email.created, email.solved, email.fcr) == (3, 2, 0.5)  # A yes, C reopened
    assert (chat.created, chat.solved, chat.fcr, chat.self_service_rate) == (2, 2, 0.0, 0.5)
    assert by_channel["app"].human_intervention_rate == 1.0
    by_team = {g.key: g.kpis for g in fx.snap(window, GroupBy.TEAM).groups}
    assert (by_team["billing"].created, by_team["tech"].created) == (4, 2)
    assert by_team["billing"].csat == 0.5 and by_team["tech"].csat == 1.0
    days = fx.snap(window, GroupBy.DAY).groups
    assert [g.key for g in days] == ["2026-03-02"] and days[0].kpis.created == 6
    agents = fx.snap(window, GroupBy.AGENT).groups
    assert sum(g.kpis.created for g in agents) == 6
    assert sum(g.kpis.solved for g in agents) == 4


def test_a_reopen_takes_fcr_away_and_a_late_rating_changes_csat(world: World,
                                                                clock: Clock) -> None:
    fx = build_fixture(world, clock, rate_c=False, reopen_c=False)
    before = fx.snap().overall
    assert (before.fcr, before.csat, before.nps) == (pytest.approx(2 / 3), 0.5, 0.0)
    bob = fx.actors["bob"]
    for minutes, new in ((180, Status.OPEN), (240, Status.SOLVED)):
        clock.at(minutes)
        with fx.store.write() as s:
            t = s.get(Ticket, fx.ids["C"])
            assert t is not None
            tickets.update(s, bob, fx.ids["C"], TicketUpdate(status=new),
                           expected_version=t.version)
    reopened = fx.snap().overall
    assert (reopened.fcr, reopened.reopened) == (pytest.approx(1 / 3), 1)
    for window in ("24h", "1d"):
        assert fx.snap(window).overall.fcr == pytest.approx(1 / 3)
    clock.at(300)
    with fx.store.write() as s:
        surveys.record_rating(s, ADMIN, fx.ids["C"], csat=4, nps=8)
    late = fx.snap().overall
    assert (late.csat, late.csat_responses) == (pytest.approx(2 / 3), 3)
    # Rating again replaces the ticket's score in the metrics (the latest counts).
    clock.at(330)
    with fx.store.write() as s:
        surveys.record_rating(s, ADMIN, fx.ids["C"], csat=1, nps=0)
    again = fx.snap("1d").overall
    assert (again.csat, again.csat_responses, again.nps) == (pytest.approx(1 / 3), 3,
                                                            pytest.approx(-100 / 3))


def test_counters_equal_a_full_rebuild(fx: Fixture) -> None:
    """Incremental deltas leave exactly what recomputing every fact from scratch gives."""
    Rows = list[tuple[object, ...]]

    def dump() -> tuple[Rows, Rows, Rows]:
        with fx.store.read() as s:
            days = sorted(tuple(r) for r in s.execute(
                sa.select(metrics_rollup.D).where(
                    sa.or_(*(metrics_rollup.D.c[n] != 0 for n in ("created_n", "solved_n",
                                                                   "csat_n"))))))
            backlog = sorted(tuple(r) for r in s.execute(
                sa.select(metrics_rollup.B).where(metrics_rollup.B.c.n != 0)))
            hist = sorted(tuple(r) for r in s.execute(
                sa.select(metrics_rollup.H).where(metrics_rollup.H.c.n != 0)))
        return days, backlog, hist

    # More changes that move tickets between keys: reassign, change team, re-rate.
    fx.clock.at(320)
    with fx.store.write() as s:
        tickets.assign(s, ADMIN, fx.ids["A"], "bob")
        t = s.get(Ticket, fx.ids["E"])
        assert t is not None
        tickets.update(s, ADMIN, fx.ids["E"], TicketUpdate(team="billing"),
                       expected_version=t.version)
        surveys.record_rating(s, ADMIN, fx.ids["B"], csat=3, nps=7)
    incremental = dump()
    assert incremental[2]  # the per-dimension histograms are kept
    metrics_facts.rebuild_all(fx.store.write)
    assert dump() == incremental
    assert fx.snap("1d").overall == fx.snap("1d").overall


def _old_path_hists(fx: Fixture, by: GroupBy | None) -> dict[object, tuple[Any, ...]]:
    """Per group: (FRT, resolution) stats from ``metric_day``'s cross-product JSON."""
    column = {None: None, GroupBy.CHANNEL: "channel", GroupBy.TEAM: "team_id",
              GroupBy.AGENT: "agent_id", GroupBy.DAY: "day"}[by]
    acc: dict[object, tuple[Counter[int], Counter[int]]] = {}
    with fx.store.read() as s:
        for row in s.execute(sa.select(metrics_rollup.D)):
            m = row._mapping
            frt, res = acc.setdefault(None if column is None else m[column],
                                      (Counter(), Counter()))
            frt.update({int(k): v for k, v in json.loads(m["frt_hist"]).items()})
            res.update({int(k): v for k, v in json.loads(m["res_hist"]).items()})
    return {k: (metrics_rollup.hist_stats(f), metrics_rollup.hist_stats(r))
            for k, (f, r) in acc.items()}


@pytest.mark.parametrize("later", [0, 10])  # days after: the fixture's day in an edge / a block
@pytest.mark.parametrize("by", [None, GroupBy.CHANNEL, GroupBy.TEAM, GroupBy.AGENT,
                                GroupBy.DAY])
def test_30d_histograms_equal_the_cross_product_path(fx: Fixture, by: GroupBy | None,
                                                     later: int) -> None:
    """``metric_hist`` gives the very figures the day × channel × team × agent JSON gave."""
    def stats(k: Kpis) -> tuple[Any, ...]:
        return tuple((d.count, d.median_s, d.p90_s) for d in (k.first_response, k.resolution))

    def some(values: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return sorted(v for v in values if v[0][0] or v[1][0])

    end = NOW + timedelta(days=later)
    first = int(end.timestamp()) // 86_400 - 29
    fixture_day = int(T0.timestamp()) // 86_400
    units = metrics._hist_units(first, first + 29, blocks=by is not GroupBy.DAY)
    assert any(span == (1 if later == 0 or by is GroupBy.DAY else metrics.HIST_BLOCK)
               and lo <= fixture_day - fixture_day % span <= hi for span, lo, hi in units)
    with fx.store.read() as s:
        snap = metrics.snapshot(s, fx.actors["sam"], "30d", by, now=end)
    assert stats(snap.overall) == _old_path_hists(fx, None)[None]
    assert (snap.overall.first_response.count, snap.overall.resolution.count) == (4, 4)
    if by is not None:
        new = some(stats(g.kpis) for g in snap.groups)
        assert len(new) >= (1 if by is GroupBy.DAY else 2)  # the fixture is one day long
        assert new == some(_old_path_hists(fx, by).values())


def test_supervisors_and_admins_only(fx: Fixture) -> None:
    with fx.store.read() as s:
        with pytest.raises(Forbidden):
            metrics.snapshot(s, fx.actors["alice"], "7d")
        assert metrics.snapshot(s, ADMIN, "7d", now=NOW).overall.created == 6
        with pytest.raises(Invalid):
            metrics.snapshot(s, ADMIN, "seven days")
        with pytest.raises(Invalid):
            metrics.snapshot(s, ADMIN, "7d", "colour")
    assert fx.actors["sam"].role is Role.SUPERVISOR


def test_bulk_loaded_tickets_get_their_facts(store: Store) -> None:
    """The demo writes rows without the services, then builds their facts, exactly."""
    from agent_tui.services.demo import build_demo

    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    build_demo(store, tickets=300, seed=3, now=now, workers=0)
    with store.read() as s:
        assert metrics_facts.pending_facts(s) == 0  # the demo's last phase built them
    assert metrics_facts.build_missing(store.write, batch=128) == 0  # nothing left to do
    with store.read() as s:
        snap = metrics.snapshot(s, ADMIN, "100d", now=now)
        conn = s.connection()
        total, solved, open_n, ratings = conn.execute(sa.text(
            "SELECT count(*), count(solved_at), sum(CASE WHEN is_open THEN 1 ELSE 0 END), "
            "(SELECT count(DISTINCT ticket_id) FROM rating) FROM ticket")).one()
    assert (snap.overall.created, snap.overall.solved, snap.backlog.total) == (
        total, solved, open_n)
    assert snap.overall.csat_responses == ratings
    assert snap.overall.first_response.count > 0 and snap.overall.fcr is not None


def test_duration_stats_and_histograms() -> None:
    stats = metrics.duration_stats([5, 1, 3, 2, 4])
    assert (stats.count, stats.median_s, stats.p90_s, stats.mean_s) == (5, 3, 5, 3)
    assert metrics.duration_stats([1, 2, 3, 4]).median_s == 2.5
    assert metrics.duration_stats([]).median_s is None
    for value in (0, 1, 7, 19, 59, 600, 3599, 86_400, 2_000_000):
        b = metrics_rollup.bucket(value)
        assert metrics_rollup.bucket_value(b) == pytest.approx(value, rel=0.045, abs=0.5)


def test_migration_0006_downgrades_and_upgrades_again(store: Store) -> None:
    from alembic import command

    from agent_tui.store.migrate import _config, current_revision, upgrade

    cfg = _config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert current_revision(store) == "0005"
    with store.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert not names & {"ticket_fact", "metric_day", "metric_backlog", "survey_request",
                        "loop_setting"}
    upgrade(store)
    with store.engine.connect() as conn:
        assert {"ticket_fact", "metric_day", "metric_backlog"} <= set(
            sa.inspect(conn).get_table_names())
