"""Backup and restore on both dialects: services and the CLI."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from typer.testing import CliRunner

from agent_tui.domain.enums import Priority, Role
from agent_tui.domain.errors import Invalid, Unavailable
from agent_tui.domain.tables import Event, Ticket
from agent_tui.domain.views import TicketCreate, TicketUpdate
from agent_tui.services import agents, backup_pg, tickets
from agent_tui.services.backup import backup, holds_data, restore, table_counts
from agent_tui.store import Store, open_store
from agent_tui.store.migrate import current_revision, head_revision, upgrade
from tests.conftest import ADMIN, World, migrated, new_pg_database, seed_world


def _fill(store: Store, n: int = 12) -> list[int]:
    """Tickets with replies, notes and updates, so every main table has rows."""
    ids = []
    for i in range(n):
        data = TicketCreate(subject=f"Order {i} [/] never arrived", body=f"Where is order {i}?",
                            customer_email=f"cust{i % 5}@example.org", customer_name=f"C {i}",
                            team="billing", tags=["late", f"t{i % 3}"])
        t = store.run_write(partial(tickets.create, actor=ADMIN, data=data))
        t = store.run_write(partial(tickets.reply, actor=ADMIN, ticket_id=t.id,
                                    body="On its way."))
        store.run_write(partial(tickets.update, actor=ADMIN, ticket_id=t.id,
                                changes_in=TicketUpdate(priority=Priority.HIGH),
                                expected_version=t.version))
        ids.append(t.id)
    return ids


def _counts(url: str) -> dict[str, int]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return table_counts(conn)
    finally:
        store.dispose()


def _subjects(url: str) -> dict[int, str]:
    store = open_store(url)
    try:
        with store.read() as s:
            return {t.id: t.subject for t in s.exec(select(Ticket)) if t.id is not None}
    finally:
        store.dispose()


def _last_event(url: str) -> Event:
    store = open_store(url)
    try:
        with store.read() as s:
            event = s.exec(select(Event).order_by(col(Event.seq).desc()).limit(1)).one()
            s.expunge(event)  # keep its loaded values past the read's rollback
            return event
    finally:
        store.dispose()


@pytest.fixture
def other_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second, empty location of the same dialect to restore into."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'store.db'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def third_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Yet another empty location of the same dialect."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'third' / 'store.db'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def filled(world: World) -> Iterator[Store]:
    _fill(world.store)
    yield world.store


def _suffix(store: Store) -> str:
    return ".db" if store.is_sqlite else ".dump"


def test_backup_restores_equal_counts_of_every_table(filled: Store, other_url: str,
                                                     tmp_path: Path) -> None:
    out = tmp_path / f"b{_suffix(filled)}"
    result = backup(filled, out)
    assert out.is_file() and result.bytes == out.stat().st_size > 0
    assert result.revision == head_revision() and result.tables["ticket"] == 12
    before = _counts(filled.url)
    # The backup counts what was copied; its own event came after.
    assert before == {**result.tables, "event": result.tables["event"] + 1}
    assert _last_event(filled.url).kind == "store.backed_up"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial left

    restored = restore(other_url, out, force=False)
    assert not restored.replaced and restored.revision == head_revision()
    after = _counts(other_url)
    assert after == restored.tables
    assert after == {**result.tables, "event": result.tables["event"] + 1}
    assert _subjects(other_url) == _subjects(filled.url)
    last = _last_event(other_url)
    assert last.kind == "store.restored" and last.actor == "system"
    assert json.loads(last.diff)["source"] == str(out)

    # The restored store is a working store: ids and event seqs carry on.
    store = open_store(other_url)
    try:
        t = store.run_write(lambda s: tickets.create(s, ADMIN, TicketCreate(
            subject="after restore", body="hi", customer_email="cust0@example.org")))
        assert t.id == max(_subjects(filled.url)) + 1
        assert _last_event(other_url).seq == (last.seq or 0) + 1
    finally:
        store.dispose()


def test_restore_refuses_a_store_with_data_unless_forced(filled: Store, other_url: str,
                                                         tmp_path: Path) -> None:
    out = tmp_path / f"b{_suffix(filled)}"
    backup(filled, out)
    target = migrated(other_url)
    try:
        seed_world(target)
        target.run_write(lambda s: tickets.create(s, ADMIN, TicketCreate(
            subject="keep me", body="precious", customer_email="keep@example.org")))
    finally:
        target.dispose()
    before = _counts(other_url)
    with pytest.raises(Invalid, match=r"holds 1 ticket, .*--force"):
        restore(other_url, out, force=False)
    assert _counts(other_url) == before
    assert "keep me" in _subjects(other_url).values()

    result = restore(other_url, out, force=True)
    assert result.replaced
    assert _subjects(other_url) == _subjects(filled.url)
    assert json.loads(_last_event(other_url).diff)["replaced"] is True


def test_restore_into_a_freshly_initialised_store_needs_no_force(
        filled: Store, other_url: str, third_url: str, tmp_path: Path) -> None:
    out = tmp_path / f"b{_suffix(filled)}"
    backup(filled, out)
    empty = migrated(other_url)
    try:
        # What `agent-tui init` leaves: the schema and its first admin.
        with empty.write() as s:
            agents.add_agent(s, ADMIN, login="root", name="Root", role=Role.ADMIN)
        with empty.engine.connect() as conn:
            assert not holds_data(table_counts(conn))
        with empty.write() as s:
            agents.add_team(s, ADMIN, name="configured")
        with empty.engine.connect() as conn:
            assert holds_data(table_counts(conn))  # a second thing set up is worth keeping
    finally:
        empty.dispose()
    with pytest.raises(Invalid, match="--force"):
        restore(other_url, out, force=False)
    result = restore(other_url, out, force=True)
    assert result.tables["ticket"] == 12 and result.replaced
    fresh = migrated(third_url)
    try:
        with fresh.write() as s:
            agents.add_agent(s, ADMIN, login="root", name="Root", role=Role.ADMIN)
    finally:
        fresh.dispose()
    result = restore(third_url, out, force=False)
    assert result.tables["ticket"] == 12 and not result.replaced


def _corruptions(good: bytes, dialect: str) -> dict[str, bytes]:
    mid = len(good) // 2
    cases = {
        "garbage": os.urandom(4096),
        "empty": b"",
        "truncated": good[:mid],
        "scrambled": good[:mid] + bytes(b ^ 0x5A for b in good[mid:mid + 8192])
        + good[mid + 8192:],
    }
    if dialect == "sqlite":
        cases["header only"] = good[:100] + bytes(4000)
    return cases


def test_a_damaged_backup_is_refused_and_the_target_untouched(filled: Store, other_url: str,
                                                              tmp_path: Path) -> None:
    out = tmp_path / f"b{_suffix(filled)}"
    backup(filled, out)
    target = migrated(other_url)
    try:
        seed_world(target)
    finally:
        target.dispose()
    before, subjects = _counts(other_url), _subjects(other_url)
    target_dir = Path(other_url.removeprefix("sqlite:///")).parent
    for name, content in _corruptions(out.read_bytes(), filled.dialect).items():
        bad = tmp_path / f"bad-{name.replace(' ', '-')}{_suffix(filled)}"
        bad.write_bytes(content)
        with pytest.raises(Invalid) as info:
            restore(other_url, bad, force=True)
        assert str(bad) in str(info.value), name
        assert re.search(r"damaged|not an Agent TUI backup|not a readable|could not be restored"
                         r"|integrity", str(info.value)), (name, str(info.value))
        assert _counts(other_url) == before, name
        assert _subjects(other_url) == subjects, name
        if filled.is_sqlite:
            assert sorted(p.name for p in target_dir.iterdir() if p.name.startswith(".")) == []


def test_a_backup_of_the_other_dialect_is_refused(filled: Store, tmp_path: Path) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"PGDMP\x01\x0e" if filled.is_sqlite else b"SQLite format 3\x00" + bytes(99))
    with pytest.raises(Invalid, match="backup and the store is"):
        restore(filled.url, other, force=True)


def test_a_backup_never_overwrites_a_file(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / f"b{_suffix(filled)}"
    out.write_text("an older backup")
    with pytest.raises(Invalid, match="already exists"):
        backup(filled, out)
    assert out.read_text() == "an older backup"
    with pytest.raises(Invalid, match="does not exist"):
        backup(filled, tmp_path / "no-such-dir" / "x.db")


def test_an_older_backup_is_upgraded_on_restore(store_url: str, other_url: str,
                                                tmp_path: Path) -> None:
    old = open_store(store_url)
    try:
        upgrade(old, "0001")
        # Rows as schema 0001 had them: today's models would write newer columns.
        with old.write() as s:
            s.execute(sa.text("INSERT INTO team (name, description, created_at) "
                              "VALUES ('billing', 'from 0001', CURRENT_TIMESTAMP)"))
        out = tmp_path / ("old.db" if old.is_sqlite else "old.dump")
        assert backup(old, out).revision == "0001"
    finally:
        old.dispose()
    result = restore(other_url, out, force=False)
    assert result.revision == "0001" and result.upgraded_to == head_revision()
    store = open_store(other_url)
    try:
        assert current_revision(store) == head_revision()
        with store.read() as s:
            assert s.execute(sa.text("SELECT name, description FROM team")).all() == [
                ("billing", "from 0001")]
    finally:
        store.dispose()


def test_sqlite_backup_reports_progress_and_replaces_an_unreadable_file_only_when_forced(
        sqlite_url: str, tmp_path: Path) -> None:
    source = migrated(sqlite_url)
    try:
        seed_world(source)
        _fill(source, 3)
        steps: list[tuple[int, int]] = []
        backup(source, tmp_path / "b.db", progress=lambda done, total: steps.append((done, total)))
    finally:
        source.dispose()
    assert steps and steps[-1][0] == steps[-1][1] > 0
    assert [d for d, _ in steps] == sorted(d for d, _ in steps)

    junk = tmp_path / "junk" / "store.db"
    junk.parent.mkdir()
    junk.write_bytes(b"somebody's spreadsheet, not a store" * 100)
    with pytest.raises(Invalid, match=r"not a readable store.*--force"):
        restore(f"sqlite:///{junk}", tmp_path / "b.db", force=False)
    assert junk.read_bytes().startswith(b"somebody's spreadsheet")
    result = restore(f"sqlite:///{junk}", tmp_path / "b.db", force=True)
    assert result.replaced and _counts(f"sqlite:///{junk}")["ticket"] == 3


def test_sqlite_restore_drops_the_old_wal(sqlite_url: str, tmp_path: Path) -> None:
    source = migrated(sqlite_url)
    seed_world(source)
    _fill(source, 3)
    out = tmp_path / "b.db"
    backup(source, out)
    source.dispose()

    target_path = tmp_path / "t" / "store.db"
    target = migrated(f"sqlite:///{target_path}")
    seed_world(target)
    with target.engine.connect() as conn:  # keep writes in the WAL, as a live store has them
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
    _fill(target, 5)
    wal = target_path.with_name("store.db-wal")
    assert wal.stat().st_size > 0
    restore(f"sqlite:///{target_path}", out, force=True)
    target.dispose()
    assert not wal.exists() or wal.stat().st_size == 0
    counts = _counts(f"sqlite:///{target_path}")
    assert counts["ticket"] == 3
    check = open_store(f"sqlite:///{target_path}")
    try:
        with check.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        check.dispose()


@pytest.mark.pg
def test_missing_pg_dump_is_one_clear_error(pg_url: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = migrated(pg_url)
    try:
        monkeypatch.setattr(backup_pg, "PG_BIN_GLOB", str(tmp_path / "nowhere" / "*"))
        monkeypatch.setenv("PATH", str(tmp_path))
        with pytest.raises(Unavailable, match=r"pg_dump not found.*postgresql-client"):
            backup(store, tmp_path / "x.dump")
        assert not list(tmp_path.glob("*.dump")) and not list(tmp_path.glob(".x.dump*"))
    finally:
        store.dispose()


# ---------------------------------------------------------------------- CLI


def _cli() -> tuple[CliRunner, object]:
    from agent_tui.cli import app

    return CliRunner(), app


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_cli_round_trip(filled: Store, other_url: str, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    runner, app = _cli()
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["backup", "--db", filled.url, "--json"])  # type: ignore[arg-type]
    assert res.exit_code == 0, res.output
    made = json.loads(res.stdout)
    path = Path(made["path"])
    assert path.parent == tmp_path
    assert re.fullmatch(r"agent-tui-backup-\d{8}-\d{6}\.(db|dump)", path.name)
    assert path.suffix == _suffix(filled) and made["tables"]["ticket"] == 12
    assert _last_event(filled.url).actor.startswith("cli:")

    res = runner.invoke(app, ["restore", str(path), "--db", other_url])  # type: ignore[arg-type]
    assert res.exit_code == 0, res.output
    assert "Restored" in res.stdout and "12 tickets" in res.stdout
    assert _subjects(other_url) == _subjects(filled.url)

    res = runner.invoke(app, ["restore", str(path), "--db", other_url])  # type: ignore[arg-type]
    assert res.exit_code == 1
    assert "--force" in _one_line(res.stderr)

    res = runner.invoke(app, ["restore", str(path), "--db", other_url, "--force",  # type: ignore[arg-type]
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["replaced"] is True

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a backup at all")
    res = runner.invoke(app, ["restore", str(garbage), "--db", other_url, "--force"])  # type: ignore[arg-type]
    assert res.exit_code == 1
    assert "not an Agent TUI backup" in _one_line(res.stderr)

    res = runner.invoke(app, ["backup", "--db", filled.url, "--out", str(path)])  # type: ignore[arg-type]
    assert res.exit_code == 1 and "already exists" in _one_line(res.stderr)

    res = runner.invoke(app, ["backup", "--db", filled.url, "-o", str(tmp_path / "p.bak")])  # type: ignore[arg-type]
    assert res.exit_code == 0, res.output
    assert "Backed up" in res.stdout and "schema" in res.stdout


def test_cli_backup_of_a_missing_sqlite_store_creates_nothing(tmp_path: Path) -> None:
    runner, app = _cli()
    missing = tmp_path / "typo.db"
    res = runner.invoke(app, ["backup", "--db", f"sqlite:///{missing}"])  # type: ignore[arg-type]
    assert res.exit_code == 3
    assert "no Agent TUI store" in _one_line(res.stderr)
    assert not missing.exists()
