"""Limits and error mapping over real HTTP: 413, 429 (SSE cap, rate), 404/409/422."""

from __future__ import annotations

import httpx
import pytest

from agent_tui.backend import Conflict, Invalid, NotFound, Priority, TicketUpdate
from agent_tui.server import ServerSettings
from agent_tui.server.limits import MAX_BODY
from backend_client import RemoteBackend
from tests.server.conftest import Served
from tests.server.serving import ThreadServer


def test_body_of_one_mib_plus_one_byte_is_413(served: Served) -> None:
    url = f"{served.url}/api/v1/tickets/{served.ticket_id}/notes"
    filler = "x" * (MAX_BODY - len('{"body":""}'))
    ok = httpx.post(url, content=f'{{"body":"{filler}"}}'.encode(), timeout=30,
                    headers={**served.auth("alice"), "content-type": "application/json"})
    assert ok.status_code != 413  # exactly 1 MiB is allowed (the service may still refuse)
    big = f'{{"body":"{filler}x"}}'.encode()
    assert len(big) == MAX_BODY + 1
    response = httpx.post(url, content=big, timeout=30,
                          headers={**served.auth("alice"), "content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"

    def chunks() -> object:  # no Content-Length: counted as it arrives
        yield b'{"body":"'
        for _ in range(MAX_BODY // 65536 + 1):
            yield b"y" * 65536
        yield b'"}'

    streamed = httpx.post(url, content=chunks(), timeout=30,  # type: ignore[arg-type]
                          headers={**served.auth("alice"), "content-type": "application/json"})
    assert streamed.status_code == 413


@pytest.fixture
def tight(served: Served) -> ThreadServer:
    server = ThreadServer(served.store.url, ServerSettings(
        rate=5, burst=5, sse_per_user=2, sla_sweep_interval=None)).start()
    yield server  # type: ignore[misc]
    server.stop()


def test_sse_over_the_cap_is_429_and_a_closed_stream_frees_its_slot(
        served: Served, tight: ThreadServer) -> None:
    headers = served.auth("bob")
    with httpx.Client(base_url=tight.url, timeout=10) as client:
        with client.stream("GET", "/api/v1/events", headers=headers) as first, \
                client.stream("GET", "/api/v1/events", headers=headers) as second:
            assert (first.status_code, second.status_code) == (200, 200)
            third = client.get("/api/v1/events", headers=headers)
            assert third.status_code == 429
            assert "open event streams" in third.json()["message"]
            # The cap is per agent: someone else may still subscribe.
            with client.stream("GET", "/api/v1/events", headers=served.auth("sam")) as other:
                assert other.status_code == 200
        # Both streams closed: bob may subscribe again (the slot comes back on disconnect).
        for _ in range(50):
            with client.stream("GET", "/api/v1/events", headers=headers) as again:
                if again.status_code == 200:
                    break
        assert again.status_code == 200


def test_rate_limit_per_token(served: Served, tight: ThreadServer) -> None:
    with httpx.Client(base_url=tight.url, timeout=10) as client:
        codes = [client.get("/api/v1/me", headers=served.auth("ada")).status_code
                 for _ in range(12)]
        assert codes[:5] == [200] * 5
        assert 429 in codes[5:]
        limited = client.get("/api/v1/me", headers=served.auth("ada"))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        # Another token has its own bucket.
        assert client.get("/api/v1/me", headers=served.auth("sam")).status_code == 200


async def test_typed_errors_cross_the_wire(served: Served) -> None:
    alice = RemoteBackend(served.url, served.token["alice"])
    sam = RemoteBackend(served.url, served.token["sam"])
    try:
        with pytest.raises(NotFound) as missing:
            await alice.get_ticket(987_654)
        assert missing.value.entity == "ticket" and str(missing.value.key) == "987654"
        ticket = await sam.get_ticket(served.ticket_id)
        await sam.update_ticket(ticket.id, TicketUpdate(priority=Priority.HIGH),
                                expected_version=ticket.version)
        with pytest.raises(Conflict) as stale:
            await alice.update_ticket(ticket.id, TicketUpdate(priority=Priority.LOW),
                                      expected_version=ticket.version)
        assert stale.value.current_version == ticket.version + 1
        assert stale.value.changed_by == "sam"
        raw = httpx.patch(f"{served.url}/api/v1/tickets/{ticket.id}",
                          headers=served.auth("alice"),
                          json={"changes": {"priority": Priority.LOW.value},
                                "expected_version": ticket.version})
        assert raw.status_code == 409
        assert raw.json()["current_version"] == ticket.version + 1
        assert raw.json()["changed_by"] == "sam"
        with pytest.raises(Invalid) as invalid:
            await alice.reply(ticket.id, "   ")
        assert invalid.value.field
        bad = httpx.post(f"{served.url}/api/v1/tickets/{ticket.id}/replies",
                         headers=served.auth("alice"), json={"nobody": 1})
        assert bad.status_code == 422 and bad.json()["field"] == "body"
    finally:
        await alice.close()
        await sam.close()
