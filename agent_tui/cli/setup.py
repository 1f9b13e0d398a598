"""CLI commands that set up and inspect a store: opening the app (no command),
``init``, ``demo`` and ``doctor``."""

from __future__ import annotations

import getpass
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from sqlalchemy.engine import make_url
from sqlmodel import select

from agent_tui.cli.common import (
    EXIT_ERROR,
    EXIT_NO_STORE,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    db_url,
    emit_json,
    fail,
    handle_errors,
    print_table,
    sqlite_missing,
    store_for,
)
from agent_tui.config import data_dir, default_db_url, load_settings
from agent_tui.domain.enums import Role
from agent_tui.domain.errors import BackendError
from agent_tui.domain.tables import Agent
from agent_tui.services import agents
from agent_tui.services.doctor import DoctorReport, display_url, gather
from agent_tui.store import Store, open_store
from agent_tui.store.migrate import upgrade

NO_AGENT_HINT = "run `agent-tui init --admin LOGIN` or `agent-tui demo`"
_NOT_LOGIN = re.compile(r"[^a-z0-9._-]+")


def say(text: str) -> None:
    """One message for people, never markup, never wrapped mid-line."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


# --- opening the app ---------------------------------------------------------


def _from_command_line(ctx: typer.Context | Any, name: str) -> bool:
    """Was option ``name`` typed (not taken from the environment or a default)?"""
    # By name: Typer vendors its own click, so the enum class is not click's.
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _launch(db: str, login: str) -> int:
    """Import the Textual app only now, so admin commands never load Textual."""
    try:
        from agent_tui.app import launch
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("agent_tui.app"):
            fail("this build has no terminal app (agent_tui.app is missing)", EXIT_ERROR)
        raise
    return int(launch(db_url=db, login=login))


def _login_for(db: str | None, login: str | None) -> str:
    """Check the store is ready for the app and pick the agent it opens as."""
    url = db_url(db)
    if sqlite_missing(url):
        fail(f"no Agent TUI store at {url}; {NO_AGENT_HINT}", EXIT_NO_STORE)
    with store_for(db) as store, store.read() as s:
        if login is None:
            login = agents.default_login(s)
            if login is None:
                fail(f"the store at {display_url(url)} has no agent; {NO_AGENT_HINT}",
                     EXIT_NO_STORE)
            return login
        agent = s.exec(select(Agent).where(Agent.login == login.strip().lower())).first()
        if agent is None:
            fail(f"no agent {login!r} in the store at {display_url(url)}; "
                 "see `agent-tui agent list`", EXIT_ERROR)
        if not agent.active:
            fail(f"agent {agent.login} is disabled; `agent-tui agent set {agent.login} "
                 "--enable` re-enables it", EXIT_ERROR)
        return agent.login


def root(
    ctx: typer.Context,
    db: DbOption = None,
    login: Annotated[str | None, typer.Option(
        "--as", help="Open the app as this agent (default: the store's first admin).",
        envvar="AGENT_TUI_LOGIN", show_envvar=True)] = None,
    server: Annotated[str | None, typer.Option(
        "--server", help="Open the app on a team server (agent-tui serve) instead of a store; "
        "the token comes from `agent-tui login`.",
        envvar="AGENT_TUI_SERVER", show_envvar=True)] = None,
) -> None:
    """With no command: open the terminal app on the store (or a team server)."""
    if ctx.invoked_subcommand is not None:
        if db is not None and _from_command_line(ctx, "db"):
            # `agent-tui --db URL agent list`: the subcommand's own --db reads this
            # variable; put it back when the command ends.
            previous = os.environ.get("AGENT_TUI_DB")
            os.environ["AGENT_TUI_DB"] = db

            def restore() -> None:
                if previous is None:
                    os.environ.pop("AGENT_TUI_DB", None)
                else:
                    os.environ["AGENT_TUI_DB"] = previous

            ctx.call_on_close(restore)
        return
    if server:
        raise typer.Exit(_launch_remote(server))
    who = _login_for(db, load_settings(login=login).login)
    raise typer.Exit(_launch(db_url(db), who))


def _launch_remote(server: str, *, start: str = "queue", read_only: bool = False) -> int:
    """The app on a RemoteBackend; the token from the env, the keyring or the 0600 file."""
    from agent_tui.credentials import CredentialError, load_token

    try:
        found = load_token(server)
    except CredentialError as exc:
        fail(str(exc), EXIT_ERROR)
    from agent_tui.app import launch_remote

    return int(launch_remote(server, found.token, start=start, read_only=read_only))


# --- init --------------------------------------------------------------------


def os_login() -> str:
    """The OS user name as a valid agent login, or ``admin``."""
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = ""
    login = _NOT_LOGIN.sub("-", user.strip().lower()).strip("._-")[:64]
    return login or "admin"


def _first_admin(store: Store, admin: str | None, name: str | None) -> None:
    with store.read() as s:
        admins = s.exec(select(Agent.login).where(Agent.role == Role.ADMIN.value,
                                                  Agent.active == True)).all()  # noqa: E712
        existing = (s.exec(select(Agent).where(Agent.login == admin.strip().lower())).first()
                    if admin else None)
    if admins:
        if admin and admin.strip().lower() not in admins:
            say(f"The store already has an admin ({', '.join(admins)}); add another "
                f"with `agent-tui agent add {admin} --role admin`")
        return
    if existing is not None:
        fail(f"{existing.login} exists with the {existing.role} role; make it an admin with "
             f"`agent-tui agent set {existing.login} --role admin --enable`", EXIT_ERROR)
    if admin is None:
        default = os_login()
        # Never wait for input that cannot come (pipes, CI, cron).
        admin = typer.prompt("Login of the first admin", default=default) \
            if sys.stdin.isatty() else default
    login = admin.strip().lower()
    view = store.run_write(lambda s: agents.add_agent(
        s, cli_actor(), login=login, name=name or login, role=Role.ADMIN))
    say(f"Created admin {view.login} ({view.name})")


@handle_errors
def init(
    admin: Annotated[str | None, typer.Option(
        "--admin", help="Login of the first admin (default: your OS user name).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The admin's display name.")] = None,
    db: DbOption = None,
) -> None:
    """Create the store, or upgrade it to this version's schema; add the first admin."""
    url = db_url(db)
    shown = display_url(url)
    with store_for(db, migrated=False) as store:
        result = upgrade(store)
        if result.created:
            say(f"Created store at {shown} (schema {result.after})")
        elif result.upgraded:
            say(f"Upgraded store at {shown} from schema {result.before} to "
                          f"{result.after}")
        else:
            say(f"Store at {shown} is up to date (schema {result.after})")
        _first_admin(store, admin, name)


# --- demo --------------------------------------------------------------------


def _sqlite_state(path: Path) -> str:
    """``missing``, ``empty``, ``agent-tui`` (has our schema) or ``foreign``."""
    if not path.exists() or path.stat().st_size == 0:
        return "missing"
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return "foreign"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except (OSError, sqlite3.DatabaseError):
        return "foreign"
    if not tables:
        return "empty"
    return "agent-tui" if "alembic_version" in tables else "foreign"


def _real_store_paths() -> set[Path]:
    """The SQLite files the real store lives in: the default and the configured one."""
    paths = set()
    for url in (default_db_url(), load_settings().db):
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            paths.add(Path(parsed.database).expanduser().resolve())
    return paths


def _prepare_demo_store(url: str, force: bool) -> None:
    """Refuse to overwrite a non-empty store unless --force (SQLite only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            fail("the demo needs a file: --db sqlite:///PATH", EXIT_USAGE)
        path = Path(parsed.database).expanduser()
        state = _sqlite_state(path)
        if state in ("missing", "empty"):
            return
        if state == "foreign":
            fail(f"{path} is not an Agent TUI store; refusing to touch it", EXIT_ERROR)
        if path.resolve() in _real_store_paths():
            fail(f"{path} is your real store, not a demo; choose another --db", EXIT_ERROR)
        if not force:
            fail(f"{path} already holds a store; pass --force to replace it with demo data",
                 EXIT_ERROR)
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
    finally:
        store.dispose()
    if tables:
        hint = ("drop and re-create it yourself (dropdb/createdb)" if force
                else "use an empty database")
        fail(f"the database at {display_url(url)} is not empty; the demo never drops a "
             f"PostgreSQL database: {hint}", EXIT_ERROR)


def _progress_bar() -> tuple[Any, Callable[[str, int, int], None]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=False)
    tasks: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    return bar, progress


def demo(
    ctx: typer.Context,
    tickets: Annotated[int, typer.Option("--tickets", help="How many tickets to generate.")
                       ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")] = 7,
    no_launch: Annotated[bool, typer.Option("--no-launch", help="Build only; do not open "
                                            "the app.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing demo store.")] = False,
    db: Annotated[str | None, typer.Option(
        "--db", help="Store URL (default: demo.db in the data dir; never $AGENT_TUI_DB).")] = None,
) -> None:
    """Build a demo store full of realistic tickets, then open the app on it."""
    parent = ctx.parent
    if db is None and parent is not None and _from_command_line(parent, "db"):
        db = parent.params.get("db")
    url = db or f"sqlite:///{data_dir() / 'demo.db'}"
    try:
        from agent_tui.services import demo as generator
        build_demo = generator.build_demo
    except (ImportError, AttributeError) as exc:
        fail(f"this build has no demo generator ({exc})", EXIT_ERROR)
    most = int(getattr(generator, "MAX_TICKETS", 20_000_000))
    if not 0 <= tickets <= most:
        fail(f"--tickets must be between 0 and {most:,}", EXIT_USAGE)
    _prepare_demo_store(url, force)

    store = open_store(url)
    try:
        upgrade(store)
        bar, progress = _progress_bar()
        try:
            with bar:
                summary = build_demo(store, tickets=tickets, seed=seed, progress=progress)
        except BackendError as exc:
            fail(str(exc), EXIT_ERROR)
        except Exception as exc:  # the store is half built: say how to start again
            fail(f"building the demo failed: {exc}; run again with --force", EXIT_ERROR)
    finally:
        store.dispose()
    seconds = max(float(summary.seconds), 1e-9)
    made = int(summary.counts.get("ticket", summary.counts.get("tickets", tickets)))
    rate = float(getattr(summary, "tickets_per_second", made / seconds))
    print_table("Demo store", ["table", "rows"],
                [[k, f"{v:,}"] for k, v in summary.counts.items()])
    say(f"Built {display_url(url)} in {summary.seconds:.1f} s ({rate:,.0f} tickets/s); "
        f"opens as {summary.default_login}")
    if no_launch:
        say(f"Open it with: agent-tui --db {url} --as {summary.default_login}")
        return
    raise typer.Exit(_launch(url, summary.default_login))


# --- doctor ------------------------------------------------------------------


def _human(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(n)


def _print_report(r: DoctorReport) -> None:
    schema = r.schema_current or "none"
    state = f"needs upgrade to {r.schema_head}: run `agent-tui init`" if r.needs_upgrade \
        else "up to date"
    rows: list[list[Any]] = [["store", r.url], ["dialect", f"{r.dialect} ({r.server_version})"],
                             ["schema", f"{schema} ({state})"]]
    if r.sqlite_file is not None:
        rows += [["file", f"{r.sqlite_file} ({_human(r.sqlite_file_bytes)})"],
                 ["wal", _human(r.sqlite_wal_bytes)]]
    else:
        rows.append(["database size", _human(r.database_bytes)])
    rows += [[f"pragma {k}", v] for k, v in r.pragmas.items()]
    cred = r.credentials.backend + ("" if r.credentials.usable else " (unusable)")
    rows.append(["credential store", cred])
    if r.credentials.fallback:
        rows.append(["token fallback", r.credentials.fallback])
    print_table("Agent TUI doctor", ["check", "value"], rows)
    print_table("Rows", ["table", "rows"], [[t, f"{n:,}"] for t, n in r.counts.items()])


def _doctor_server(server: str, as_json: bool) -> None:
    from agent_tui.services.doctor import check_server

    r = check_server(server)
    if as_json:
        emit_json(r)
    else:
        cred = r.credentials.backend + ("" if r.credentials.usable else " (unusable)")
        rows: list[list[Any]] = [
            ["server", r.url],
            ["reachable", "yes" if r.reachable else f"no: {r.error}"],
            ["server version", r.version or "-"], ["status", r.status or "-"],
            ["database", r.dialect or "-"], ["credential store", cred],
            ["token from", r.token_source or "-"],
            ["signed in as", f"{r.signed_in_as} ({r.role})" if r.signed_in_as
             else (r.token_problem or "-")]]
        if r.credentials.fallback:
            rows.append(["token fallback", r.credentials.fallback])
        print_table("Agent TUI doctor", ["check", "value"], rows)
    if not r.reachable:
        raise typer.Exit(EXIT_UNAVAILABLE)
    if r.signed_in_as is None:
        raise typer.Exit(EXIT_ERROR)


@handle_errors
def doctor(db: DbOption = None, as_json: JsonOption = False,
           server: Annotated[str | None, typer.Option(
               "--server", help="Check a team server instead: reachability, version, token.")
           ] = None) -> None:
    """Which store is in use, its schema, size, row counts, pragmas and credential store."""
    if server:
        _doctor_server(server, as_json)
        return
    url = db_url(db)
    if sqlite_missing(url):
        fail(f"no Agent TUI store at {url}; run `agent-tui init` first", EXIT_NO_STORE)
    with store_for(db, migrated=False) as store:
        report = gather(store)
    if report.schema_current is None:
        fail(f"no Agent TUI store at {report.url}; run `agent-tui init` first", EXIT_NO_STORE)
    if as_json:
        emit_json(report)
    else:
        _print_report(report)


def register(app: typer.Typer) -> None:
    """Add the root callback (open the app) and ``init``, ``demo``, ``doctor``."""
    app.callback(invoke_without_command=True)(root)
    app.command("init")(init)
    app.command("demo")(handle_errors(demo))
    app.command("doctor")(doctor)
