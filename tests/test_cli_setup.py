"""``agent-tui`` with no command, ``init``, ``demo`` and ``doctor`` through CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select
from typer.testing import CliRunner, Result

from agent_tui.cli import app
from agent_tui.config import data_dir
from agent_tui.domain.enums import Role
from agent_tui.domain.tables import Agent, Event
from agent_tui.services import agents
from agent_tui.store import Store, open_store
from agent_tui.store.migrate import head_revision, upgrade
from tests.conftest import ADMIN, migrated

AGENT_TUI = Path(sys.executable).with_name("agent-tui")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def _agents(url: str) -> list[tuple[str, str]]:
    store = open_store(url)
    try:
        with store.read() as s:
            return [(a.login, a.role) for a in s.exec(select(Agent).order_by(Agent.id))]
    finally:
        store.dispose()


def _event_count(url: str) -> int:
    store = open_store(url)
    try:
        with store.read() as s:
            return int(s.exec(select(sa.func.count()).select_from(Event)).one())
    finally:
        store.dispose()


# --- init ---------------------------------------------------------------------


def test_init_creates_the_store_and_the_first_admin(store_url: str) -> None:
    res = run("init", "--admin", "Ada", "--name", "Ada Lovelace", "--db", store_url)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Created store at ") and lines[0].endswith(
        f"(schema {head_revision()})")
    assert lines[1] == "Created admin ada (Ada Lovelace)"
    assert _agents(store_url) == [("ada", "admin")]

    events = _event_count(store_url)
    again = run("init", "--admin", "ada", "--db", store_url)
    assert again.exit_code == 0, again.output
    assert len(again.stdout.splitlines()) == 1  # nothing else happened
    assert "is up to date (schema" in again.stdout
    assert _agents(store_url) == [("ada", "admin")] and _event_count(store_url) == events


def test_init_upgrades_an_older_store_and_says_so(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    upgrade(store, "0001")
    store.dispose()
    res = run("init", "--admin", "ada", "--db", sqlite_url)
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == (
        f"Upgraded store at {sqlite_url} from schema 0001 to {head_revision()}")
    assert "is up to date" in run("init", "--db", sqlite_url).stdout


def test_init_without_a_terminal_uses_the_os_user(sqlite_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "Jane Doe!")
    res = run("init", "--db", sqlite_url)  # CliRunner's stdin is not a terminal
    assert res.exit_code == 0, res.output
    assert "Created admin jane-doe (jane-doe)" in res.stdout
    monkeypatch.setattr("getpass.getuser", lambda: "..")
    other = sqlite_url.replace("store.db", "other.db")
    assert "Created admin admin" in run("init", "--db", other).stdout


def test_init_never_waits_for_input_in_a_real_process(sqlite_url: str) -> None:
    proc = subprocess.run([str(AGENT_TUI), "init", "--db", sqlite_url],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Created admin " in proc.stdout
    assert [role for _, role in _agents(sqlite_url)] == ["admin"]


def test_init_with_another_admin_login_adds_nobody(sqlite_url: str) -> None:
    run("init", "--admin", "ada", "--db", sqlite_url)
    res = run("init", "--admin", "zed", "--db", sqlite_url)
    assert res.exit_code == 0
    assert "already has an admin (ada)" in res.stdout
    assert _agents(sqlite_url) == [("ada", "admin")]


def test_init_on_an_unreachable_database_is_one_line() -> None:
    res = run("init", "--db", "postgresql://nobody@127.0.0.1:1/nothing")
    assert res.exit_code == 4
    assert len(res.stderr.strip().splitlines()) == 1 and res.stderr.startswith("error: ")


# --- missing store, -h --------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["doctor"], ["agent", "list"], ["team", "list"], ["agent", "add", "bob"],
    ["customer", "export", "1"], ["purge", "--events-older-than", "1d"], [],
])
def test_commands_on_a_missing_store_exit_3_with_the_hint(tmp_path: Path,
                                                          command: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'store.db'}"
    res = run(*command, "--db", url) if command else run("--db", url)
    assert res.exit_code == 3, res.output
    assert len(res.stderr.strip().splitlines()) == 1
    assert "run `agent-tui init" in res.stderr
    assert not (tmp_path / "nowhere").exists()  # looking did not create anything


MY_COMMANDS = [[], ["init"], ["demo"], ["doctor"], ["purge"], ["agent"], ["agent", "add"],
               ["agent", "list"], ["agent", "disable"], ["agent", "set"], ["team"],
               ["team", "add"], ["team", "list"], ["customer"], ["customer", "export"],
               ["customer", "erase"]]


@pytest.mark.parametrize("command", MY_COMMANDS, ids=lambda c: " ".join(c) or "root")
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_works_everywhere(command: list[str], flag: str) -> None:
    res = run(*command, flag)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("Usage: ")


# --- opening the app ----------------------------------------------------------


@dataclass
class FakeApp:
    calls: list[dict[str, Any]] = field(default_factory=list)
    code: int = 0

    def launch(self, db_url: str, login: str | None) -> int:
        self.calls.append({"db_url": db_url, "login": login})
        return self.code


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    fake = FakeApp()
    module = types.ModuleType("agent_tui.app")
    module.launch = fake.launch  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agent_tui.app", module)
    return fake


def _store_with_people(url: str) -> None:
    store = migrated(url)
    try:
        with store.write() as s:
            agents.add_agent(s, ADMIN, login="ada", name="Ada", role=Role.ADMIN)
            agents.add_agent(s, ADMIN, login="alice", name="Alice")
            agents.add_agent(s, ADMIN, login="gone", name="Gone")
            agents.set_agent(s, ADMIN, "gone", active=False)
    finally:
        store.dispose()


def test_no_command_opens_the_app_as_the_default_agent(sqlite_url: str,
                                                       fake_app: FakeApp) -> None:
    _store_with_people(sqlite_url)
    res = run("--db", sqlite_url)
    assert res.exit_code == 0, res.output
    assert fake_app.calls == [{"db_url": sqlite_url, "login": "ada"}]
    fake_app.code = 5
    assert run("--db", sqlite_url, "--as", "alice").exit_code == 5
    assert run(env={"AGENT_TUI_DB": sqlite_url, "AGENT_TUI_LOGIN": "Alice"}).exit_code == 5
    assert [c["login"] for c in fake_app.calls] == ["ada", "alice", "alice"]


def test_the_default_agent_can_be_chosen_and_falls_back_when_disabled(
        sqlite_url: str, fake_app: FakeApp) -> None:
    _store_with_people(sqlite_url)
    assert "opens as ada" in run("agent", "default", "--db", sqlite_url).stdout
    res = run("agent", "default", "alice", "--db", sqlite_url)
    assert res.exit_code == 0 and "now opens as alice" in res.stdout
    assert run("agent", "default", "gone", "--db", sqlite_url).exit_code == 1
    assert run("--db", sqlite_url).exit_code == 0
    run("agent", "disable", "alice", "--db", sqlite_url)
    assert run("--db", sqlite_url).exit_code == 0  # alice is gone: back to the first admin
    assert [c["login"] for c in fake_app.calls] == ["alice", "ada"]


def test_no_command_refuses_unknown_or_disabled_logins(sqlite_url: str,
                                                       fake_app: FakeApp) -> None:
    _store_with_people(sqlite_url)
    res = run("--db", sqlite_url, "--as", "nobody")
    assert res.exit_code == 1 and "no agent 'nobody'" in res.stderr
    res = run("--db", sqlite_url, "--as", "gone")
    assert res.exit_code == 1 and "gone is disabled" in res.stderr
    assert fake_app.calls == []


def test_no_command_on_a_store_without_agents_gives_the_hint(sqlite_url: str,
                                                             fake_app: FakeApp) -> None:
    migrated(sqlite_url).dispose()
    res = run("--db", sqlite_url)
    assert res.exit_code == 3
    assert "run `agent-tui init --admin LOGIN` or `agent-tui demo`" in res.stderr
    assert fake_app.calls == []


def test_root_db_option_reaches_subcommands(sqlite_url: str) -> None:
    run("init", "--admin", "ada", "--db", sqlite_url)
    res = run("--db", sqlite_url, "agent", "list", "--json")
    assert res.exit_code == 0, res.output
    assert [a["login"] for a in json.loads(res.stdout)] == ["ada"]
    # ... and only for that invocation.
    assert run("agent", "list").exit_code == 3


# --- doctor -------------------------------------------------------------------


def test_doctor_prints_and_json_parses(store_url: str) -> None:
    run("init", "--admin", "ada", "--db", store_url)
    res = run("doctor", "--db", store_url)
    assert res.exit_code == 0, res.output
    for text in ("schema", "up to date", "credential store", "AGENT_TUI_TOKEN", "ticket"):
        assert text in res.stdout
    report = json.loads(run("doctor", "--json", "--db", store_url).stdout)
    assert report["schema_current"] == report["schema_head"] == head_revision()
    assert report["needs_upgrade"] is False
    assert report["counts"]["agent"] == 1 and report["counts"]["ticket"] == 0
    assert report["counts"]["event"] >= 1
    assert report["database_bytes"] > 0
    creds = report["credentials"]
    assert creds["backend"] == "keyring.backends.null.Keyring" and creds["usable"] is False
    assert "AGENT_TUI_TOKEN" in creds["fallback"] and "0600" in creds["fallback"]
    if store_url.startswith("sqlite"):
        assert report["dialect"] == "sqlite"
        assert report["pragmas"] == {"journal_mode": "wal", "synchronous": 2,
                                     "foreign_keys": 1, "busy_timeout": 30000}
        assert report["sqlite_file_bytes"] > 0 and report["sqlite_wal_bytes"] >= 0
    else:
        assert report["dialect"] == "postgresql" and report["pragmas"] == {}


def test_doctor_says_an_old_store_needs_upgrade(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    upgrade(store, "0001")
    store.dispose()
    report = json.loads(run("doctor", "--json", "--db", sqlite_url).stdout)
    assert report["schema_current"] == "0001" and report["needs_upgrade"] is True
    assert "needs upgrade" in run("doctor", "--db", sqlite_url).stdout


def test_doctor_on_an_empty_database_exits_3(pg_url: str) -> None:
    res = run("doctor", "--db", pg_url)
    assert res.exit_code == 3 and "run `agent-tui init`" in res.stderr


# --- demo ---------------------------------------------------------------------


@dataclass
class Summary:
    default_login: str
    counts: dict[str, int]
    seconds: float


@dataclass
class FakeDemo:
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def build_demo(self, store: Store, *, tickets: int, seed: int, progress: Any) -> Summary:
        with store.read() as s:
            before = len(s.exec(select(Agent)).all())
        self.calls.append({"url": store.url, "tickets": tickets, "seed": seed,
                           "agents_before": before})
        for stage, total in (("agents", 3), ("tickets", tickets)):
            for done in range(0, total + 1, max(1, total // 4)):
                progress(stage, done, total)
        if self.fail:
            raise RuntimeError("disk full")
        with store.write() as s:
            agents.add_agent(s, ADMIN, login="demo-lead", name="Dana Demo", role=Role.ADMIN)
        return Summary("demo-lead", {"agents": 1, "tickets": tickets}, 0.5)


@pytest.fixture
def fake_demo(monkeypatch: pytest.MonkeyPatch) -> FakeDemo:
    fake = FakeDemo()
    # Patch the real module's attribute: replacing the sys.modules entry would
    # not reach `from agent_tui.services import demo` once another test has
    # imported the package.
    import agent_tui.services.demo as real_demo

    monkeypatch.setattr(real_demo, "build_demo", fake.build_demo)
    return fake


def test_demo_builds_its_own_store_and_launches(fake_demo: FakeDemo, fake_app: FakeApp,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real = f"sqlite:///{data_dir() / 'agent-tui.db'}"
    monkeypatch.setenv("AGENT_TUI_DB", real)  # the demo never uses the real store
    res = run("demo", "--tickets", "40", "--seed", "3")
    assert res.exit_code == 0, res.output
    demo_url = f"sqlite:///{data_dir() / 'demo.db'}"
    assert fake_demo.calls == [{"url": demo_url, "tickets": 40, "seed": 3, "agents_before": 0}]
    assert fake_app.calls == [{"db_url": demo_url, "login": "demo-lead"}]
    assert "(80 tickets/s); opens as demo-lead" in res.stdout and "tickets" in res.stdout
    assert not (data_dir() / "agent-tui.db").exists()


def test_demo_refuses_to_overwrite_without_force(fake_demo: FakeDemo, fake_app: FakeApp,
                                                 tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run("demo", "--no-launch", "--db", url).exit_code == 0
    assert fake_app.calls == []
    res = run("demo", "--no-launch", "--db", url)
    assert res.exit_code == 1 and "--force" in res.stderr and len(fake_demo.calls) == 1
    (tmp_path / "d.db-shm").write_bytes(b"stale")
    res = run("demo", "--no-launch", "--force", "--db", url)
    assert res.exit_code == 0, res.output
    assert fake_demo.calls[-1]["agents_before"] == 0  # rebuilt from an empty file
    assert _agents(url) == [("demo-lead", "admin")]


def test_demo_never_deletes_what_is_not_a_store(fake_demo: FakeDemo, tmp_path: Path) -> None:
    thesis = tmp_path / "thesis.db"
    thesis.write_text("chapter one", encoding="utf-8")
    res = run("demo", "--no-launch", "--force", "--db", f"sqlite:///{thesis}")
    assert res.exit_code == 1 and "not an Agent TUI store" in res.stderr
    assert thesis.read_text(encoding="utf-8") == "chapter one" and fake_demo.calls == []


def test_demo_never_replaces_the_real_store(fake_demo: FakeDemo) -> None:
    real = f"sqlite:///{data_dir() / 'agent-tui.db'}"
    assert run("init", "--admin", "ada").exit_code == 0  # the default, real store
    res = run("demo", "--no-launch", "--force", "--db", real)
    assert res.exit_code == 1 and "is your real store" in res.stderr
    assert _agents(real) == [("ada", "admin")] and fake_demo.calls == []


def test_demo_never_drops_a_postgres_database(fake_demo: FakeDemo, pg_url: str) -> None:
    assert run("demo", "--no-launch", "--db", pg_url).exit_code == 0
    res = run("demo", "--no-launch", "--force", "--db", pg_url)
    assert res.exit_code == 1 and "never drops a PostgreSQL database" in res.stderr
    assert len(fake_demo.calls) == 1


def test_demo_failure_is_one_line(fake_demo: FakeDemo, tmp_path: Path) -> None:
    fake_demo.fail = True
    res = run("demo", "--no-launch", "--db", f"sqlite:///{tmp_path / 'd.db'}")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "error: building the demo failed: disk full; run again with --force")


def test_demo_for_real(tmp_path: Path) -> None:
    demo = pytest.importorskip("agent_tui.services.demo")
    if not hasattr(demo, "build_demo"):
        pytest.skip("the demo generator is not written yet")
    url = f"sqlite:///{tmp_path / 'real-demo.db'}"
    res = run("demo", "--tickets", "500", "--no-launch", "--db", url)
    assert res.exit_code == 0, res.output
    report = json.loads(run("doctor", "--json", "--db", url).stdout)
    assert report["counts"]["ticket"] == 500
    # Opened later without --as, the demo store opens as its own agent.
    assert "opens as maya" in run("agent", "default", "--db", url).stdout


def test_admin_commands_never_import_textual(sqlite_url: str) -> None:
    code = ("import sys; from typer.testing import CliRunner; from agent_tui.cli import app; "
            f"r = CliRunner().invoke(app, ['init', '--admin', 'ada', '--db', {sqlite_url!r}]); "
            f"r2 = CliRunner().invoke(app, ['doctor', '--db', {sqlite_url!r}]); "
            "print(r.exit_code, r2.exit_code, 'textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["0", "0", "False"]
