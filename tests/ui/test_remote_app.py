"""The terminal app on a RemoteBackend: the same screens, live across terminals,
and "reconnecting…" (not a crash) when the server goes away."""

from __future__ import annotations

from agent_tui.app import AgentApp
from agent_tui.backend import TicketCreate
from backend_client import RemoteBackend
from tests.server.serving import ThreadServer, make_tokens
from tests.ui.conftest import SIZE, Shop, queue_ready, wait_for, wait_for_text


async def test_two_terminals_share_one_server_and_survive_its_restart(shop: Shop) -> None:
    secrets = make_tokens(shop.store, ["alice", "sam"])
    server = ThreadServer(shop.url).start()
    alice = AgentApp(RemoteBackend(server.url, secrets["alice"]), server.url)
    sam = RemoteBackend(server.url, secrets["sam"])
    try:
        async with alice.run_test(size=SIZE) as pilot:
            await queue_ready(pilot, alice)
            await wait_for_text(pilot, alice, "Refund not received", "● live", server.url[:20])
            # Another terminal writes through the same server: it shows here, live.
            await sam.create_ticket(TicketCreate(subject="Parcel arrived broken", body="Help",
                                                 customer_email="pat@example.com"))
            await wait_for_text(pilot, alice, "Parcel arrived broken", timeout=5)
            server.stop()
            await wait_for(pilot, lambda: alice.connection == "reconnecting", timeout=20,
                           what="the app noticing the server is gone")
            await wait_for_text(pilot, alice, "◌ reconnecting")
            server = ThreadServer(shop.url, port=server.port).start()
            await wait_for(pilot, lambda: alice.connection == "live", timeout=20,
                           what="the feed coming back")
            await sam.close()
            sam = RemoteBackend(server.url, secrets["sam"])
            await sam.create_ticket(TicketCreate(subject="After the restart", body="Hi",
                                                 customer_email="pat@example.com"))
            await wait_for_text(pilot, alice, "After the restart", timeout=10)
    finally:
        await sam.close()
        server.stop()
