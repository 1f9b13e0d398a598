"""``agent-tui kb …`` through CliRunner on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agent_tui.cli import app


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def as_json(*args: str) -> Any:
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture
def url(store_url: str) -> str:
    assert run("init", "--admin", "ada", "--db", store_url).exit_code == 0
    return store_url


def test_add_list_show_search(url: str) -> None:
    a = as_json("kb", "add", "--title", "Cancel an order", "--body",
                "You can cancel while it is processing.", "--tags", "orders,cancel",
                "--db", url)
    res = run("kb", "add", "--title", "忘记密码怎么办", "--locale", "zh", "--body", "-",
              "--db", url, "--json", stdin="用验证码重置密码。\n")
    assert res.exit_code == 0, res.output
    b = json.loads(res.stdout)
    draft = as_json("kb", "add", "--title", "Cancel secret", "--body", "cancel draft",
                    "--status", "draft", "--db", url)
    listed = as_json("kb", "list", "--db", url)
    assert [r["id"] for r in listed] == [a["id"], b["id"], draft["id"]]
    shown = as_json("kb", "show", str(b["id"]), "--db", url)
    assert shown["body"] == "用验证码重置密码。" and shown["locale"] == "zh"
    hits = as_json("kb", "search", "cancelling my order #5512", "--db", url)
    assert [h["article_id"] for h in hits] == [a["id"]]  # drafts are not searched
    assert "[[cancel]]" in hits[0]["snippet"]
    zh = as_json("kb", "search", "密码", "--k", "1", "--db", url)
    assert zh[0]["article_id"] == b["id"]
    people = run("kb", "search", "cancel", "--db", url)
    assert people.exit_code == 0 and "Cancel an order" in people.stdout
    assert "No article matches." in run("kb", "search", "zzzz", "--db", url).stdout


def test_edit_and_errors(url: str) -> None:
    a = as_json("kb", "add", "--title", "Kettle", "--body", "Descale monthly.", "--db", url)
    edited = as_json("kb", "edit", str(a["id"]), "--title", "Kettle care", "--db", url)
    assert edited["version"] == 2 and edited["title"] == "Kettle care"
    missing = run("kb", "show", "9999", "--db", url)
    assert missing.exit_code == 1 and missing.stdout == ""
    assert len(missing.stderr.strip().splitlines()) == 1
    bad = run("kb", "add", "--title", "x", "--body", "y", "--status", "live", "--db", url)
    assert bad.exit_code == 2
    assert run("kb", "add", "--title", "x", "--db", url).exit_code == 2


def test_hostile_article_text_is_printed_as_text(url: str) -> None:
    hostile = "Refund [/] [bold]now[/] \x1b]52;c;aGk=\x07 ok"
    assert run("kb", "add", "--title", hostile, "--body", hostile, "--db", url).exit_code == 0
    res = run("kb", "search", "refund", "--db", url)
    assert res.exit_code == 0, res.output
    assert "[bold]now[/]" in res.stdout and "\x1b]52" not in res.stdout
