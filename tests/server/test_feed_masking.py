"""The SSE feed through the real server: agents get personal data masked, the others raw (§9).

The hub encodes each event twice (raw, masked) once, and every subscriber
reads the frames of its role, from the buffer or, resuming from further back,
from the log.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator
from typing import Any, cast

import httpx

from agent_tui.domain.views import TicketCreate
from agent_tui.server.hub import EventHub
from agent_tui.services import tickets
from agent_tui.store import Store
from backend_client import RemoteBackend
from tests.conftest import World
from tests.server.conftest import Served
from tests.server.serving import ADMIN

EMAIL, PHONE = "jane.doe@example.com", "+44 20 7946 0958"
#: Pieces of the e-mail and the phone that no masked form keeps.
SECRETS = ("jane.doe", "7946 0958", "20 7946")
_customers = itertools.count(1)


def _create(store: Store) -> int:
    """A ticket whose new customer has an e-mail and a phone; returns its id."""
    email = EMAIL.replace("@", f"+{next(_customers)}@")  # a new customer each time
    detail = store.run_write(lambda s: tickets.create(s, ADMIN, TicketCreate(
        subject=f"Call me on {PHONE}", body="please", customer_name="Jane Doe",
        customer_email=email, customer_phone=PHONE)))
    return detail.id


def _last_seq(served: Served) -> int:
    response = httpx.get(f"{served.url}/api/v1/events/last", headers=served.auth("ada"))
    return int(response.json()["seq"])


def _sse_until(served: Served, who: str, ticket_id: int, *, after: int | None = None,
               last_event_id: int | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The raw SSE text ``who`` receives up to ``ticket_id``'s ticket.created, and its events."""
    headers = {**served.auth(who), "accept": "text/event-stream"}
    if last_event_id is not None:
        headers["last-event-id"] = str(last_event_id)
    params = {"after": after} if after is not None else {}
    text: list[str] = []
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{served.url}/api/v1/events", params=params, headers=headers,
                      timeout=httpx.Timeout(10.0)) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            text.append(line)
            if line.startswith("data: "):
                event = json.loads(line[6:])
                events.append(event)
                if event["kind"] == "ticket.created" and event["entity_id"] == ticket_id:
                    break
    return "\n".join(text), events


def _assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "j•••@example.com" in text and "•••• 958" in text
    assert "Jane Doe" in text  # names are not masked, as in the 360


def _assert_raw(text: str) -> None:
    assert "jane.doe+" in text and "@example.com" in text and PHONE in text


def test_agents_sse_stream_is_masked_supervisors_and_admins_get_it_raw(served: Served) -> None:
    start = _last_seq(served)
    ticket_id = _create(served.store)
    streams = {who: _sse_until(served, who, ticket_id, after=start)
               for who in ("alice", "bob", "sam", "ada")}
    for who in ("alice", "bob"):
        _assert_masked(streams[who][0])
    for who in ("sam", "ada"):
        _assert_raw(streams[who][0])
    # The same events in the same order for everyone: only the diffs differ.
    seqs = {who: [e["seq"] for e in events] for who, (_, events) in streams.items()}
    assert len({tuple(s) for s in seqs.values()}) == 1
    kinds = [e["kind"] for e in streams["alice"][1]]
    assert kinds[-2:] == ["customer.created", "ticket.created"]


def test_resume_from_last_event_id_keeps_each_roles_encoding(served: Served) -> None:
    start = _last_seq(served)
    ticket_id = _create(served.store)
    _, events = _sse_until(served, "sam", ticket_id, after=start)
    customer_seq = next(e["seq"] for e in events if e["kind"] == "customer.created")
    # Resume just before the customer's event: the header wins over ?after.
    agent, agent_events = _sse_until(served, "alice", ticket_id, after=0,
                                     last_event_id=customer_seq - 1)
    boss, boss_events = _sse_until(served, "sam", ticket_id, after=0,
                                   last_event_id=customer_seq - 1)
    assert agent_events[0]["seq"] == boss_events[0]["seq"] == customer_seq
    _assert_masked(agent)
    _assert_raw(boss)


async def test_remote_backend_subscribe_gets_the_encoding_of_its_role(served: Served) -> None:
    alice = RemoteBackend(served.url, served.token["alice"])
    sam = RemoteBackend(served.url, served.token["sam"])
    try:
        start = await alice.last_seq()
        ticket_id = await asyncio.to_thread(_create, served.store)

        async def diffs(backend: RemoteBackend) -> str:
            seen: list[str] = []
            async for ev in backend.subscribe(start):
                seen.append(repr(ev.diff))
                if ev.kind == "ticket.created" and ev.entity_id == ticket_id:
                    break
            return "\n".join(seen)

        masked = await asyncio.wait_for(diffs(alice), timeout=10)
        raw = await asyncio.wait_for(diffs(sam), timeout=10)
    finally:
        await alice.close()
        await sam.close()
    _assert_masked(masked)
    _assert_raw(raw)


async def _frames(hub: EventHub, after: int, until: int, *, masked: bool
                  ) -> list[tuple[int, str]]:
    """(seq, data) of every frame the hub streams after ``after`` up to seq ``until``."""
    out: list[tuple[int, str]] = []
    stream = cast(AsyncGenerator[bytes, None], hub.stream(after, masked=masked))
    try:
        async for chunk in stream:
            for message in chunk.decode().split("\n\n"):
                fields = dict(line.split(": ", 1) for line in message.splitlines()
                              if ": " in line and not line.startswith(":"))
                if "id" in fields:
                    out.append((int(fields["id"]), fields["data"]))
            if out and out[-1][0] >= until:
                return out
    finally:
        await stream.aclose()
    return out


async def test_hub_resumes_from_before_its_buffer_in_each_roles_encoding(world: World) -> None:
    """A resume older than the buffer reads the log, encoded for the subscriber's role."""
    store = world.store
    hub = EventHub(store, poll_interval=0.01, keep=3)
    await hub.start()
    try:
        first = hub.floor
        for _ in range(4):  # 8 events: more than the buffer keeps
            await asyncio.to_thread(_create, store)
        with store.read() as s:
            from agent_tui.store.events import last_seq

            head = last_seq(s)
        deadline = asyncio.get_running_loop().time() + 5
        while hub.head < head:
            assert asyncio.get_running_loop().time() < deadline, "the hub never caught up"
            await asyncio.sleep(0.01)
        assert hub.floor > first  # the oldest events left the buffer
        masked = await asyncio.wait_for(_frames(hub, first, head, masked=True), 5)
        raw = await asyncio.wait_for(_frames(hub, first, head, masked=False), 5)
    finally:
        await hub.stop()
    assert [seq for seq, _ in masked] == [seq for seq, _ in raw] == list(range(first + 1,
                                                                               head + 1))
    masked_text = "\n".join(data for _, data in masked)
    raw_text = "\n".join(data for _, data in raw)
    _assert_masked(masked_text)
    _assert_raw(raw_text)
    # Both halves of the stream were masked: the log part and the buffered part.
    logged = [data for seq, data in masked if seq <= hub.floor]
    buffered = [data for seq, data in masked if seq > hub.floor]
    assert logged and buffered
    for part in (logged, buffered):
        assert not any(secret in data for data in part for secret in SECRETS)
