"""The lean read paths (services.wire_reads) return exactly what the services return.

For every role, the queue page (views, filters, sorts, cursor pages both ways)
and the ticket detail are compared, as JSON, with ``services.queue.list_tickets``
and ``services.tickets.detail`` — masking for agents included — on SQLite and
PostgreSQL; and once through the HTTP routes, which serve the lean paths.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from agent_tui.domain.enums import Priority, Sort, Source, Status, View
from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.views import TicketCreate, TicketFilters
from agent_tui.services import agents, ticket_actions, tickets, wire_reads
from agent_tui.services import queue as queue_svc
from agent_tui.store import Store
from agent_tui.store.events import Actor
from tests.conftest import ADMIN, seed_world
from tests.server.conftest import Served

LOGINS = ("ada", "sam", "alice", "bob")  # admin, supervisor, two agents


def _seed(store: Store) -> list[int]:
    seed_world(store)
    ids = []
    with store.write() as s:
        alice = agents.actor_for(s, "alice", Source.API)
        specs = [
            ("Refund to jane.doe@example.com please", "billing", Priority.HIGH, ["refund"],
             "jane.doe@example.com", "Jane Doe"),
            ("Call me on +44 20 7946 0958", "tech", Priority.URGENT, ["phone", "vip"],
             "li.wei@qq.com", "Li Wei"),
            ("Card 4111 1111 1111 1111 charged twice", "billing", Priority.NORMAL, [],
             "jane.doe@example.com", "Jane Doe"),
            ("Where is order A-482913?", None, Priority.LOW, ["shipping"],
             "omar@example.org", "Omar +1 415 555 0100"),
            ("Tabs\tand\x1b[31m escapes", "tech", Priority.HIGH, ["refund"],
             "zoe@example.net", "Zoë"),
        ]
        for n in range(3):
            for subject, team, prio, tags, email, name in specs:
                detail = tickets.create(s, ADMIN, TicketCreate(
                    subject=f"{subject} #{n}", body=f"Hi, mail me at {email} or +1 415 555 0199",
                    team=team, priority=prio, tags=tags, customer_email=email,
                    customer_name=name))
                ids.append(detail.id)
        tickets.reply(s, alice, ids[0], "We are on it, jane.doe@example.com")
        tickets.note(s, alice, ids[0], "internal: customer phone +44 20 7946 0958")
        tickets.assign(s, ADMIN, ids[1], "bob")
        tickets.assign(s, ADMIN, ids[2], "alice")
        ticket_actions.link(s, alice, ids[0], ids[3])
    return ids


@pytest.fixture
def seeded(store: Store) -> tuple[Store, list[int]]:
    return store, _seed(store)


def _actor(store: Store, login: str) -> Actor:
    with store.read() as s:
        return agents.actor_for(s, login, Source.API)


def _lean_page(store: Store, actor: Actor, view: View, **kw: Any) -> Any:
    page = wire_reads.run_read(store, lambda c: wire_reads.queue_page(c, actor, view, **kw))
    return orjson.loads(wire_reads.dumps(page))


def _service_page(store: Store, actor: Actor, view: View, **kw: Any) -> Any:
    with store.read() as s:
        return json.loads(queue_svc.list_tickets(s, actor, view, **kw).model_dump_json())


QUERIES: list[tuple[View, dict[str, Any]]] = [
    (View.ALL_OPEN, {}),
    (View.ALL_OPEN, {"sort": Sort.AGE}),
    (View.ALL_OPEN, {"sort": Sort.UPDATED}),
    (View.MY_OPEN, {}),
    (View.UNASSIGNED, {"sort": Sort.AGE}),
    (View.TEAM, {"view_arg": "billing"}),
    (View.CHANNEL, {"view_arg": "email"}),
    (View.ALL_OPEN, {"filters": TicketFilters(tag="refund")}),
    (View.ALL_OPEN, {"filters": TicketFilters(text="card", priority=[Priority.NORMAL])}),
    (View.ALL_OPEN, {"filters": TicketFilters(assignee="bob", status=[Status.NEW,
                                                                      Status.OPEN])}),
    (View.ALL_OPEN, {"filters": TicketFilters(assignee="none", team="tech")}),
]


@pytest.mark.parametrize("login", LOGINS)
def test_queue_page_matches_the_service(seeded: tuple[Store, list[int]], login: str) -> None:
    store, _ = seeded
    actor = _actor(store, login)
    for view, kw in QUERIES:
        lean = _lean_page(store, actor, view, **kw)
        assert lean == _service_page(store, actor, view, **kw), (view, kw)
    # Masking is really in play for agents (and only for them).
    subjects = " ".join(r["subject"] for r in _lean_page(store, actor, View.ALL_OPEN,
                                                          limit=500)["items"])
    assert ("jane.doe@example.com" in subjects) is (login in ("ada", "sam"))


@pytest.mark.parametrize("login", ["sam", "alice"])
@pytest.mark.parametrize("sort", list(Sort))
def test_cursor_pages_match_both_ways(seeded: tuple[Store, list[int]], login: str,
                                      sort: Sort) -> None:
    store, _ = seeded
    actor = _actor(store, login)
    seen = []
    after = None
    while True:  # forward, two rows a page
        lean = _lean_page(store, actor, View.ALL_OPEN, sort=sort, after=after, limit=2)
        assert lean == _service_page(store, actor, View.ALL_OPEN, sort=sort, after=after,
                                     limit=2)
        seen += [r["id"] for r in lean["items"]]
        if lean["next_cursor"] is None:
            break
        after = lean["next_cursor"]
    assert len(seen) == len(set(seen)) == 15
    before = lean["prev_cursor"]
    while before is not None:  # and back again
        lean = _lean_page(store, actor, View.ALL_OPEN, sort=sort, before=before, limit=2)
        assert lean == _service_page(store, actor, View.ALL_OPEN, sort=sort, before=before,
                                     limit=2)
        before = lean["prev_cursor"]


def test_queue_errors_are_the_services(seeded: tuple[Store, list[int]]) -> None:
    store, _ = seeded
    actor = _actor(store, "alice")
    bad: list[tuple[View, dict[str, Any]]] = [
        (View.TEAM, {"view_arg": "nope"}), (View.ALL_OPEN, {"after": "junk"}),
        (View.ALL_OPEN, {"filters": TicketFilters(assignee="nobody")})]
    for view, kw in bad:
        with pytest.raises(Invalid) as lean:
            _lean_page(store, actor, view, **kw)
        with pytest.raises(Invalid) as service:
            _service_page(store, actor, view, **kw)
        assert lean.value.to_dict() == service.value.to_dict()


@pytest.mark.parametrize("login", LOGINS)
def test_ticket_detail_matches_the_service(seeded: tuple[Store, list[int]], login: str
                                           ) -> None:
    store, ids = seeded
    actor = _actor(store, login)
    def lean_detail(conn: sa.Connection, ticket_id: int) -> dict[str, Any]:
        return wire_reads.ticket_detail(conn, actor, ticket_id)

    for ticket_id in ids[:6]:  # with a thread, a link, an assignee, a control character
        lean = orjson.loads(wire_reads.dumps(wire_reads.run_read(
            store, functools.partial(lean_detail, ticket_id=ticket_id))))
        with store.read() as s:
            service = json.loads(tickets.detail(s, actor, ticket_id).model_dump_json())
        assert lean == service, ticket_id
    first = wire_reads.run_read(store, lambda c: wire_reads.ticket_detail(c, actor, ids[0]))
    assert first["links"] and len(first["messages"]) == 3
    masked = login in ("alice", "bob")
    assert ("jane.doe@example.com" in first["messages"][0]["body"]) is not masked
    assert (first["customer_email"] == "jane.doe@example.com") is not masked
    with pytest.raises(NotFound):
        wire_reads.run_read(store, lambda c: wire_reads.ticket_detail(c, actor, 10**9))


@pytest.mark.parametrize("login", ["sam", "alice"])
def test_routes_serve_the_services_json(served: Served, login: str) -> None:
    store = served.store
    actor = _actor(store, login)
    with httpx.Client(base_url=served.url, headers=served.auth(login)) as client:
        got = client.get("/api/v1/tickets", params={"view": "all_open", "limit": 50,
                                                    "sort": "age"})
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/json"
        assert got.json() == _service_page(store, actor, View.ALL_OPEN, sort=Sort.AGE)
        one = client.get(f"/api/v1/tickets/{served.ticket_id}")
        assert one.status_code == 200
        with store.read() as s:
            assert one.json() == json.loads(
                tickets.detail(s, actor, served.ticket_id).model_dump_json())
        assert client.get("/api/v1/tickets/999999").status_code == 404
        assert client.get("/api/v1/tickets", params={"after": "junk"}).status_code == 422

