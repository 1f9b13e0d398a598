"""The closed loop: survey requests, ratings, auto-close, and their CLI commands."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from typer.testing import CliRunner, Result

from agent_tui.cli import app
from agent_tui.domain.enums import Status
from agent_tui.domain.errors import Conflict, Forbidden, Invalid, NotFound
from agent_tui.domain.tables import Event, Rating, SurveyRequest, Ticket
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.services import autoclose, surveys, tickets
from agent_tui.services.agents import actor_for
from agent_tui.store import Store
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, World


def _new(store: Store, subject: str = "Broken lamp") -> int:
    with store.write() as s:
        return tickets.create(s, ADMIN, TicketCreate(
            subject=subject, body="It flickers.", team="billing",
            customer_email="kim@example.com")).id


def _status(store: Store, ticket_id: int, new: Status, actor: Actor = ADMIN) -> None:
    with store.write() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        tickets.update(s, actor, ticket_id, TicketUpdate(status=new), expected_version=t.version)


def _requests(s: Session, ticket_id: int) -> list[tuple[str, int | None]]:
    return [(r.status, r.rating_id) for r in s.exec(
        select(SurveyRequest).where(SurveyRequest.ticket_id == ticket_id)
        .order_by(col(SurveyRequest.id)))]


def _kinds(s: Session, kind: str) -> int:
    return len(list(s.exec(select(Event.seq).where(Event.kind == kind))))


def test_a_solve_asks_for_one_rating_and_a_re_solve_does_not_ask_again(world: World) -> None:
    store = world.store
    tid = _new(store)
    with store.read() as s:
        assert _requests(s, tid) == []
    _status(store, tid, Status.SOLVED)
    _status(store, tid, Status.OPEN)  # reopened before the customer answered
    _status(store, tid, Status.SOLVED)
    with store.read() as s:
        assert _requests(s, tid) == [("pending", None)]
        assert _kinds(s, "survey.requested") == 1
    with store.write() as s:
        rating = surveys.record_rating(s, ADMIN, tid, csat=4, nps=9, comment="ok")
    with store.read() as s:
        assert _requests(s, tid) == [("answered", rating.id)]
    _status(store, tid, Status.OPEN)
    _status(store, tid, Status.SOLVED)  # answered: a new solve asks again
    with store.read() as s:
        assert _requests(s, tid) == [("answered", rating.id), ("pending", None)]
        assert _kinds(s, "survey.requested") == 2


def test_a_rating_attaches_to_its_ticket_with_one_event(world: World) -> None:
    store = world.store
    tid = _new(store)
    _status(store, tid, Status.SOLVED)
    with store.read() as s:
        before = _kinds(s, "rating.created")
        alice = actor_for(s, "alice", "tui")
    with store.write() as s:  # an agent logs what the customer said on the phone
        view = surveys.record_rating(s, alice, tid, csat=5,
                                     comment="Great \x1b]52;c;aGk=\x07help\u202e!")
    assert (view.ticket_id, view.csat, view.nps) == (tid, 5, None)
    assert view.comment == "Great ]52;c;aGk=help!"
    with store.read() as s:
        assert _kinds(s, "rating.created") == before + 1
        event = s.exec(select(Event).where(Event.kind == "rating.created")
                       .order_by(col(Event.seq).desc())).first()
        assert event is not None and event.actor == "alice"
        diff = json.loads(event.diff)
        assert diff["after"] == {"ticket_id": tid, "csat": 5, "nps": None, "comment": True}
        assert "Great" not in event.diff  # customer words stay out of the audit log
        row = s.get(Rating, view.id)
        assert row is not None and row.customer_id == s.get(Ticket, tid).customer_id


@pytest.mark.parametrize(("kw", "field"), [
    ({"csat": 0}, "csat"), ({"csat": 6}, "csat"), ({"nps": -1}, "nps"), ({"nps": 11}, "nps"),
    ({}, "rating"), ({"csat": 3, "comment": "x" * 5001}, "comment"),
])
def test_ratings_are_validated(world: World, kw: dict[str, object], field: str) -> None:
    tid = _new(world.store)
    _status(world.store, tid, Status.SOLVED)
    with world.store.write() as s, pytest.raises(Invalid) as err:
        surveys.record_rating(s, ADMIN, tid, **kw)  # type: ignore[arg-type]
    assert err.value.field == field


def test_a_never_solved_or_missing_ticket_cannot_be_rated(world: World) -> None:
    tid = _new(world.store)
    with world.store.write() as s, pytest.raises(Invalid):
        surveys.record_rating(s, ADMIN, tid, csat=5)
    with world.store.write() as s, pytest.raises(NotFound):
        surveys.record_rating(s, ADMIN, 999_999, csat=5)


def _solved_at(store: Store, ticket_id: int, when: datetime) -> None:
    with store.write() as s:
        s.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(solved_at=when))


def test_auto_close_after_n_days_and_not_before(world: World) -> None:
    store = world.store
    now = datetime.now(UTC)
    old, young, unsolved = _new(store, "old"), _new(store, "young"), _new(store, "open")
    for tid in (old, young):
        _status(store, tid, Status.SOLVED)
    _solved_at(store, old, now - timedelta(days=4, minutes=1))
    _solved_at(store, young, now - timedelta(days=3, hours=23))
    with store.read() as s:
        versions = {t.id: t.version for t in s.exec(select(Ticket))}
        assert autoclose.get_after_days(s) == 4 and autoclose.due_count(s, now, 4) == 1
    with store.write() as s:
        assert autoclose.close_solved(s, now, 4) == [old]
    with store.write() as s:
        assert autoclose.close_solved(s, now, 4) == []
    with store.read() as s:
        states = {t.id: (t.status, t.version) for t in s.exec(select(Ticket))}
        ev = s.exec(select(Event.diff).where(Event.entity_id == old,
                                             Event.kind == "ticket.updated")
                    .order_by(col(Event.seq).desc())).first()
    assert states[old] == (Status.CLOSED, versions[old] + 1)
    assert states[young] == (Status.SOLVED, versions[young])
    assert states[unsolved] == (Status.NEW, versions[unsolved])
    assert ev is not None and json.loads(ev)["reason"] == "auto-close"
    with store.write() as s:  # an agent who opened the ticket before the close is told
        with pytest.raises(Conflict):
            tickets.update(s, ADMIN, old, TicketUpdate(priority=3),  # type: ignore[arg-type]
                           expected_version=versions[old])
    with store.write() as s:  # a shorter setting closes the younger one too
        assert autoclose.close_solved(s, now, 3) == [young]


def test_auto_close_works_in_batches(world: World) -> None:
    store = world.store
    now = datetime.now(UTC)
    ids = [_new(store, f"t{i}") for i in range(5)]
    for tid in ids:
        _status(store, tid, Status.SOLVED)
        _solved_at(store, tid, now - timedelta(days=10))
    batches = []
    while True:
        with store.write() as s:
            batch = autoclose.close_solved(s, now, 4, limit=2)
        if not batch:
            break
        batches.append(batch)
    assert [len(b) for b in batches] == [2, 2, 1] and sorted(t for b in batches for t in b) == ids


def test_the_setting_is_stored_and_only_admins_change_it(world: World) -> None:
    with world.store.read() as s:
        sam = actor_for(s, "sam", "tui")
    with world.store.write() as s:
        assert autoclose.set_after_days(s, ADMIN, 7) == 7
    with world.store.read() as s:
        assert autoclose.get_after_days(s) == 7
        assert _kinds(s, "setting.updated") == 1
    with world.store.write() as s, pytest.raises(Forbidden):
        autoclose.set_after_days(s, sam, 2)
    with world.store.write() as s, pytest.raises(Invalid):
        autoclose.set_after_days(s, ADMIN, -1)


# -- CLI ---------------------------------------------------------------------
def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_cli_rating_close_solved_and_report(world: World) -> None:
    store, url = world.store, world.store.url
    tid = _new(store)
    with store.read() as s:
        alice = actor_for(s, "alice", "tui")
    with store.write() as s:
        tickets.reply(s, alice, tid, "Fixed it.")
    _status(store, tid, Status.SOLVED)
    res = run("rating", "add", f"#{tid}", "--csat", "5", "--nps", "9", "--comment", "[b]hi[/]",
              "--db", url)
    assert res.exit_code == 0, res.output
    assert res.stdout == f"Rated ticket #{tid}: CSAT 5, NPS 9\n"
    bad = run("rating", "add", str(tid), "--csat", "9", "--db", url)
    assert bad.exit_code == 1 and "csat: must be a whole number from 1 to 5" in bad.stderr

    report = json.loads(run("report", "--window", "1d", "--by", "channel", "--json",
                            "--db", url).stdout)
    assert report["overall"]["solved"] == 1 and report["overall"]["csat"] == 1.0
    assert report["overall"]["fcr"] == 1.0 and report["group_by"] == "channel"
    assert [g["key"] for g in report["groups"]] == ["email"]
    rows = list(csv.DictReader(io.StringIO(run("report", "--csv", "--by", "team",
                                               "--db", url).stdout)))
    assert [(r["key"], r["created"], r["solved"], r["csat"]) for r in rows] == [
        ("overall", "1", "1", "1.0"), ("billing", "1", "1", "1.0")]
    table = run("report", "--db", url)
    assert table.exit_code == 0 and "CSAT" in table.stdout and "Backlog" in table.stdout
    assert run("report", "--by", "colour", "--db", url).exit_code == 2
    assert run("report", "--window", "soon", "--db", url).exit_code == 2

    _solved_at(store, tid, datetime.now(UTC) - timedelta(days=6))
    dry = json.loads(run("close-solved", "--dry-run", "--json", "--db", url).stdout)
    assert (dry["after_days"], dry["due"], dry["closed"]) == (4, 1, 0)
    res = run("close-solved", "--after", "1w", "--save", "--db", url)
    assert res.exit_code == 0 and "Closed 0 tickets" in res.stdout  # 6 days < 1 week
    done = json.loads(run("close-solved", "--after", "5d", "--json", "--db", url).stdout)
    assert done["closed"] == 1
    with store.read() as s:
        assert autoclose.get_after_days(s) == 7
        assert Status(s.get(Ticket, tid).status) is Status.CLOSED  # type: ignore[union-attr]
    assert run("close-solved", "--save", "--db", url).exit_code == 2
