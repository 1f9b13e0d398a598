"""PostgreSQL backups and restores with ``pg_dump``/``pg_restore`` (see ``backup``).

Split from :mod:`agent_tui.services.backup`, which imports it only when a
PostgreSQL store is involved.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from agent_tui.domain.errors import Invalid, NotFound, Unavailable
from agent_tui.services.backup import (
    RestoreResult,
    check_revision,
    describe_counts,
    fsync_path,
    holds_data,
    restored_extra,
    safe_url,
    store_event,
    table_counts,
    table_names,
    temp_beside,
    upgrade_if_old,
)
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def find_pg_tool(name: str) -> Path:
    """The newest ``pg_dump``/``pg_restore`` (a newer one reads older servers)."""
    dirs = sorted(glob.glob(PG_BIN_GLOB), key=_pg_dir_version, reverse=True)
    for d in dirs:
        candidate = Path(d) / name
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise Unavailable(f"{name} not found on PATH or in {PG_BIN_GLOB}: install the PostgreSQL "
                      "client tools (apt-get install postgresql-client)")


def _pg_dir_version(d: str) -> float:
    try:
        return float(Path(d).parent.name)
    except ValueError:
        return 0.0


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL and environment for the PG tools; the password goes in the env, not argv."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def _run_pg(args: list[str], env: dict[str, str], what: str) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        detail = lines[0] if lines else f"exit code {proc.returncode}"
        raise Unavailable(f"{what} failed: {detail}")
    return proc.stdout


def dump(store: Store, out: Path) -> tuple[str, dict[str, int]]:
    """``pg_dump`` the store to ``out``; its schema revision and the dumped row counts."""
    pg_dump = find_pg_tool("pg_dump")
    pg_restore = find_pg_tool("pg_restore")
    url, env = _libpq(store.url)
    with temp_beside(out, "partial") as tmp:
        conn = store.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        try:
            with conn.begin():
                revision = conn.exec_driver_sql(
                    "SELECT version_num FROM alembic_version").scalar() \
                    if "alembic_version" in table_names(conn) else None
                if revision is None:
                    raise NotFound("store", safe_url(store.url))
                # pg_dump reads the very snapshot these counts come from.
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
                counts = table_counts(conn)
                _run_pg([str(pg_dump), "--format=custom", f"--snapshot={snapshot}",
                         f"--file={tmp}", f"--dbname={url}"], env, "pg_dump")
        finally:
            conn.close()
        toc = _run_pg([str(pg_restore), "--list", str(tmp)], env, "reading the new archive")
        missing = [t for t in counts if f"TABLE DATA public {t} " not in toc
                   and f"TABLE DATA {t} " not in toc]
        if missing:
            raise Unavailable(f"the archive lacks the data of {', '.join(missing)}")
        fsync_path(tmp)
        if out.exists():
            raise Invalid("out", f"{out} appeared while the backup ran; nothing was replaced")
        os.replace(tmp, out)
    return str(revision), counts


def _archive_revision(src: Path, env: dict[str, str]) -> str:
    """Check that ``src`` is a readable archive and read its alembic revision."""
    pg_restore = find_pg_tool("pg_restore")
    try:
        toc = _run_pg([str(pg_restore), "--list", str(src)], env, "reading the archive")
    except Unavailable as exc:
        raise Invalid("file", f"{src} is not a readable pg_dump archive: {exc}") from exc
    if "alembic_version" not in toc:
        return check_revision(None, src)
    sql = _run_pg([str(pg_restore), "--data-only", "--table=alembic_version", "--file=-",
                   str(src)], env, "reading the archive")
    lines = sql.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return check_revision(value if value and value != "\\." else None, src)
    return check_revision(None, src)


def restore_archive(url: str, src: Path, *, force: bool, actor: Actor) -> RestoreResult:
    """``pg_restore`` the archive ``src`` into the database at ``url``, in one transaction."""
    libpq_url, env = _libpq(url)
    revision = _archive_revision(src, env)
    pg_restore = find_pg_tool("pg_restore")
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            existing = table_counts(conn)
        replaced = holds_data(existing)
        if replaced and not force:
            raise Invalid("db", f"the store at {safe_url(url)} holds {describe_counts(existing)}; "
                                "pass --force to replace it with the backup")
        store.engine.dispose()  # our idle connections must not sit in pg_restore's way
        # One transaction: a failure part-way leaves the target exactly as it was.
        try:
            _run_pg([str(pg_restore), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                     "--single-transaction", "--exit-on-error", f"--dbname={libpq_url}",
                     str(src)], env, "pg_restore")
        except Unavailable as exc:
            # The archive's table of contents read fine, so this is almost always a
            # damaged data section; either way the transaction left the store as it was.
            raise Invalid("file", f"{src} could not be restored, the store is unchanged: "
                                  f"{exc}") from exc
        upgraded = upgrade_if_old(store, revision)
        with store.engine.connect() as conn:
            counts = table_counts(conn)
        store_event(store, actor, "store.restored",
                    restored_extra(src, revision, upgraded, replaced, counts))
        counts["event"] = counts.get("event", 0) + 1
    finally:
        store.dispose()
    return RestoreResult(target=safe_url(url), source=src, dialect="postgresql",
                         revision=revision, upgraded_to=upgraded, replaced=replaced,
                         tables=counts, seconds=0.0)
