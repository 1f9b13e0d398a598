"""subscribe(after_seq) sees another process's writes within a second (§5)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from agent_tui.backend import Backend
from agent_tui.local import LocalBackend
from tests.conftest import World
from tests.contract.conftest import BackendFor, backend_for

__all__ = ["backend_for"]  # the contract's fixture: Local and Remote (a real uvicorn)

WRITER = """
import sys
from agent_tui.store import open_store
from agent_tui.services import tickets
from agent_tui.services.agents import actor_for
from agent_tui.domain.views import TicketCreate
store = open_store(sys.argv[1])
with store.read() as s:
    actor = actor_for(s, "bob", "cli")
detail = store.run_write(lambda s: tickets.create(s, actor, TicketCreate(
    subject="From another process", body="hello", customer_email="p@example.com")))
print(detail.id, flush=True)
"""


async def test_subscribe_sees_another_process_within_a_second(world: World) -> None:
    backend = LocalBackend(world.store, "alice")
    start = await backend.last_seq()
    proc = subprocess.run([sys.executable, "-c", WRITER, world.store.url],
                          capture_output=True, text=True, check=True, timeout=60)
    committed_at = time.monotonic()
    ticket_id = int(proc.stdout.strip())

    async def first_ticket_event() -> int:
        async for ev in backend.subscribe(start):
            if ev.kind == "ticket.created":
                return ev.entity_id or 0
        return 0

    got = await asyncio.wait_for(first_ticket_event(), timeout=5)
    assert got == ticket_id
    assert time.monotonic() - committed_at < 1.0


async def test_agents_get_events_with_personal_data_masked(world: World,
                                                           backend_for: BackendFor) -> None:
    """The feed is a response like any other: an agent sees no raw e-mail or phone (§9).

    Held by both backends: LocalBackend.subscribe and RemoteBackend over the
    server's SSE hub, which encodes each event once per audience.
    """
    from agent_tui.domain.views import TicketCreate
    from agent_tui.services import tickets
    from agent_tui.services.agents import actor_for

    alice, sam = backend_for("alice"), backend_for("sam")
    start = await alice.last_seq()
    with world.store.read() as s:
        bob = actor_for(s, "bob", "cli")
    world.store.run_write(lambda s: tickets.create(s, bob, TicketCreate(
        subject="Call me on +44 20 7946 0958 \x1b]52;c;aGk=\x07now",
        body="card 4111 1111 1111 1111", customer_name="Jane Doe",
        customer_email="jane.doe@example.com", customer_phone="+44 20 7946 0958")))

    async def diffs(backend: Backend) -> str:
        seen: list[str] = []
        async for ev in backend.subscribe(start):
            seen.append(repr(ev.diff))
            if ev.kind == "ticket.created":
                return "\n".join(seen)
        return ""

    masked = await asyncio.wait_for(diffs(alice), timeout=5)
    raw = await asyncio.wait_for(diffs(sam), timeout=5)
    for secret in ("jane.doe@example.com", "7946 0958"):
        assert secret in raw  # a supervisor sees the data as it is
        assert secret not in masked
    assert "j•••@example.com" in masked and "•••• 958" in masked
    assert "Jane Doe" in masked  # names are not masked for agents, as in the 360
    for feed in (masked, raw):  # customer text is made inert for everyone
        assert "\x1b" not in feed and "\x07" not in feed
