"""The demo store generator and the bulk loader, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

import agent_tui.services.demo as demo
from agent_tui.domain.enums import Role, Source, Status, View
from agent_tui.domain.errors import Invalid
from agent_tui.domain.tables import Ticket
from agent_tui.domain.tables.base import sqlite_timestamp
from agent_tui.domain.views import TicketCreate
from agent_tui.local import LocalBackend
from agent_tui.services import tickets as ticket_svc
from agent_tui.services.demo import DemoSummary, build_demo
from agent_tui.store import Store
from agent_tui.store.bulk import Batch, BulkLoader, epoch_us, from_epoch_us
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, migrated, new_pg_database

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DEMO_ACTOR = Actor(login="demo", role=Role.ADMIN, source=Source.CLI)


def _rows(store: Store, sql: str, **params: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).all())


def _scalar(store: Store, sql: str, **params: Any) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture
def built(store: Store) -> tuple[Store, DemoSummary]:
    return store, build_demo(store, tickets=300, seed=7, now=NOW)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"]
    else:
        server = request.getfixturevalue("pg_server")
        urls = [new_pg_database(server), new_pg_database(server)]
    stores = [migrated(u) for u in urls]
    yield stores[0], stores[1]
    for s in stores:
        s.dispose()


def _content(store: Store) -> dict[str, list[Any]]:
    return {
        "tickets": _rows(store, "SELECT id, subject, status, priority, channel, customer_id, "
                                "assignee_id, created_at, updated_at, tags FROM ticket "
                                "ORDER BY id"),
        "messages": _rows(store, "SELECT id, ticket_id, author_kind, body, created_at "
                                 "FROM message ORDER BY id"),
        "events": _rows(store, "SELECT seq, at, kind, entity, entity_id, diff FROM event "
                               "ORDER BY seq"),
        "customers": _rows(store, "SELECT id, name, email FROM customer ORDER BY id"),
    }


# ---------------------------------------------------------------- the demo store


def test_demo_reports_the_counts_it_wrote(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    assert summary.counts["ticket"] == 300
    assert summary.counts["customer"] == 100  # tickets / 3
    assert summary.counts["agent"] == 16
    assert summary.counts["team"] == 5
    for table, n in summary.counts.items():
        assert _scalar(store, f'SELECT count(*) FROM "{table}"') == n, table
    assert summary.seconds > 0 and summary.tickets_per_second > 0
    login = summary.default_login
    role = _scalar(store, "SELECT role FROM agent WHERE login = :l", l=login)
    assert role == Role.AGENT.value


def test_demo_is_deterministic(two_stores: tuple[Store, Store], tmp_path: Path) -> None:
    first, second = two_stores
    build_demo(first, tickets=300, seed=11, now=NOW)
    build_demo(second, tickets=300, seed=11, now=NOW)
    a, b = _content(first), _content(second)
    assert a == b
    assert len(a["tickets"]) == 300 and len(a["messages"]) > 600
    other = migrated(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        build_demo(other, tickets=300, seed=12, now=NOW)
        c = _content(other)
    finally:
        other.dispose()
    assert [t.subject for t in c["tickets"]] != [t.subject for t in a["tickets"]]
    assert [m.body for m in c["messages"]] != [m.body for m in a["messages"]]


def test_worker_processes_make_the_same_store(tmp_path: Path) -> None:
    stores = [migrated(f"sqlite:///{tmp_path / f'{n}.db'}") for n in ("inline", "pool")]
    try:
        build_demo(stores[0], tickets=400, seed=3, now=NOW, workers=0)
        build_demo(stores[1], tickets=400, seed=3, now=NOW, workers=2)
        assert _content(stores[0]) == _content(stores[1])
    finally:
        for s in stores:
            s.dispose()


def test_tickets_are_consistent(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    tickets = {t.id: t for t in _rows(store, "SELECT * FROM ticket")}
    statuses = {t.status for t in tickets.values()}
    assert {s.value for s in Status} <= statuses  # a working mix in a small store
    opening = {r.ticket_id: r for r in _rows(store, (
        "SELECT ticket_id, min(created_at) AS first, max(created_at) AS last, count(*) AS n "
        "FROM message GROUP BY ticket_id"))}
    created = {r.entity_id: r.n for r in _rows(store, (
        "SELECT entity_id, count(*) AS n FROM event WHERE kind = 'ticket.created' "
        "GROUP BY entity_id"))}
    history = {r.entity_id: r.n for r in _rows(store, (
        "SELECT entity_id, count(*) AS n FROM event WHERE entity = 'ticket' GROUP BY entity_id"))}
    with store.read() as session:
        orm = {t.id: t for t in session.exec(select(Ticket)).all()}
        session.expunge_all()  # keep the loaded values after the read ends
    for tid, raw in tickets.items():
        t = orm[tid]
        assert t.created_at.tzinfo is not None
        assert tid in opening, f"ticket {tid} has no message"
        assert created.get(tid) == 1
        assert history[tid] == t.version  # one event per change, as the services do
        assert t.is_open == Status(t.status).is_open
        msgs = opening[tid]
        assert t.created_at <= t.updated_at <= NOW
        assert sqlite_or_dt(msgs.first) == t.created_at
        assert sqlite_or_dt(msgs.last) <= t.updated_at
        if t.first_response_at is not None:
            assert t.created_at <= t.first_response_at <= t.updated_at
        if t.solved_at is not None:
            assert t.first_response_at is not None and t.first_response_at <= t.solved_at
        if t.closed_at is not None:
            assert t.solved_at is not None and t.solved_at < t.closed_at <= NOW
        if Status(t.status) is Status.NEW:
            assert t.first_response_at is None
        else:
            assert t.first_response_at is not None
        assert t.first_response_due_at is not None and t.resolution_due_at is not None
        assert t.created_at < t.first_response_due_at <= t.resolution_due_at
        # The nearest running clock: none once solved, none while pending or on hold.
        waiting = Status(t.status) in (Status.PENDING, Status.ON_HOLD)
        assert (t.sla_due_at is None) == (not t.is_open or waiting)
        assert NOW - timedelta(days=91) <= t.created_at
        assert raw.team_id is not None


def sqlite_or_dt(value: Any) -> datetime:
    """A raw timestamp column as an aware datetime (text on SQLite, datetime on PG)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def test_assignees_come_from_the_ticket_team(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    wrong = _rows(store, "SELECT t.id FROM ticket t WHERE t.assignee_id IS NOT NULL AND NOT "
                         "EXISTS (SELECT 1 FROM agentteam x WHERE x.agent_id = t.assignee_id "
                         "AND x.team_id = t.team_id)")
    assert wrong == []
    assert _scalar(store, "SELECT count(*) FROM ticket WHERE status = 'new' "
                          "AND assignee_id IS NULL") > 0
    assert _scalar(store, "SELECT count(*) FROM ticket WHERE status <> 'new' "
                          "AND assignee_id IS NULL") == 0


def test_content_is_rich_and_bilingual(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    kb = dict(_rows(store, "SELECT locale, count(*) FROM knowledge_article "
                           "WHERE status = 'published' GROUP BY locale"))
    assert sum(kb.values()) >= 60 and kb.get("en", 0) > 0 and kb.get("zh", 0) > 0
    multi = _scalar(store, "SELECT count(*) FROM (SELECT customer_id FROM identity "
                           "GROUP BY customer_id HAVING count(*) >= 2) x")
    assert multi > 10
    channels = {r[0] for r in _rows(store, "SELECT DISTINCT channel FROM identity")}
    assert {"email", "phone", "social"} <= channels
    social = [r[0] for r in _rows(store, "SELECT address FROM identity WHERE channel = 'social'")]
    assert all(a.split(":", 1)[0] in {"twitter", "instagram", "weibo", "wechat"} for a in social)
    bodies = [r[0] for r in _rows(store, "SELECT body FROM message")]
    assert any("\u4e00" <= ch <= "\u9fff" for b in bodies for ch in b)
    assert not any("{" in b and "}" in b and "{name}" in b for b in bodies)  # placeholders filled
    phone = _rows(store, "SELECT channel_detail FROM ticket WHERE channel = 'phone'")
    assert phone and all(d[0] and d[0].startswith("IVR: ") and " > " in d[0] for d in phone)
    networks = {r[0] for r in _rows(store, "SELECT channel_detail FROM ticket "
                                           "WHERE channel = 'social'")}
    assert networks and networks <= {"twitter", "instagram", "facebook", "weibo", "wechat",
                                     "douyin"}
    assert _scalar(store, "SELECT count(*) FROM message WHERE author_kind = 'bot'") > 0
    assert _scalar(store, "SELECT count(*) FROM message WHERE public = :f", f=False) > 0
    currencies = dict(_rows(store, "SELECT c.language, min(o.currency) FROM customer_order o "
                                   "JOIN customer c ON c.id = o.customer_id "
                                   "WHERE c.language = 'zh' GROUP BY c.language"))
    assert currencies == {"zh": "CNY"}
    tiers = {r[0] for r in _rows(store, "SELECT DISTINCT tier FROM customer")}
    assert tiers == {"standard", "gold", "vip"}
    ratings = _rows(store, "SELECT csat, nps FROM rating")
    assert ratings and all(1 <= c <= 5 and 0 <= n <= 10 for c, n in ratings)


def test_setup_rows_are_real(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    names = [r[0] for r in _rows(store, "SELECT name FROM sla_policy")]
    assert len(names) >= 8
    assert any("basic" in n.lower() for n in names)
    assert any("complex" in n.lower() for n in names)
    assert any("major" in n.lower() and "emergency" in n.lower() for n in names)
    prios = {r[0] for r in _rows(store, "SELECT priority FROM sla_policy "
                                        "WHERE priority IS NOT NULL")}
    assert prios == {1, 2, 3, 4}
    hours = _rows(store, "SELECT id, timezone, schedule FROM business_hours")
    assert hours and all(set(json.loads(h.schedule)) == {"mon", "tue", "wed", "thu", "fri"}
                         for h in hours)
    assert _scalar(store, "SELECT count(*) FROM holiday") >= 3
    macro_locales = {r[0] for r in _rows(store, "SELECT DISTINCT locale FROM macro")}
    assert macro_locales == {"en", "zh"}
    roles = dict(_rows(store, "SELECT role, count(*) FROM agent GROUP BY role"))
    assert roles == {"admin": 1, "supervisor": 2, "agent": 13}
    assert {r[0] for r in _rows(store, "SELECT DISTINCT status FROM agent")} == {
        "online", "away", "offline"}
    assert _scalar(store, "SELECT count(*) FROM agent WHERE languages LIKE '%zh%'") >= 5


def test_every_created_entity_has_its_event(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    for table, kind in (("team", "team.created"), ("agent", "agent.created"),
                        ("customer", "customer.created"), ("ticket", "ticket.created"),
                        ("knowledge_article", "article.created"),
                        ("sla_policy", "sla_policy.created"), ("rating", "rating.created")):
        missing = _scalar(store, f'SELECT count(*) FROM "{table}" x WHERE NOT EXISTS ('
                                 f"SELECT 1 FROM event e WHERE e.entity = :t AND e.kind = :k "
                                 f"AND e.entity_id = x.id)", t=table, k=kind)
        assert missing == 0, table
    actors = _rows(store, "SELECT DISTINCT actor, role, source FROM event")
    assert [tuple(a) for a in actors] == [("demo", "admin", "cli")]
    diff = json.loads(_scalar(store, "SELECT diff FROM event WHERE kind = 'ticket.created' "
                                     "ORDER BY seq LIMIT 1"))
    assert diff["after"]["status"] == "new" and diff["after"]["version"] == 1


def test_tags_are_mirrored(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    mirrored: dict[int, list[str]] = {}
    for tid, tag in _rows(store, "SELECT ticket_id, tag FROM ticket_tag"):
        mirrored.setdefault(tid, []).append(tag)
    for tid, tags in _rows(store, "SELECT id, tags FROM ticket"):
        assert sorted(tags.split()) == sorted(mirrored.get(tid, [])), tid


async def test_local_backend_shows_the_demo_queue(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    backend = LocalBackend(store, summary.default_login)
    mine = await backend.list_tickets(View.MY_OPEN)
    everyone = await backend.list_tickets(View.ALL_OPEN)
    assert mine.items and everyone.items
    assert all(t.assignee == summary.default_login for t in mine.items)
    detail = await backend.get_ticket(mine.items[0].id)
    assert detail.messages and detail.messages[0].author_kind.value == "customer"
    customer = await backend.get_360(detail.customer_id)
    assert customer.identities and customer.orders and customer.tickets


def test_sqlite_store_is_sound(sqlite_url: str) -> None:
    store = migrated(sqlite_url)
    try:
        build_demo(store, tickets=300, seed=7, now=NOW)
        assert _rows(store, "PRAGMA integrity_check") == [("ok",)]
        assert _rows(store, "PRAGMA foreign_key_check") == []
    finally:
        store.dispose()


def test_big_build_rebuilds_the_same_indexes(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    reference = migrated(f"sqlite:///{tmp_path / 'ref.db'}")
    store = migrated(f"sqlite:///{tmp_path / 'big.db'}")
    monkeypatch.setattr(demo, "REBUILD_INDEXES_FROM", 1)
    try:
        build_demo(store, tickets=200, seed=7, now=NOW)
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        assert _rows(store, query) == _rows(reference, query)
        assert _rows(store, "PRAGMA integrity_check") == [("ok",)]
    finally:
        store.dispose()
        reference.dispose()


def test_demo_refuses_a_store_that_has_data(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    with pytest.raises(Invalid, match="empty store"):
        build_demo(store, tickets=10, seed=1, now=NOW)
    assert _scalar(store, "SELECT count(*) FROM ticket") == summary.counts["ticket"]
    with pytest.raises(Invalid):
        build_demo(store, tickets=-1)


# ---------------------------------------------------------------- the bulk loader


def test_epoch_timestamps_match_sqlalchemy_format(sqlite_url: str) -> None:
    store = migrated(sqlite_url)
    moments = [datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
               datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
               datetime(1999, 12, 31, 12, 30, tzinfo=UTC),
               NOW + timedelta(microseconds=123_456)]
    try:
        batch = Batch()
        for i, m in enumerate(moments):
            batch.table("team").append((i, f"t{i}", "", None, epoch_us(m)))
        with BulkLoader(store, DEMO_ACTOR) as loader:
            loader.write(batch)
        raw = [r[0] for r in _rows(store, "SELECT created_at FROM team ORDER BY id")]
        assert raw == [sqlite_timestamp(m) for m in moments]
        assert [from_epoch_us(epoch_us(m)) for m in moments] == moments
    finally:
        store.dispose()


def test_loader_assigns_ids_after_rows_written_by_others(store: Store) -> None:
    """A service writes between two batches: the loader's ids and references follow."""
    build_demo(store, tickets=20, seed=5, now=NOW)
    cust = _scalar(store, "SELECT min(id) FROM customer")
    with store.write() as s:
        ticket_svc.create(s, ADMIN, TicketCreate(
            channel="email", subject="Written by the service", body="hello",
            customer_id=cust))
    top = _scalar(store, "SELECT max(id) FROM ticket")
    batch = Batch()
    now_us = epoch_us(NOW)
    for local in range(3):
        batch.table("ticket").append((local, "web", f"bulk {local}", "new", 2, None, None, None,
                                      "bulk", None, cust, None, None, True, 1, now_us, now_us,
                                      None, None, None, None, None, None,
                                      None, False, False, None))
        batch.table("message").append((local, "customer", None, cust, True, f"body {local}",
                                       "web", now_us))
        batch.table("event").append((now_us, "ticket.created", "ticket", local, "{}"))
    with BulkLoader(store, DEMO_ACTOR) as loader:
        result = loader.write(batch)
    assert result.bases["ticket"] == top + 1
    rows = _rows(store, "SELECT t.id, t.subject, m.body FROM ticket t JOIN message m "
                        "ON m.ticket_id = t.id WHERE t.subject LIKE 'bulk %' ORDER BY t.id")
    assert [tuple(r) for r in rows] == [(top + 1 + i, f"bulk {i}", f"body {i}") for i in range(3)]
    assert _scalar(store, "SELECT count(*) FROM ticket_tag WHERE tag = 'bulk'") == 3
    events = _rows(store, "SELECT entity_id, actor FROM event WHERE diff = '{}' ORDER BY seq")
    assert [tuple(e) for e in events] == [(top + 1 + i, "demo") for i in range(3)]
    # The database's own id allocation (a PostgreSQL sequence) is past the bulk rows.
    with store.write() as s:
        made = ticket_svc.create(s, ADMIN, TicketCreate(
            channel="email", subject="after the load", body="hi", customer_id=cust))
    assert made.id == top + 4


def test_loader_rolls_back_a_failed_batch(store: Store) -> None:
    batch = Batch()
    batch.table("team").append((0, "dup", "", None, epoch_us(NOW)))
    batch.table("team").append((1, "dup", "", None, epoch_us(NOW)))  # violates UNIQUE(name)
    batch.table("event").append((epoch_us(NOW), "team.created", "team", 0, "{}"))
    with BulkLoader(store, DEMO_ACTOR) as loader, pytest.raises(sa.exc.DBAPIError):
        try:
            loader.write(batch)
        except Exception as exc:  # re-raise as SQLAlchemy's wrapper for one assertion
            raise sa.exc.DBAPIError("bulk", None, exc) from exc
    assert _scalar(store, "SELECT count(*) FROM team") == 0
    assert _scalar(store, "SELECT count(*) FROM event") == 0


def test_loader_can_rebuild_every_secondary_index(tmp_path: Path) -> None:
    reference = migrated(f"sqlite:///{tmp_path / 'ref.db'}")
    store = migrated(f"sqlite:///{tmp_path / 'store.db'}")
    query = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    try:
        with pytest.raises(ValueError, match="no droppable index"):
            BulkLoader(store, DEMO_ACTOR, drop_indexes=["ix_nope"]).open()
        loader = BulkLoader(store, DEMO_ACTOR, drop_indexes=True)
        with loader:
            names = {r.name for r in _rows(store, query)}
            assert "ix_q_open_prio" not in names and "ix_message_ticket" not in names
            batch = Batch()
            batch.table("team").append((0, "t", "", None, epoch_us(NOW)))
            loader.write(batch)
        assert _rows(store, query) == _rows(reference, query)
    finally:
        store.dispose()
        reference.dispose()


def test_loader_drops_indexes_only_on_a_store_without_tickets(store: Store) -> None:
    build_demo(store, tickets=5, seed=1, now=NOW)
    before = _rows(store, "SELECT name FROM sqlite_master WHERE type = 'index'") \
        if store.is_sqlite else []
    if store.is_sqlite:
        with pytest.raises(ValueError, match="without tickets"):
            BulkLoader(store, DEMO_ACTOR, drop_indexes=True).open()
        assert _rows(store, "SELECT name FROM sqlite_master WHERE type = 'index'") == before
    assert _scalar(store, "SELECT count(*) FROM ticket") == 5


def test_demo_without_history_keeps_creation_events(sqlite_url: str) -> None:
    store = migrated(sqlite_url)
    try:
        summary = build_demo(store, tickets=200, seed=7, now=NOW, history=False)
        kinds = {r[0] for r in _rows(store, "SELECT DISTINCT kind FROM event "
                                            "WHERE entity = 'ticket'")}
        assert kinds == {"ticket.created"}
        assert summary.counts["ticket"] == 200
        assert _scalar(store, "SELECT max(version) FROM ticket") > 1
    finally:
        store.dispose()
