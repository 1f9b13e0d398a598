"""Team mode under failure, on PostgreSQL with the real `agent-tui serve` process:

- restart the server under 20 SSE clients while events keep coming: every
  client resumes (Last-Event-ID) and sees every event, none twice;
- two server processes on one PostgreSQL see each other's events;
- kill -9 the server during 20 concurrent writers, 20 rounds: every write
  the server acknowledged is in the database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from agent_tui.backend import EventView, TicketCreate, Unavailable
from agent_tui.local import LocalBackend
from agent_tui.store import Store
from backend_client import RemoteBackend
from tests.conftest import migrated, seed_world
from tests.server.serving import ProcessServer, make_tokens

pytestmark = pytest.mark.pg

CLIENTS = 20


@pytest.fixture
def pg_store(pg_url: str) -> Store:
    store = migrated(pg_url)
    seed_world(store)
    yield store  # type: ignore[misc]
    store.dispose()


async def _follow(backend: RemoteBackend, start: int, seen: list[int], done: asyncio.Event
                  ) -> None:
    """Follow the feed as the app does: after Unavailable, subscribe again from the last seq."""
    cursor = start
    while True:
        try:
            async for event in backend.subscribe(cursor):
                cursor = event.seq
                seen.append(event.seq)
                if done.is_set() and event.seq >= getattr(done, "last", 1 << 62):
                    return
        except Unavailable:
            await asyncio.sleep(0.5)


async def _writes(local: LocalBackend, ticket_id: int, n: int) -> None:
    for i in range(n):
        await local.note(ticket_id, f"note {i} {uuid.uuid4().hex[:6]}")


async def test_sse_clients_resume_across_a_restart_and_miss_nothing(
        pg_store: Store, tmp_path: Path) -> None:
    secrets = make_tokens(pg_store, ["ada", "sam", "alice", "bob"])
    server = ProcessServer(pg_store.url, tmp_path / "serve.log",
                           args=["--sse-per-user", "10"]).start()
    local = LocalBackend(pg_store, "ada", sla_sweep_interval=None)
    ticket = await local.create_ticket(TicketCreate(subject="Live", body="first",
                                                    customer_email="liv@example.com"))
    start = await local.last_seq()
    logins = list(secrets)
    clients = [RemoteBackend(server.url, secrets[logins[i % len(logins)]])
               for i in range(CLIENTS)]
    seen: list[list[int]] = [[] for _ in clients]
    done = asyncio.Event()
    tasks = [asyncio.create_task(_follow(c, start, s, done)) for c, s in zip(clients, seen,
                                                                             strict=True)]
    try:
        await _writes(local, ticket.id, 10)
        await _wait(lambda: all(len(s) >= 10 for s in seen), 15, "events before the restart")
        server.stop()  # SIGTERM: a deploy; the streams drop
        await _writes(local, ticket.id, 10)  # written while no server runs
        server.start()
        await _writes(local, ticket.id, 10)
        last = await local.last_seq()
        done.last = last  # type: ignore[attr-defined]
        done.set()
        await _wait(lambda: all(s and s[-1] >= last for s in seen), 30, "events after restart")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            await client.close()
        await local.close()
        server.stop()
    with pg_store.read() as s:
        expected = [int(x) for x in s.execute(sa.text(
            "SELECT seq FROM event WHERE seq > :a AND seq <= :b ORDER BY seq"),
            {"a": start, "b": last}).scalars()]
    assert len(expected) >= 30
    for i, got in enumerate(seen):
        assert [q for q in got if q <= last] == expected, f"client {i} missed or repeated events"


async def _wait(ok: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ok():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_two_server_processes_on_one_postgres_see_each_others_events(
        pg_store: Store, tmp_path: Path) -> None:
    secrets = make_tokens(pg_store, ["alice", "bob"])
    one = ProcessServer(pg_store.url, tmp_path / "one.log").start()
    two = ProcessServer(pg_store.url, tmp_path / "two.log").start()
    writer = RemoteBackend(one.url, secrets["alice"])
    reader = RemoteBackend(two.url, secrets["bob"])
    try:
        start = await reader.last_seq()
        got: list[EventView] = []

        async def follow() -> None:
            async for event in reader.subscribe(start):
                got.append(event)
                if event.kind == "ticket.created":
                    return

        task = asyncio.create_task(follow())
        began = time.monotonic()
        created = await writer.create_ticket(TicketCreate(
            subject="Across processes", body="hello", customer_email="x@example.com"))
        await asyncio.wait_for(task, 10)
        assert any(e.entity_id == created.id for e in got)
        assert time.monotonic() - began < 1.0  # "a reply in one shows in the other within 1 s"
    finally:
        await writer.close()
        await reader.close()
        one.stop()
        two.stop()


ROUNDS = 20
WRITERS = 20


async def _writer(url: str, token: str, ticket_id: int, acked: list[str], stop: asyncio.Event
                  ) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5.0,
                                 headers={"authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            marker = uuid.uuid4().hex
            try:
                response = await client.post(f"/api/v1/tickets/{ticket_id}/notes",
                                             json={"body": f"ack {marker}"})
            except httpx.HTTPError:
                return  # the server died mid-request: that write was never acknowledged
            if response.status_code == 200:
                acked.append(marker)



@pytest.mark.slow
async def test_kill_9_during_concurrent_writes_loses_no_acknowledged_write(
        pg_store: Store, tmp_path: Path) -> None:
    secrets = make_tokens(pg_store, ["ada"])
    local = LocalBackend(pg_store, "ada", sla_sweep_interval=None)
    tickets = [await local.create_ticket(TicketCreate(subject=f"Load {i}", body="x",
                                                      customer_email=f"l{i}@example.com"))
               for i in range(5)]
    await local.close()
    acked: list[str] = []
    server = ProcessServer(pg_store.url, tmp_path / "serve.log")
    for round_no in range(ROUNDS):
        server.start()
        stop = asyncio.Event()
        before = len(acked)
        tasks = [asyncio.create_task(_writer(server.url, secrets["ada"],
                                             tickets[i % len(tickets)].id, acked, stop))
                 for i in range(WRITERS)]
        # Kill once the writers are flowing (a cold process takes a moment), at a
        # different point of the stream each round.
        await _wait(lambda b=before: len(acked) > b, 15, f"round {round_no}'s first write")
        await asyncio.sleep(0.05 * (round_no % 7))
        server.kill()  # SIGKILL while the writers are mid-flight
        stop.set()
        await asyncio.gather(*tasks)
    with pg_store.read() as s:
        bodies = set(s.execute(sa.text("SELECT body FROM message WHERE body LIKE 'ack %'"))
                     .scalars())
    lost = [m for m in acked if f"ack {m}" not in bodies]
    assert lost == [], f"{len(lost)} acknowledged writes lost of {len(acked)}"


async def test_serve_with_two_workers_on_postgres(pg_store: Store, tmp_path: Path) -> None:
    secrets = make_tokens(pg_store, ["alice", "bob"])
    server = ProcessServer(pg_store.url, tmp_path / "workers.log",
                           args=["--workers", "2"]).start()
    reader = RemoteBackend(server.url, secrets["bob"])
    writer = RemoteBackend(server.url, secrets["alice"])
    try:
        start = await reader.last_seq()
        subjects = [f"Worker check {i}" for i in range(10)]

        async def follow() -> set[int]:
            created: set[int] = set()
            async for event in reader.subscribe(start):
                if event.kind == "ticket.created":
                    created.add(int(event.entity_id or 0))
                    if len(created) == len(subjects):
                        return created
            return created

        task = asyncio.create_task(follow())
        made = {(await writer.create_ticket(TicketCreate(
            subject=s, body="hi", customer_email="w@example.com"))).id for s in subjects}
        assert await asyncio.wait_for(task, 15) == made  # whichever worker served each write
    finally:
        await reader.close()
        await writer.close()
        server.stop()
