"""subscribe(after_seq) sees another process's writes within a second (§5)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from agent_tui.local import LocalBackend
from tests.conftest import World

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
