"""Shared plumbing for the admin CLI: options, opening the store, output, errors."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from agent_tui.config import load_settings
from agent_tui.domain.enums import Source
from agent_tui.domain.errors import BackendError
from agent_tui.store import Store, open_store
from agent_tui.store.events import Actor
from agent_tui.store.migrate import current_revision, head_revision

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes that mean something to scripts.
EXIT_ERROR = 1  # the operation failed (bad input, refused, conflict)
EXIT_USAGE = 2  # Typer/Click usage errors
EXIT_NO_STORE = 3  # no store, or its schema needs `agent-tui init`
EXIT_UNAVAILABLE = 4  # the database could not be reached

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Store URL: sqlite:///PATH or postgresql://USER@HOST:PORT/DB.",
                 envvar="AGENT_TUI_DB", show_envvar=True),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

CONTEXT = {"help_option_names": ["-h", "--help"]}

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """One line on stderr that says what went wrong and what to do; then exit."""
    # Driver messages (psycopg) carry newlines and indentation: keep it to one line.
    message = " ".join(message.split())
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def db_url(db: str | None) -> str:
    return load_settings(db=db).db


def cli_actor() -> Actor:
    """The CLI acts as an administrator; events name the OS user who ran it."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return Actor.system(Source.CLI, login=f"cli:{user}")


def sqlite_missing(url: str) -> bool:
    """True for a sqlite:/// URL whose file does not exist."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # open_store reports a malformed URL
        return False
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    path = Path(parsed.database).expanduser()
    return not path.exists()


@contextmanager
def store_for(db: str | None, *, migrated: bool = True) -> Iterator[Store]:
    """Open the store for a command; refuse one whose schema is missing or old."""
    url = db_url(db)
    if migrated and sqlite_missing(url):
        # Opening would create an empty file (and its folder) as a side effect.
        fail(f"no Agent TUI store at {url}; run `agent-tui init` first", EXIT_NO_STORE)
    try:
        store = open_store(url)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        if migrated:
            rev = current_revision(store)
            if rev is None:
                fail(f"no Agent TUI store at {url}; run `agent-tui init` first", EXIT_NO_STORE)
            if rev != head_revision():
                fail(f"the store at {url} has schema {rev}, this version needs "
                     f"{head_revision()}; run `agent-tui init` to upgrade it", EXIT_NO_STORE)
        yield store
    except OperationalError as exc:
        fail(f"cannot use the database at {url}: {exc.orig or exc}", EXIT_UNAVAILABLE)
    finally:
        store.dispose()


def handle_errors(fn: F) -> F:
    """Turn contract errors into one-line messages with a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BackendError as exc:
            fail(str(exc), EXIT_ERROR)
        except OperationalError as exc:
            fail(f"database error: {exc.orig or exc}", EXIT_UNAVAILABLE)
        except (OSError, ValueError) as exc:
            fail(str(exc), EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_jsonable(value), ensure_ascii=False, default=str, indent=2) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A Rich table for people. Cells are plain strings, never markup."""
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    console.print(table)
