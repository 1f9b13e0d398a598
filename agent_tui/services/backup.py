"""Backups and restores of the whole store (ARCHITECTURE §9).

SQLite is copied with the online backup API from one read snapshot, a few
MiB per step: in WAL mode that snapshot never blocks writers, and holding it
across steps means other processes' commits cannot force the copy to
restart. The copy is checked with ``PRAGMA integrity_check`` before it gets
its final name. PostgreSQL uses ``pg_dump --format=custom`` on a snapshot
exported from the transaction that counts the rows, so the counts describe
exactly what was dumped.

A restore validates the backup before touching the target, refuses to
replace a store that holds data unless forced, and is all-or-nothing: SQLite
is rebuilt in a temporary file beside the target and renamed over it;
PostgreSQL is restored by ``pg_restore --single-transaction``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Invalid, NotFound, Unavailable
from agent_tui.services.perms import require
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor, append_event
from agent_tui.store.migrate import MIGRATIONS, current_revision, head_revision, upgrade

#: Called with (pages done, pages in all) while a SQLite backup runs.
ProgressFn = Callable[[int, int], None]

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PAGES_PER_STEP = 1024  # 4 MiB at the default page size
STEP_PAUSE = 0.001  # seconds between steps: lets other processes at the CPU and the disk
#: Tables whose rows do not make a store "hold data": bookkeeping, not work.
BOOKKEEPING = frozenset({"alembic_version", "audit_guard", "event", "presence"})


class BackupResult(BaseModel):
    """What a backup wrote, verified by reading it back."""

    path: Path
    dialect: str
    bytes: int
    revision: str
    tables: dict[str, int]
    seconds: float


class RestoreResult(BaseModel):
    """What a restore put in place, counted in the restored store."""

    target: str
    source: Path
    dialect: str
    revision: str  # the backup's schema
    upgraded_to: str | None  # set when the backup was older and was brought to head
    replaced: bool  # the target held data that is now gone
    tables: dict[str, int]
    seconds: float


# ------------------------------------------------------------------ helpers


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and events."""
    return make_url(url).render_as_string(hide_password=True)


def _known_revisions() -> set[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}


def check_revision(revision: str | None, src: Path) -> str:
    """The backup's schema revision if this version can restore it, else Invalid."""
    if revision is None:
        raise Invalid("file", f"{src} has no schema version: not an Agent TUI backup")
    if revision not in _known_revisions():
        raise Invalid("file", f"{src} has schema {revision}, which this version does not "
                              f"know (newest is {head_revision()}); upgrade agent-tui first")
    return revision


def backup_kind(src: Path) -> str:
    """``"sqlite"`` or ``"postgresql"`` from the file's magic bytes, else Invalid."""
    if not src.is_file():
        raise Invalid("file", f"{src} does not exist or is not a file")
    with src.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise Invalid("file", f"{src} is not an Agent TUI backup "
                          "(neither a SQLite database nor a pg_dump custom archive)")


def table_names(conn: sa.Connection) -> list[str]:
    """Ordinary tables of the store, read from the database rather than our models."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("PRAGMA main.table_list").all()
        return sorted(r[1] for r in rows if r[2] == "table" and not r[1].startswith("sqlite_"))
    return sorted(conn.exec_driver_sql(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'").scalars())


def table_counts(conn: sa.Connection) -> dict[str, int]:
    """Rows in every ordinary table (FTS shadow tables and the like excluded)."""
    prep = conn.dialect.identifier_preparer
    return {name: int(conn.exec_driver_sql(f"SELECT count(*) FROM {prep.quote(name)}").scalar()
                      or 0) for name in table_names(conn)}


def _sqlite_counts(path: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return table_counts(conn)
    finally:
        engine.dispose()


def holds_data(counts: dict[str, int]) -> bool:
    """True when a store has anything beyond schema bookkeeping and the log.

    ``agent-tui init`` leaves exactly one admin behind; a store with nothing
    else is still empty, so restoring into a freshly set-up machine needs no
    ``--force``.
    """
    worth = {name: n for name, n in counts.items() if n and name not in BOOKKEEPING}
    return bool(worth) and worth != {"agent": 1}


def describe_counts(counts: dict[str, int]) -> str:
    """``"12 tickets, 3 customers"``: what a refusal to overwrite protects."""
    parts = [f"{counts[t]} {t}{'s' if counts[t] != 1 else ''}"
             for t in ("ticket", "customer", "agent") if counts.get(t)]
    return ", ".join(parts) or "data"


def fsync_path(path: Path) -> None:
    """Flush a file (or a directory, after a rename) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths: Path) -> None:
    for p in paths:
        with suppress(FileNotFoundError):
            p.unlink()


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]


@contextmanager
def temp_beside(target: Path, tag: str) -> Iterator[Path]:
    """A temporary file in the target's directory (so a rename is atomic), removed on error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".{tag}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    except BaseException:
        _remove(tmp, *_sidecars(tmp))
        raise


def _sqlite_file_revision(path: Path, label: Path) -> str | None:
    """Integrity-check a SQLite file and return its schema revision, if it has one."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                raise Invalid("file", f"{label} failed its integrity check: {problems[0]}")
            has_version = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                       "AND name = 'alembic_version'").fetchone()
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone() \
                if has_version else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise Invalid("file", f"{label} is damaged: {exc}") from exc
    return str(row[0]) if row else None


def store_event(store: Store, actor: Actor, kind: str, extra: dict[str, Any]) -> None:
    """Append one ``store.*`` event in its own write transaction."""
    store.run_write(lambda s: append_event(s, actor, kind=kind, entity="store", entity_id=None,
                                           extra=extra))


# ------------------------------------------------------------------ backup


def backup(store: Store, out: Path, *, actor: Actor | None = None,
           progress: ProgressFn | None = None) -> BackupResult:
    """Write a verified backup of ``store`` to ``out`` (which must not exist yet).

    SQLite gives a single self-contained database file; PostgreSQL a
    ``pg_dump`` custom archive. A ``store.backed_up`` event is appended to
    the store once the file is in place.
    """
    actor = actor or Actor.system()
    require(actor, Role.ADMIN, "a backup")
    out = out.expanduser().absolute()
    if out.exists():
        raise Invalid("out", f"{out} already exists; choose another name or move it away")
    if not out.parent.is_dir():
        raise Invalid("out", f"the folder {out.parent} does not exist")
    started = time.monotonic()
    if store.is_sqlite:
        revision, counts = _sqlite_backup(store, out, progress)
    elif store.dialect == "postgresql":
        from agent_tui.services import backup_pg  # the PG tools only when needed

        revision, counts = backup_pg.dump(store, out)
    else:
        raise Invalid("db", f"backups of {store.dialect} stores are not supported")
    result = BackupResult(path=out, dialect=store.dialect, bytes=out.stat().st_size,
                          revision=revision, tables=counts,
                          seconds=round(time.monotonic() - started, 3))
    store_event(store, actor, "store.backed_up",
                {"path": str(out), "bytes": result.bytes, "revision": revision,
                 "tickets": counts.get("ticket", 0), "seconds": result.seconds})
    return result


def _sqlite_backup(store: Store, out: Path,
                   progress: ProgressFn | None) -> tuple[str, dict[str, int]]:
    path = store.sqlite_path
    if path is None:
        raise Invalid("db", "an in-memory store cannot be backed up")
    if not path.is_file():
        raise NotFound("store", safe_url(store.url))
    if current_revision(store) is None:
        raise NotFound("store", safe_url(store.url))

    def step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)
        time.sleep(STEP_PAUSE)

    with temp_beside(out, "partial") as tmp:
        raw = store.engine.raw_connection()
        try:
            src = raw.driver_connection
            assert isinstance(src, sqlite3.Connection)
            # One read snapshot for every step: consistent, and never restarted by writers.
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(dst, pages=PAGES_PER_STEP, progress=step)
                # A backup is one self-contained file: no -wal beside it.
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
                src.execute("ROLLBACK")
        finally:
            raw.close()
        try:
            revision = _sqlite_file_revision(tmp, out)
        except Invalid as exc:
            raise Unavailable(f"the backup did not verify ({exc.message}); the store may be "
                              "damaged: keep earlier backups and check it") from exc
        if revision is None:
            raise Unavailable("the backup has no schema version; is the store being re-created?")
        counts = _sqlite_counts(tmp)
        fsync_path(tmp)
        if out.exists():
            raise Invalid("out", f"{out} appeared while the backup ran; nothing was replaced")
        os.replace(tmp, out)
    fsync_path(out.parent)
    return revision, counts


# ------------------------------------------------------------------ restore


def restore(store_url: str, src: Path, *, force: bool, actor: Actor | None = None) -> RestoreResult:
    """Replace the store at ``store_url`` with the backup ``src``.

    The backup is checked before anything is touched; a store that holds
    data is only replaced with ``force``. A ``store.restored`` event is
    appended to the restored store.
    """
    actor = actor or Actor.system()
    require(actor, Role.ADMIN, "a restore")
    src = src.expanduser().absolute()
    kind = backup_kind(src)
    dialect = make_url(store_url).get_backend_name()
    if kind != dialect:
        raise Invalid("file", f"{src} is a {kind} backup and the store is {dialect}: restore it "
                              f"into a {kind} store, or use export/import to move between them")
    started = time.monotonic()
    if dialect == "sqlite":
        result = _sqlite_restore(store_url, src, force=force, actor=actor)
    else:
        from agent_tui.services import backup_pg

        result = backup_pg.restore_archive(store_url, src, force=force, actor=actor)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def restored_extra(src: Path, revision: str, upgraded: str | None, replaced: bool,
                   counts: dict[str, int]) -> dict[str, Any]:
    """What a ``store.restored`` event records."""
    return {"source": str(src), "revision": revision, "upgraded_to": upgraded,
            "replaced": replaced, "tickets": counts.get("ticket", 0)}


def _sqlite_restore(url: str, src: Path, *, force: bool, actor: Actor) -> RestoreResult:
    db = make_url(url).database
    if not db or db == ":memory:":
        raise Invalid("db", "restore needs a SQLite file, not an in-memory store")
    target = Path(db).expanduser().absolute()
    replaced = False
    if target.is_file() and target.stat().st_size > 0:
        try:
            existing = _sqlite_counts(target)
        except sa.exc.DatabaseError as exc:
            if not force:
                raise Invalid("db", f"{target} is not a readable store ({exc.orig}); "
                                    "pass --force to replace it") from exc
            existing = {"unreadable": 1}
        if holds_data(existing):
            if not force:
                raise Invalid("db", f"the store at {target} holds {describe_counts(existing)}; "
                                    "pass --force to replace it with the backup")
            replaced = True
    with temp_beside(target, "restore") as tmp:
        shutil.copyfile(src, tmp)
        revision = check_revision(_sqlite_file_revision(tmp, src), src)
        store = open_store(f"sqlite:///{tmp}")
        try:
            upgraded = upgrade_if_old(store, revision)
            with store.engine.connect() as conn:
                counts = table_counts(conn)
            store_event(store, actor, "store.restored",
                        restored_extra(src, revision, upgraded, replaced, counts))
            counts["event"] = counts.get("event", 0) + 1
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            store.dispose()
        _remove(*_sidecars(tmp))  # empty after the checkpoint; must not follow the rename
        fsync_path(tmp)
        _swap_in(tmp, target)
    return RestoreResult(target=str(target), source=src, dialect="sqlite", revision=revision,
                         upgraded_to=upgraded, replaced=replaced, tables=counts, seconds=0.0)


def upgrade_if_old(store: Store, revision: str) -> str | None:
    """Bring a restored older backup to this version's schema; the new head, or None."""
    if revision == head_revision():
        return None
    try:
        return upgrade(store).after
    except CommandError as exc:
        raise Invalid("file", f"the backup's schema {revision} cannot be upgraded: {exc}") from exc


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target`` without letting the old WAL touch the new file."""
    if target.is_file():
        # Fold the old WAL into the old file first, so that removing it loses nothing
        # even if we stop right here.
        with suppress(sqlite3.DatabaseError):
            conn = sqlite3.connect(target, isolation_level=None, timeout=30)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                conn.close()
    _remove(*_sidecars(target))
    with suppress(OSError):  # keep whoever could open the old store able to open the new one
        os.chmod(tmp, target.stat().st_mode & 0o777)
    os.replace(tmp, target)
    fsync_path(target.parent)
