"""Data-subject export and erasure, and event-log retention, on both dialects."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from agent_tui.cli import app
from agent_tui.domain.enums import Channel, Source
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.tables import (
    Customer,
    Event,
    Identity,
    Message,
    Order,
    Rating,
    Ticket,
    utcnow,
)
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.services import customers, privacy, tickets
from agent_tui.services.agents import actor_for
from agent_tui.store import Store
from agent_tui.store.events import Actor, append_event
from tests.conftest import ADMIN, World, migrated, seed_world
from tests.pgserver import find_pg_bin


@dataclass
class Person:
    name: str
    email: str
    phone: str
    handle: str
    customer_id: int = 0
    ticket_ids: tuple[int, ...] = ()


def _agent(s: Session, login: str) -> Actor:
    return actor_for(s, login, Source.TUI)


def _seed_person(store: Store, p: Person) -> Person:
    """A customer with two tickets, replies, a note, identities, orders, a rating."""
    with store.write() as s:
        cust, _ = customers.find_or_create(s, ADMIN, email=p.email, name=p.name, phone=p.phone)
        assert cust.id is not None
        p.customer_id = cust.id
        cust.address = f"12 Harbour Road, flat of {p.name}"
        s.add(Identity(customer_id=cust.id, channel=Channel.SOCIAL, address=p.handle))
        ids = []
        for subject in (f"Refund for {p.name}", "Parcel never arrived"):
            t = tickets.create(s, ADMIN, TicketCreate(
                subject=subject, body=f"Hello, this is {p.name}; call me on {p.phone}.",
                customer_id=cust.id, channel=Channel.EMAIL, team="billing"))
            ids.append(t.id)
        alice, sam = _agent(s, "alice"), _agent(s, "sam")
        tickets.reply(s, alice, ids[0], f"Dear {p.name}, we will call {p.phone} today.")
        tickets.note(s, sam, ids[0], f"Customer {p.email} is upset; VIP handle {p.handle}.")
        detail = tickets.detail(s, ADMIN, ids[1])
        tickets.update(s, ADMIN, ids[1], TicketUpdate(subject=f"Lost parcel for {p.name}"),
                       expected_version=detail.version)
        customers.reveal(s, alice, cust.id, f"verifying {p.name} on the phone")
        for n in (1, 2):
            s.add(Order(customer_id=cust.id, number=f"SO-{cust.id}-{n}", status="delivered",
                        amount_cents=1999 * n, items=json.dumps([f"Kettle for {p.name}"])))
        s.add(Rating(ticket_id=ids[0], customer_id=cust.id, csat=2, nps=3,
                     comment=f"Slow. {p.name}, {p.phone}"))
        # An event about something else that quotes this person: the erase sweep finds it.
        append_event(s, ADMIN, kind="macro.updated", entity="macro", entity_id=99,
                     after={"body": f"Forwarded from {p.email} and {p.handle}"})
    p.ticket_ids = tuple(ids)
    return p


ZELDA = Person("Zelda Quixote-Marsh", "zelda.q@example.org", "+447700900123", "@zeldaqm")
OTTO = Person("Otto Brightwater", "otto.b@example.net", "+4915112345678", "@ottob")


@pytest.fixture
def people(world: World) -> tuple[Person, Person]:
    zelda = _seed_person(world.store, Person(**{**ZELDA.__dict__}))
    otto = _seed_person(world.store, Person(**{**OTTO.__dict__}))
    return zelda, otto


def _dump(store: Store) -> str:
    """Every row of the store as SQL text: iterdump on SQLite, pg_dump on PostgreSQL."""
    if store.is_sqlite:
        assert store.sqlite_path is not None
        conn = sqlite3.connect(store.sqlite_path)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    bindir = find_pg_bin()
    assert bindir is not None
    url = store.url.replace("postgresql+psycopg://", "postgresql://")
    out = subprocess.run([str(bindir / "pg_dump"), "--no-owner", "--dbname", url],
                         check=True, capture_output=True, text=True)
    return out.stdout


def _cols(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def _rows_of(store: Store, p: Person) -> dict[str, Any]:
    """A snapshot of every row that belongs to ``p``."""
    cid = p.customer_id
    with store.read() as s:
        tids = list(p.ticket_ids)
        msgs = s.exec(select(Message).where(col(Message.ticket_id).in_(tids))
                      .order_by(col(Message.id))).all()
        events = s.exec(select(Event).where(sa.or_(
            sa.and_(col(Event.entity) == "customer", col(Event.entity_id) == cid),
            sa.and_(col(Event.entity) == "ticket", col(Event.entity_id).in_(tids))))
            .order_by(col(Event.seq))).all()
        return {
            "customer": _cols(s.get(Customer, cid)),
            "identities": [_cols(i) for i in s.exec(
                select(Identity).where(Identity.customer_id == cid))],
            "tickets": [_cols(s.get(Ticket, t)) for t in tids],
            "messages": [_cols(m) for m in msgs],
            "orders": [_cols(o) for o in s.exec(
                select(Order).where(Order.customer_id == cid))],
            "ratings": [_cols(r) for r in s.exec(
                select(Rating).where(Rating.customer_id == cid))],
            "events": [(e.seq, e.kind, e.diff) for e in events],
        }


def _count(text: str, p: Person) -> int:
    low = text.lower()
    return sum(low.count(v.lower()) for v in (p.name, p.email, p.phone, p.handle))


def test_erase_leaves_no_trace_and_other_customers_untouched(
        store: Store, people: tuple[Person, Person]) -> None:
    zelda, otto = people
    assert _count(_dump(store), zelda) > 10  # the dump does see personal data
    otto_before = _rows_of(store, otto)
    with store.read() as s:
        before = {t: _cols(s.get(Ticket, t)) for t in zelda.ticket_ids}

    reason = f"DSR-2024-17 requested by {zelda.name}"
    with store.write() as s:
        result = privacy.erase_customer(s, ADMIN, customer_id=zelda.customer_id, reason=reason)
    assert privacy.scrub_after_erase(store)

    assert (result.tickets, result.messages, result.identities, result.orders,
            result.ratings) == (2, 4, 3, 2, 1)
    # customer.created, 2 × ticket.created, ticket.updated (subject), customer.revealed,
    # and ticket.replied + ticket.noted, whose queue row names the customer
    assert (result.events_rewritten, result.events_swept) == (7, 1)
    dump = _dump(store)
    for value in (zelda.name, zelda.email, zelda.phone, zelda.handle):
        assert value.lower() not in dump.lower(), value
    assert _rows_of(store, otto) == otto_before
    assert _count(dump, otto) > 10

    with store.read() as s:
        cust = s.get(Customer, zelda.customer_id)
        assert cust.name == f"Erased customer #{zelda.customer_id}"
        assert (cust.email, cust.phone, cust.address, cust.external_id) == (None,) * 4
        assert cust.erased_at is not None
        assert s.exec(select(Identity).where(
            Identity.customer_id == zelda.customer_id)).all() == []
        for tid in zelda.ticket_ids:
            t = s.get(Ticket, tid)
            assert t.subject == privacy.ERASED
            # Statistics stay: status, priority, channel, team, assignee, timestamps.
            for field in ("status", "priority", "channel", "team_id", "assignee_id",
                          "created_at", "first_response_at", "customer_id"):
                assert getattr(t, field) == before[tid][field], field
            bodies = s.exec(select(Message.body).where(Message.ticket_id == tid)).all()
            assert bodies and set(bodies) == {privacy.ERASED}
        orders = s.exec(select(Order).where(Order.customer_id == zelda.customer_id)).all()
        assert sorted(o.amount_cents for o in orders) == [1999, 3998]
        assert {o.items for o in orders} == {"[]"} and all(o.number for o in orders)
        rating = s.exec(select(Rating).where(Rating.customer_id == zelda.customer_id)).one()
        assert (rating.comment, rating.csat, rating.nps) == (None, 2, 3)
        erased = s.get(Event, result.event_seq)
        kind, entity_id, erased_diff = erased.kind, erased.entity_id, erased.diff
    assert kind == "customer.erased" and entity_id == zelda.customer_id
    assert _count(erased_diff, zelda) == 0
    diff = json.loads(erased_diff)
    assert diff["reason"] == f"DSR-2024-17 requested by {privacy.ERASED}"
    assert diff["counts"]["messages"] == 4


def _secure_delete_off(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA secure_delete = OFF")


def test_sqlite_erase_zeroes_the_bytes_on_disk(sqlite_url: str) -> None:
    store = migrated(sqlite_url)
    # Debian builds SQLite with secure_delete on by default; others do not. Start
    # from "off" so that the erase has to turn it on itself.
    store.engine.dispose()
    sa.event.listen(store.engine, "connect", _secure_delete_off)
    try:
        seed_world(store)
        zelda = _seed_person(store, Person(**{**ZELDA.__dict__}))
        with store.write() as s:
            privacy.erase_customer(s, ADMIN, customer_id=zelda.customer_id, reason="DSR-1")
        assert privacy.scrub_after_erase(store)
        assert store.sqlite_path is not None
        raw = b"".join(p.read_bytes() for p in store.sqlite_path.parent.glob("store.db*"))
        for value in (zelda.email, zelda.phone, zelda.name):
            assert value.encode() not in raw, value
    finally:
        store.dispose()


def test_export_holds_every_row_that_mentions_the_customer(
        store: Store, people: tuple[Person, Person]) -> None:
    zelda, otto = people
    cid = zelda.customer_id
    with store.write() as s:
        doc = privacy.export_customer(s, ADMIN, customer_id=cid)
    assert doc["format"] == privacy.EXPORT_FORMAT
    assert doc["customer"]["email"] == zelda.email and doc["customer"]["phone"] == zelda.phone
    assert {i["address"] for i in doc["identities"]} == {zelda.email, zelda.phone, zelda.handle}
    assert [o["items"] for o in doc["orders"]] == [[f"Kettle for {zelda.name}"]] * 2
    assert [r["comment"] for r in doc["ratings"]] == [f"Slow. {zelda.name}, {zelda.phone}"]
    assert [t["id"] for t in doc["tickets"]] == list(zelda.ticket_ids)
    first = doc["tickets"][0]
    assert first["subject"] == f"Refund for {zelda.name}" and first["team"] == "billing"
    assert [(m["author_kind"], m["public"]) for m in first["messages"]] == [
        ("customer", True), ("agent", True), ("agent", False)]
    assert first["messages"][1]["author_agent"] == "Alice Agent"

    with store.read() as s:
        expected = set(s.exec(select(Event.seq).where(sa.or_(
            sa.and_(col(Event.entity) == "customer", col(Event.entity_id) == cid),
            sa.and_(col(Event.entity) == "ticket",
                    col(Event.entity_id).in_(zelda.ticket_ids))))))
        quoting = set(s.exec(select(Event.seq).where(
            col(Event.diff).contains(zelda.email), Event.entity == "macro")))
        exported = s.exec(select(Event).where(Event.kind == "customer.exported")).one()
        exp_seq, exp_entity_id, exp_diff = exported.seq, exported.entity_id, exported.diff
    kinds = {e["kind"] for e in doc["events"]}
    assert {"customer.created", "ticket.created", "ticket.replied", "ticket.noted",
            "ticket.updated", "customer.revealed", "macro.updated"} <= kinds
    assert {e["seq"] for e in doc["events"]} == (expected | quoting) - {exp_seq}
    text = json.dumps(doc)
    assert _count(text, otto) == 0  # nobody else's data
    # The export is itself audited, with counts only.
    assert exp_entity_id == cid and _count(exp_diff, zelda) == 0
    assert json.loads(exp_diff)["counts"]["messages"] == 4


def test_non_admins_may_not_export_erase_or_purge(
        store: Store, people: tuple[Person, Person]) -> None:
    zelda, _ = people
    for login in ("alice", "sam"):
        with store.write() as s:
            actor = _agent(s, login)
            with pytest.raises(Forbidden):
                privacy.erase_customer(s, actor, customer_id=zelda.customer_id, reason="DSR-9")
            with pytest.raises(Forbidden):
                privacy.purge_events(s, actor, older_than=timedelta(days=1))
            with pytest.raises(Forbidden):
                privacy.export_customer(s, actor, customer_id=zelda.customer_id)
    with store.read() as s:
        assert s.get(Customer, zelda.customer_id).email == zelda.email


def test_erase_refuses_twice_and_needs_a_reason(
        store: Store, people: tuple[Person, Person]) -> None:
    zelda, _ = people
    with pytest.raises(Invalid, match="reason"), store.write() as s:
        privacy.erase_customer(s, ADMIN, customer_id=zelda.customer_id, reason=" ")
    with store.write() as s:
        privacy.erase_customer(s, ADMIN, customer_id=zelda.customer_id, reason="DSR-3")
    with pytest.raises(Invalid, match="already erased"), store.write() as s:
        privacy.erase_customer(s, ADMIN, customer_id=zelda.customer_id, reason="DSR-3")
    with store.read() as s:
        assert len(s.exec(select(Event).where(Event.kind == "customer.erased")).all()) == 1


def _old_event(s: Session, days: float, n: int) -> None:
    s.add(Event(at=utcnow() - timedelta(days=days), actor="cli:test", role="admin",
                source="cli", kind="test.old", entity="test", entity_id=n, diff="{}"))


def test_purge_removes_exactly_the_old_events_and_records_itself(world: World) -> None:
    store = world.store
    with store.write() as s:
        for n in range(5):
            _old_event(s, 200 + n, n)
        _old_event(s, 179, 100)  # inside the retention window
    with store.read() as s:
        total = s.exec(select(sa.func.count()).select_from(Event)).one()
    with store.write() as s:
        dry = privacy.purge_events(s, ADMIN, older_than=privacy.parse_duration("180d"),
                                   dry_run=True)
    assert dry.count == 5 and dry.dry_run and dry.event_seq is None
    with store.read() as s:
        assert s.exec(select(sa.func.count()).select_from(Event)).one() == total

    with store.write() as s:
        result = privacy.purge_events(s, ADMIN, older_than=timedelta(days=180))
    assert result.count == 5
    with store.read() as s:
        left = s.exec(select(Event.entity_id).where(Event.kind == "test.old")).all()
        purged = s.get(Event, result.event_seq)
        purged_kind, purged_diff = purged.kind, purged.diff
        remaining = s.exec(select(sa.func.count()).select_from(Event)).one()
    assert left == [100]
    assert remaining == total - 5 + 1
    assert purged_kind == "events.purged"
    diff = json.loads(purged_diff)
    assert diff["count"] == 5 and diff["cutoff"] == result.cutoff.isoformat()


@pytest.mark.parametrize(("text", "expected"), [
    ("180d", timedelta(days=180)), ("12h", timedelta(hours=12)), ("4w", timedelta(weeks=4)),
    ("30m", timedelta(minutes=30)), (" 7D ", timedelta(days=7)),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert privacy.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "180", "d", "-5d", "0d", "1.5d", "3y"])
def test_parse_duration_refuses_bad_input(text: str) -> None:
    with pytest.raises(Invalid, match="duration"):
        privacy.parse_duration(text)


# --- the CLI over the same services (SQLite) ----------------------------------


@pytest.fixture
def cli_world(sqlite_url: str) -> tuple[str, Person]:
    store = migrated(sqlite_url)
    try:
        seed_world(store)
        zelda = _seed_person(store, Person(**{**ZELDA.__dict__}))
    finally:
        store.dispose()
    return sqlite_url, zelda


def test_cli_export_to_a_private_file_and_stdout(cli_world: tuple[str, Person],
                                                 tmp_path: Path) -> None:
    url, zelda = cli_world
    runner = CliRunner()
    out = tmp_path / "zelda.json"
    res = runner.invoke(app, ["customer", "export", str(zelda.customer_id), "--out", str(out),
                              "--db", url])
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["customer"]["name"] == zelda.name and len(doc["tickets"]) == 2
    res = runner.invoke(app, ["customer", "export", str(zelda.customer_id), "--db", url])
    assert res.exit_code == 0 and json.loads(res.stdout)["customer"]["email"] == zelda.email
    res = runner.invoke(app, ["customer", "export", "999", "--db", url])
    assert res.exit_code == 1 and res.stderr.strip() == "error: customer 999 not found"


def test_cli_erase_needs_yes_without_a_terminal(cli_world: tuple[str, Person]) -> None:
    url, zelda = cli_world
    runner = CliRunner()
    cid = str(zelda.customer_id)
    res = runner.invoke(app, ["customer", "erase", cid, "--reason", "DSR-5", "--db", url])
    assert res.exit_code == 2 and "--yes" in res.stderr and len(res.stderr.splitlines()) == 1
    res = runner.invoke(app, ["customer", "erase", cid, "--reason", "DSR-5", "--yes",
                              "--json", "--db", url])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["identities"] == 3
    res = runner.invoke(app, ["customer", "erase", cid, "--reason", "DSR-5", "--yes",
                              "--db", url])
    assert res.exit_code == 1 and "already erased" in res.stderr


def test_cli_purge(cli_world: tuple[str, Person]) -> None:
    url, _ = cli_world
    runner = CliRunner()
    res = runner.invoke(app, ["purge", "--events-older-than", "0d", "--db", url])
    assert res.exit_code == 1 and "duration" in res.stderr
    res = runner.invoke(app, ["purge", "--events-older-than", "1w", "--dry-run", "--json",
                              "--db", url])
    assert res.exit_code == 0 and json.loads(res.stdout)["count"] == 0
    res = runner.invoke(app, ["purge", "--events-older-than", "1w", "--db", url])
    assert res.exit_code == 0 and res.stdout.startswith("Deleted 0 events")
