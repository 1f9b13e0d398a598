"""Backends for the contract suite.

The suite talks only to the ``Backend`` protocol. ``backend_for(login)``
gives a backend signed in as one of the seeded agents: a LocalBackend over
SQLite and over PostgreSQL, and a RemoteBackend talking HTTP to a real
uvicorn server on 127.0.0.1 over the same store; the tests run unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from agent_tui.backend import Backend
from agent_tui.local import LocalBackend
from tests.conftest import World

BackendFor = Callable[[str], Backend]


@pytest.fixture(params=["local", "remote"])
async def backend_for(request: pytest.FixtureRequest, world: World
                      ) -> AsyncIterator[BackendFor]:
    opened: list[Backend] = []
    server = None
    if request.param == "remote":
        from backend_client import RemoteBackend
        from tests.server.serving import ThreadServer, make_tokens

        secrets = make_tokens(world.store, world.logins)
        server = ThreadServer(world.store.url).start()

    def make(login: str) -> Backend:
        backend: Backend
        if server is not None:
            backend = RemoteBackend(server.url, secrets[login])
        else:
            backend = LocalBackend(world.store, login, poll_interval=0.05)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        await backend.close()
    if server is not None:
        server.stop()
