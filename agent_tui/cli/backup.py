"""CLI commands: ``backup`` and ``restore`` of the whole store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from sqlalchemy.engine import make_url

from agent_tui.cli.common import (
    EXIT_NO_STORE,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    db_url,
    emit_json,
    err_console,
    fail,
    handle_errors,
    store_for,
)
from agent_tui.services import backup as backup_svc
from agent_tui.store.migrate import current_revision

OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", dir_okay=False,
                 help="Backup file to write (must not exist). Default: "
                      "agent-tui-backup-YYYYmmdd-HHMMSS.db (.dump for PostgreSQL) here."),
]
FileArgument = Annotated[
    Path, typer.Argument(help="A file written by `agent-tui backup`.", dir_okay=False),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace a store that already holds data."),
]


def default_backup_name(dialect: str, now: datetime | None = None) -> str:
    """``agent-tui-backup-YYYYmmdd-HHMMSS.db`` (or ``.dump`` for PostgreSQL), local time."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"agent-tui-backup-{stamp}.{'db' if dialect == 'sqlite' else 'dump'}"


def _checked_url(db: str | None) -> str:
    """The store URL, refusing early a SQLite path with no file (opening it would create one)."""
    url = db_url(db)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        fail(f"not a database URL: {url!r}; use sqlite:///PATH or postgresql://…", EXIT_USAGE)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "").expanduser()
        if not path.is_file():
            fail(f"no Agent TUI store at {path}; check --db or run `agent-tui init`",
                 EXIT_NO_STORE)
    return url


@contextmanager
def _progress(enabled: bool, label: str, *, bar: bool) -> Iterator[backup_svc.ProgressFn | None]:
    """A Rich progress display on stderr for people; nothing for --json or when piped."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if bar:
        columns += [BarColumn(), TaskProgressColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def _counts_line(tables: dict[str, int]) -> str:
    wanted = ("ticket", "message", "customer", "agent", "knowledge_article", "event")
    return ", ".join(f"{tables[t]:,} {t.replace('_', ' ')}s" for t in wanted
                     if tables.get(t) or t == "ticket")


@handle_errors
def backup_cmd(out: OutOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Write a verified backup of the store (safe while agents keep working)."""
    url = _checked_url(db)
    with store_for(url, migrated=False) as store:
        if current_revision(store) is None:
            fail(f"no Agent TUI store at {backup_svc.safe_url(url)}; check --db or run "
                 "`agent-tui init`", EXIT_NO_STORE)
        target = out if out is not None else Path.cwd() / default_backup_name(store.dialect)
        with _progress(not as_json, f"Backing up to {target.name}",
                       bar=store.is_sqlite) as update:
            result = backup_svc.backup(store, target, actor=cli_actor(), progress=update)
    if as_json:
        emit_json(result)
        return
    console.print(Text(f"Backed up the {result.dialect} store to {result.path}"), soft_wrap=True)
    console.print(Text(f"  {_size(result.bytes)}, schema {result.revision}, "
                       f"{_counts_line(result.tables)}; verified in {result.seconds:.2f} s"),
                  soft_wrap=True)


@handle_errors
def restore_cmd(file: FileArgument, db: DbOption = None, force: ForceOption = False,
                as_json: JsonOption = False) -> None:
    """Replace the store with a backup. Stop every app and server using the store first."""
    url = db_url(db)
    try:
        make_url(url)
    except sa.exc.ArgumentError:
        fail(f"not a database URL: {url!r}; use sqlite:///PATH or postgresql://…", EXIT_USAGE)
    with _progress(not as_json, f"Restoring {file.name}", bar=False):
        result = backup_svc.restore(url, file, force=force, actor=cli_actor())
    if as_json:
        emit_json(result)
        return
    console.print(Text(f"Restored {result.source} into {result.target}"), soft_wrap=True)
    detail = f"  schema {result.revision}"
    if result.upgraded_to:
        detail += f" (upgraded to {result.upgraded_to})"
    detail += f", {_counts_line(result.tables)} in {result.seconds:.2f} s"
    if result.replaced:
        detail += "; the previous content was replaced"
    console.print(Text(detail), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to ``app``."""
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
