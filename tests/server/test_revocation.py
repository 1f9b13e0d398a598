"""Revoking a token (or disabling, demoting an agent) takes effect on the very next request.

The server keeps token lookups for ~2 s; the event hub drops a cached owner as
soon as it reads the revoking event, before streaming it. So a client that sees
``token.revoked`` on the feed knows the token is already refused: the tests
revoke out of process (through the store, as ``agent-tui token revoke`` does),
wait for the event on an admin's SSE stream, and ask once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable

import httpx
import pytest

from agent_tui.domain.enums import Role
from agent_tui.domain.views import EventView
from agent_tui.server.auth import Authenticator, Unauthorized
from agent_tui.server.limits import RateLimiter
from agent_tui.services import agents, tokens
from tests.conftest import World
from tests.server.conftest import Served
from tests.server.serving import ADMIN


def _get(served: Served, path: str, secret: str) -> httpx.Response:
    return httpx.get(f"{served.url}/api/v1{path}", timeout=10,
                     headers={"authorization": f"Bearer {secret}"})


def _after_event_on_feed(served: Served, kind: str, change: Callable[[], int]) -> None:
    """Run ``change`` (it returns the entity id it touched) and wait until an admin's
    SSE stream delivers the ``kind`` event for it."""
    start = int(_get(served, "/events/last", served.token["ada"]).json()["seq"])
    entity_id = change()
    with httpx.stream("GET", f"{served.url}/api/v1/events", params={"after": start},
                      headers={**served.auth("ada"), "accept": "text/event-stream"},
                      timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["kind"] == kind and event["entity_id"] == entity_id:
                    return
    raise AssertionError(f"the feed ended before {kind} #{entity_id}")


def _new_token(served: Served, login: str) -> tuple[int, str]:
    with served.store.write() as s:
        view, secret = tokens.create_token(s, ADMIN, login, name="revocation test")
    return view.id, secret


def _agent_id(served: Served, login: str) -> int:
    with served.store.read() as s:
        found = agents.get_agent(s, login).id
    assert found is not None
    return found


def test_a_revoked_token_is_refused_on_its_very_next_request(served: Served) -> None:
    token_id, secret = _new_token(served, "bob")
    for _ in range(2):  # the second one is answered from the cache
        assert _get(served, "/events/last", secret).status_code == 200

    def revoke() -> int:
        with served.store.write() as s:
            tokens.revoke_token(s, ADMIN, token_id)
        return token_id

    _after_event_on_feed(served, "token.revoked", revoke)
    refused = _get(served, "/events/last", secret)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["message"]
    assert _get(served, "/events/last", served.token["bob"]).status_code == 200  # others stay


def test_a_disabled_or_demoted_agent_loses_access_on_the_next_request(served: Served) -> None:
    with served.store.write() as s:
        agents.add_agent(s, ADMIN, login="carl", name="Carl Supervisor", role=Role.SUPERVISOR,
                         teams=["billing"])
    carl = _agent_id(served, "carl")
    _, secret = _new_token(served, "carl")
    assert _get(served, "/monitor", secret).status_code == 200

    def demote() -> int:
        with served.store.write() as s:
            agents.set_agent(s, ADMIN, "carl", role=Role.AGENT)
        return carl

    _after_event_on_feed(served, "agent.updated", demote)
    assert _get(served, "/monitor", secret).status_code == 403
    assert _get(served, "/events/last", secret).status_code == 200

    def disable() -> int:
        with served.store.write() as s:
            agents.set_agent(s, ADMIN, "carl", active=False)
        return carl

    _after_event_on_feed(served, "agent.disabled", disable)
    assert _get(served, "/events/last", secret).status_code == 401


async def test_a_lookup_that_overlaps_a_revocation_is_not_cached(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lookup that read the token just before it was revoked must not be kept 2 s."""
    with world.store.write() as s:
        view, secret = tokens.create_token(s, ADMIN, "alice", name="race")
    auth = Authenticator(world.store, RateLimiter(0, 0))
    reading, release = threading.Event(), threading.Event()
    real = tokens.authenticate

    def slow(*args: object, **kwargs: object) -> tokens.TokenOwner:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        reading.set()
        release.wait(5)
        return found

    monkeypatch.setattr(tokens, "authenticate", slow)
    lookup = asyncio.create_task(auth.owner(secret))
    assert await asyncio.to_thread(reading.wait, 5)
    auth.forget([EventView(seq=1, at="2026-01-01T00:00:00Z", actor="cli", role="admin",
                           source="cli", kind="token.revoked", entity="api_token",
                           entity_id=view.id)])
    release.set()
    owner = await lookup
    assert owner.token_id == view.id  # this request had started before the revocation
    monkeypatch.setattr(tokens, "authenticate", real)
    with world.store.write() as s:
        tokens.revoke_token(s, ADMIN, view.id)
    with pytest.raises(Unauthorized, match="revoked"):  # not served from a stale cache
        await auth.owner(secret)
    await auth.close()


async def test_concurrent_misses_share_one_lookup_but_not_across_a_revocation(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst on an expired cache entry costs one query; a request after a
    revocation event does not join the lookup that started before it."""
    with world.store.write() as s:
        view, secret = tokens.create_token(s, ADMIN, "alice", name="burst")
    auth = Authenticator(world.store, RateLimiter(0, 0))
    calls: list[int] = []
    reading, release = threading.Event(), threading.Event()
    real = tokens.authenticate

    def counted(*args: object, **kwargs: object) -> tokens.TokenOwner:
        calls.append(1)
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        reading.set()
        release.wait(5)
        return found

    monkeypatch.setattr(tokens, "authenticate", counted)
    burst = [asyncio.create_task(auth.owner(secret)) for _ in range(50)]
    assert await asyncio.to_thread(reading.wait, 5)
    await asyncio.sleep(0.01)  # let every task reach the shared lookup
    assert len(calls) == 1
    with world.store.write() as s:
        tokens.revoke_token(s, ADMIN, view.id)
    auth.forget([EventView(seq=1, at="2026-01-01T00:00:00Z", actor="cli", role="admin",
                           source="cli", kind="token.revoked", entity="api_token",
                           entity_id=view.id)])
    late = asyncio.create_task(auth.owner(secret))
    release.set()
    owners = await asyncio.gather(*burst)
    assert {o.token_id for o in owners} == {view.id}  # they had all started before it
    with pytest.raises(Unauthorized, match="revoked"):
        await late
    assert len(calls) == 2
    await auth.close()
