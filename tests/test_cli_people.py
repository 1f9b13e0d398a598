"""``agent-tui agent …`` and ``agent-tui team …`` through CliRunner on a real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from agent_tui.cli import app
from agent_tui.domain.tables import Event
from agent_tui.store import open_store


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def url(store_url: str) -> str:
    """A store made by `agent-tui init`, with two teams."""
    assert run("init", "--admin", "ada", "--db", store_url).exit_code == 0
    for team in ("billing", "tech"):
        assert run("team", "add", team, "--db", store_url).exit_code == 0
    return store_url


def as_json(*args: str) -> Any:
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def one_line_error(res: Result, code: int, text: str) -> None:
    assert res.exit_code == code, res.output
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], res.stderr


def test_agent_add_and_list(url: str) -> None:
    added = as_json("agent", "add", "alice", "--name", "Alice Smith", "--role", "supervisor",
                    "--team", "billing", "--team", "tech", "--skills", "Refunds, billing",
                    "--languages", "en,zh", "--capacity", "7", "--email", "alice@corp.test",
                    "--db", url)
    assert added["login"] == "alice" and added["role"] == "supervisor"
    assert added["teams"] == ["billing", "tech"] and added["skills"] == ["billing", "refunds"]
    assert added["languages"] == ["en", "zh"] and added["capacity"] == 7
    res = run("agent", "add", "bob", "--team", "tech", "--db", url)
    assert res.exit_code == 0 and res.stdout == "Added agent bob (bob) in tech\n"

    listed = as_json("agent", "list", "--db", url)
    assert [(a["login"], a["role"], a["active"]) for a in listed] == [
        ("ada", "admin", True), ("alice", "supervisor", True), ("bob", "agent", True)]
    table = run("agent", "list", "--db", url).stdout
    assert "Alice Smith" in table and "supervisor" in table and "billing" in table


def test_agent_disable_set_and_enable(url: str) -> None:
    run("agent", "add", "bob", "--team", "tech", "--db", url)
    res = run("agent", "disable", "bob", "--db", url)
    assert res.exit_code == 0 and res.stdout == "Disabled bob\n"
    assert [a["login"] for a in as_json("agent", "list", "--db", url)] == ["ada"]
    everyone = {a["login"]: a for a in as_json("agent", "list", "--all", "--db", url)}
    assert everyone["bob"]["active"] is False and everyone["bob"]["status"] == "offline"

    changed = as_json("agent", "set", "bob", "--enable", "--role", "supervisor", "--team",
                      "billing,tech", "--skills", "tech", "--languages", "fr",
                      "--capacity", "3", "--status", "away", "--name", "Bob B", "--db", url)
    assert changed["active"] is True and changed["role"] == "supervisor"
    assert changed["teams"] == ["billing", "tech"] and changed["status"] == "away"
    assert (changed["skills"], changed["languages"], changed["capacity"], changed["name"]) == (
        ["tech"], ["fr"], 3, "Bob B")
    assert as_json("agent", "set", "bob", "--team", "", "--db", url)["teams"] == []

    store = open_store(url)
    try:
        with store.read() as s:
            kinds = s.exec(select(Event.kind).where(Event.entity == "agent")
                           .order_by(col(Event.seq))).all()
    finally:
        store.dispose()
    assert kinds[-3:] == ["agent.disabled", "agent.updated", "agent.updated"]


@pytest.mark.parametrize(("args", "code", "text"), [
    (["agent", "add", "bob", "--role", "boss"], 2,
     "--role: 'boss' is not one of agent, supervisor, admin"),
    (["agent", "set", "ada", "--status", "asleep"], 2, "--status: 'asleep' is not one of"),
    (["agent", "add", "ada"], 1, "an agent ada already exists"),
    (["agent", "add", "Bad Login!"], 1, "login: use 1-64 lower-case letters"),
    (["agent", "add", "bob", "--team", "nope"], 1, "team nope not found"),
    (["agent", "add", "bob", "--capacity", "-1"], 1, "capacity: must be 0 or more"),
    (["agent", "disable", "ghost"], 1, "agent ghost not found"),
    (["agent", "set", "ghost", "--capacity", "2"], 1, "agent ghost not found"),
    (["team", "add", "billing"], 1, "a team billing already exists"),
    (["team", "add", "Bad Team"], 1, "name: use lower-case letters"),
])
def test_bad_input_is_one_line_and_changes_nothing(url: str, args: list[str], code: int,
                                                   text: str) -> None:
    before = as_json("agent", "list", "--all", "--db", url), as_json("team", "list", "--db", url)
    one_line_error(run(*args, "--db", url), code, text)
    after = as_json("agent", "list", "--all", "--db", url), as_json("team", "list", "--db", url)
    assert after == before


def test_team_add_and_list(url: str) -> None:
    res = run("team", "add", "Logistics", "--description", "Parcels [and] returns", "--db", url)
    assert res.exit_code == 0 and res.stdout == "Added team logistics\n"
    run("agent", "add", "bob", "--team", "tech", "--team", "logistics", "--db", url)
    teams = as_json("team", "list", "--db", url)
    assert [(t["name"], t["members"]) for t in teams] == [
        ("billing", 0), ("logistics", 1), ("tech", 1)]
    assert teams[1]["description"] == "Parcels [and] returns"
    assert "Parcels [and] returns" in run("team", "list", "--db", url).stdout


def test_names_are_printed_as_text_not_markup(url: str) -> None:
    run("agent", "add", "eve", "--name", "[bold red]Eve[/] \x1b]52;c;aGk=\x07", "--db", url)
    out = run("agent", "list", "--db", url).stdout
    assert "[bold red]Eve[/]" in out
    assert "\x1b" not in out and "\x07" not in out


def test_people_commands_on_a_missing_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    for args in (["agent", "list"], ["team", "add", "x"], ["agent", "set", "ada"]):
        one_line_error(run(*args, "--db", url), 3, "run `agent-tui init` first")
    assert not (tmp_path / "missing.db").exists()
