"""store.engine: a pooled PostgreSQL connection is pinged only after it sat idle,
and one that died while it waited is replaced, not handed out."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from agent_tui.store import engine as engine_mod
from agent_tui.store import open_store

pytestmark = pytest.mark.pg


def _read(store: engine_mod.Store) -> int:
    with store.read() as s:
        return int(s.connection().execute(sa.text("SELECT 1")).scalar_one())


def _kill_other_backends(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                            ).fetchall()
    return len(rows)


def test_a_busy_connection_is_not_pinged_an_idle_one_is(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(pg_url)
    pings: list[object] = []
    real_ping = store.engine.dialect.do_ping

    def counted(dbapi_conn: object) -> bool:
        pings.append(dbapi_conn)
        return real_ping(dbapi_conn)  # type: ignore[arg-type]

    monkeypatch.setattr(store.engine.dialect, "do_ping", counted)
    try:
        for _ in range(5):
            assert _read(store) == 1
        assert pings == []  # reused within PING_AFTER_IDLE_S: no round trip
        monkeypatch.setattr(engine_mod, "PING_AFTER_IDLE_S", 0.0)
        assert _read(store) == 1
        assert len(pings) == 1
    finally:
        store.dispose()


def test_a_connection_that_died_in_the_pool_is_replaced(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(pg_url)
    try:
        assert _read(store) == 1  # one connection now waits in the pool
        assert _kill_other_backends(pg_url) >= 1
        monkeypatch.setattr(engine_mod, "PING_AFTER_IDLE_S", 0.0)
        assert _read(store) == 1  # the ping saw it dead; a fresh one answered
    finally:
        store.dispose()


def test_without_the_ping_a_dead_connection_fails_once_then_the_pool_recovers(
        pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        assert _read(store) == 1
        assert _kill_other_backends(pg_url) >= 1
        with pytest.raises(sa.exc.OperationalError):
            _read(store)  # used within the idle window: the statement fails ...
        assert _read(store) == 1  # ... the pool was invalidated, the next read works
    finally:
        store.dispose()
