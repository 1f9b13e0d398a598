"""``agent-tui doctor``: what store is in use and how healthy it looks.

Gathering lives here and returns a pydantic model; the CLI only prints it.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from agent_tui.config import config_dir
from agent_tui.store import Store
from agent_tui.store.migrate import current_revision, head_revision

#: Tables whose sizes say most about a store, in the order they are shown.
MAIN_TABLES = ("agent", "team", "customer", "identity", "ticket", "message",
               "knowledge_article", "customer_order", "rating", "macro", "api_token", "event")
SQLITE_PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
TOKEN_ENV = "AGENT_TUI_TOKEN"
TOKEN_FILE_NAME = "token"


class CredentialStore(BaseModel):
    """Where a team-mode client keeps its API token."""

    backend: str
    usable: bool
    fallback: str | None = None
    token_env_set: bool = False
    token_file: str
    token_file_exists: bool = False


class DoctorReport(BaseModel):
    """Everything ``agent-tui doctor`` reports."""

    url: str
    dialect: str
    server_version: str | None = None
    schema_current: str | None = None
    schema_head: str
    needs_upgrade: bool
    database_bytes: int | None = None
    sqlite_file: str | None = None
    sqlite_file_bytes: int | None = None
    sqlite_wal_bytes: int | None = None
    counts: dict[str, int] = {}
    pragmas: dict[str, str | int] = {}
    credentials: CredentialStore


def display_url(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL is shown as given
        return url


def credential_store() -> CredentialStore:
    """The keyring backend in use, and the fallback when it cannot hold secrets."""
    import keyring
    from keyring.backends import fail, null

    ring = keyring.get_keyring()
    name = f"{type(ring).__module__}.{type(ring).__qualname__}"
    usable = not isinstance(ring, fail.Keyring | null.Keyring)
    token_file = config_dir() / TOKEN_FILE_NAME
    fallback = None
    if not usable:
        fallback = (f"no keyring backend: the token comes from the {TOKEN_ENV} environment "
                    f"variable, or a 0600 file at {token_file}")
    return CredentialStore(backend=name, usable=usable, fallback=fallback,
                           token_env_set=bool(os.environ.get(TOKEN_ENV)),
                           token_file=str(token_file), token_file_exists=token_file.is_file())


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def gather(store: Store) -> DoctorReport:
    """Inspect ``store``; works on stores of any schema version, including old ones."""
    current = current_revision(store)
    head = head_revision()
    report = DoctorReport(url=display_url(store.url), dialect=store.dialect,
                          schema_current=current, schema_head=head,
                          needs_upgrade=current != head, credentials=credential_store())
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        report.counts = {
            t: int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one())
            for t in MAIN_TABLES if t in tables
        }
        if store.is_sqlite:
            report.server_version = "SQLite " + str(
                conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())
            report.pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar_one()
                              for p in SQLITE_PRAGMAS}
        else:
            report.server_version = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
            report.database_bytes = int(conn.exec_driver_sql(
                "SELECT pg_database_size(current_database())").scalar_one())
    path = store.sqlite_path
    if path is not None:
        report.sqlite_file = str(path)
        report.sqlite_file_bytes = _size(path)
        report.sqlite_wal_bytes = _size(path.with_name(path.name + "-wal")) or 0
        report.database_bytes = (report.sqlite_file_bytes or 0) + report.sqlite_wal_bytes
    return report


class ServerReport(BaseModel):
    """What ``agent-tui doctor --server URL`` reports about a team server."""

    url: str
    reachable: bool
    error: str | None = None
    status: str | None = None
    version: str | None = None
    dialect: str | None = None
    token_source: str | None = None  # "env", "keyring" or the token file
    token_problem: str | None = None
    signed_in_as: str | None = None
    role: str | None = None
    credentials: CredentialStore


def check_server(url: str, *, timeout: float = 5.0) -> ServerReport:
    """Reach ``url``'s health endpoint, then try the stored token on ``/api/v1/me``."""
    import httpx

    from agent_tui.credentials import CredentialError, load_token

    base = url.rstrip("/")
    report = ServerReport(url=base, reachable=False, credentials=credential_store())
    try:
        health = httpx.get(base + "/api/v1/health", timeout=timeout)
        data = health.json()
    except (httpx.HTTPError, ValueError) as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        return report
    report.reachable = True
    report.status = str(data.get("status"))
    report.version = data.get("version")
    report.dialect = data.get("dialect")
    try:
        found = load_token(base)
    except CredentialError as exc:
        report.token_problem = str(exc)
        return report
    report.token_source = found.source
    try:
        me = httpx.get(base + "/api/v1/me", timeout=timeout,
                       headers={"authorization": f"Bearer {found.token}"})
    except httpx.HTTPError as exc:
        report.token_problem = f"{type(exc).__name__}: {exc}"
        return report
    if me.status_code == 200:
        report.signed_in_as, report.role = me.json().get("login"), me.json().get("role")
    else:
        report.token_problem = f"the server refused the token ({me.status_code})"
    return report
