"""The store on both dialects: migrations, pragmas, the append-only event log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from agent_tui.domain.tables import Event
from agent_tui.store import Store, open_store
from agent_tui.store.events import append_event, audit_unlocked
from agent_tui.store.migrate import current_revision, head_revision, upgrade
from tests.conftest import ADMIN


def test_migrations_create_and_upgrade_an_older_store(store_url: str) -> None:
    store = open_store(store_url)
    try:
        first = upgrade(store, "0001")
        assert first.created and first.after == "0001"
        result = upgrade(store)
        assert result.upgraded and result.before == "0001" and result.after == head_revision()
        again = upgrade(store)
        assert not again.upgraded and not again.created
        assert current_revision(store) == head_revision()
    finally:
        store.dispose()


def test_event_log_refuses_update_and_delete(store: Store) -> None:
    with store.write() as s:
        seq = append_event(s, ADMIN, kind="test.kind", entity="ticket", entity_id=1,
                           after={"x": 1}).seq
    for stmt in (sa.update(Event).where(Event.seq == seq).values(kind="forged"),
                 sa.delete(Event).where(Event.seq == seq)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.write() as s:
            s.execute(stmt)
    with store.read() as s:
        assert s.get(Event, seq).kind == "test.kind"


def test_audit_unlock_is_scoped_to_its_transaction(store: Store) -> None:
    with store.write() as s:
        seq = append_event(s, ADMIN, kind="test.kind", entity="ticket", entity_id=1).seq
    with store.write() as s, audit_unlocked(s):
        s.execute(sa.update(Event).where(Event.seq == seq).values(diff='{"redacted": true}'))
    with pytest.raises(sa.exc.DatabaseError), store.write() as s:
        s.execute(sa.delete(Event).where(Event.seq == seq))


def test_sqlite_pragmas(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    upgrade(store)
    with store.engine.connect() as conn:
        pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                   for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    store.dispose()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                       "busy_timeout": 30000}


def test_timestamps_come_back_timezone_aware(store: Store) -> None:
    with store.write() as s:
        seq = append_event(s, ADMIN, kind="k", entity="e", entity_id=None).seq
    with store.read() as s:
        at = s.get(Event, seq).at
    assert at.tzinfo is not None and at.utcoffset().total_seconds() == 0
