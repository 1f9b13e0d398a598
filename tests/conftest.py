"""Shared fixtures: a real SQLite file per test, a real PostgreSQL server per
session (a fresh database per test), and a seeded "world" of agents and teams.

Tests never read the developer's real config or keyring: the environment is
pointed at a temporary directory before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from agent_tui.domain.enums import AgentStatus, Role, Source
from agent_tui.services import agents
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor
from agent_tui.store.migrate import upgrade
from tests.pgserver import ThrowawayPostgres, find_pg_bin

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("AGENT_TUI_CONFIG_FILE", str(home / "config" / "agent-tui.toml"))
    for var in ("AGENT_TUI_DB", "AGENT_TUI_SERVER", "AGENT_TUI_LOGIN", "AGENT_TUI_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayPostgres | str]:
    """The session's PostgreSQL: AGENT_TUI_TEST_PG if set, else a throwaway one."""
    external = os.environ.get("AGENT_TUI_TEST_PG")
    if external:
        yield external
        return
    if find_pg_bin() is None:
        if CI:
            pytest.fail("PostgreSQL is required in CI but its binaries are missing")
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.stop()


def _pg_admin_url(server: ThrowawayPostgres | str) -> str:
    return server if isinstance(server, str) else server.url


def new_pg_database(server: ThrowawayPostgres | str) -> str:
    """Create an empty database on the session's server and return its URL."""
    admin = _pg_admin_url(server)
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def pg_url(pg_server: ThrowawayPostgres | str) -> str:
    return new_pg_database(pg_server)


def migrated(url: str) -> Store:
    store = open_store(url)
    upgrade(store)
    return store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = migrated(store_url)
    yield s
    s.dispose()


ADMIN = Actor.system(Source.CLI, login="cli:test")


@dataclass
class World:
    """A store seeded with teams and agents of every role."""

    store: Store
    logins: dict[str, Role] = field(default_factory=dict)


def seed_world(store: Store) -> World:
    world = World(store=store)
    with store.write() as s:
        for team in ("billing", "tech", "logistics"):
            agents.add_team(s, ADMIN, name=team)
        people = [
            ("ada", "Ada Admin", Role.ADMIN, ["billing"], ["billing"], ["en"]),
            ("sam", "Sam Supervisor", Role.SUPERVISOR, ["billing", "tech"], ["billing"], ["en"]),
            ("alice", "Alice Agent", Role.AGENT, ["billing"], ["billing", "refunds"], ["en"]),
            ("bob", "Bob Agent", Role.AGENT, ["tech"], ["tech"], ["en", "zh"]),
        ]
        for login, name, role, teams, skills, langs in people:
            agents.add_agent(s, ADMIN, login=login, name=name, role=role, teams=teams,
                             skills=skills, languages=langs, status=AgentStatus.ONLINE)
            world.logins[login] = role
    return world


@pytest.fixture
def world(store: Store) -> World:
    return seed_world(store)
