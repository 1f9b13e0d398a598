"""Backends for the contract suite.

The suite talks only to the ``Backend`` protocol. ``backend_for(login)``
gives a backend signed in as one of the seeded agents; today that is a
LocalBackend over SQLite and over PostgreSQL. The team-mode issue adds a
RemoteBackend against a real server here, and the tests run unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from agent_tui.backend import Backend
from agent_tui.local import LocalBackend
from tests.conftest import World

BackendFor = Callable[[str], Backend]


@pytest.fixture
async def backend_for(world: World) -> AsyncIterator[BackendFor]:
    opened: list[Backend] = []

    def make(login: str) -> Backend:
        backend = LocalBackend(world.store, login, poll_interval=0.05)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        await backend.close()
