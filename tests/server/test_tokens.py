"""API tokens: hashed at rest, shown once, expiry, revocation, and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from agent_tui.cli import app
from agent_tui.domain.enums import Role, Source
from agent_tui.domain.errors import Forbidden, Invalid
from agent_tui.domain.tables import ApiToken, Event, utcnow
from agent_tui.services import tokens
from agent_tui.store.events import Actor
from tests.conftest import World, migrated, seed_world
from tests.server.serving import ADMIN


def test_only_the_hash_is_stored_and_the_secret_authenticates(world: World) -> None:
    with world.store.write() as s:
        view, secret = tokens.create_token(s, ADMIN, "Alice", name="laptop")
    assert secret.startswith(f"atui_{view.prefix}_") and len(secret) > 40
    with world.store.read() as s:
        row = s.get(ApiToken, view.id)
        assert row is not None and row.token_hash == tokens.hash_secret(secret)
        assert secret not in row.token_hash and row.prefix == view.prefix
        owner = tokens.authenticate(s, secret)
        assert (owner.actor.login, owner.actor.role, owner.actor.source) == (
            "alice", Role.AGENT, Source.API)
        kinds = [e.kind for e in s.exec(select(Event).where(Event.entity == "api_token"))]
        assert kinds == ["token.created"]
        with pytest.raises(Forbidden, match="unknown"):
            tokens.authenticate(s, secret + "x")
    with world.store.write() as s:
        for row in s.exec(select(ApiToken)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            s.add(row)
    with world.store.read() as s, pytest.raises(Forbidden, match="expired"):
        tokens.authenticate(s, secret)


def test_revoked_tokens_and_disabled_agents_are_refused(world: World) -> None:
    with world.store.write() as s:
        view, secret = tokens.create_token(s, ADMIN, "bob", expires_in=timedelta(days=30))
        tokens.revoke_token(s, ADMIN, view.id)
        again = tokens.revoke_token(s, ADMIN, view.id)  # revoking twice keeps the first time
    assert again.state == "revoked"
    with world.store.read() as s, pytest.raises(Forbidden, match="revoked"):
        tokens.authenticate(s, secret)


def test_only_admins_manage_tokens_and_bad_input_is_invalid(world: World) -> None:
    sam = Actor(login="sam", role=Role.SUPERVISOR)
    with world.store.write() as s:
        with pytest.raises(Forbidden):
            tokens.create_token(s, sam, "alice")
        with pytest.raises(Forbidden):
            tokens.list_tokens(s, sam)
    for text in ("", "30", "0d", "3y", "-1d"):
        with pytest.raises(Invalid):
            tokens.parse_duration(text)
    assert tokens.parse_duration("30d") == timedelta(days=30)
    assert tokens.parse_duration("12h") == timedelta(hours=12)


def test_token_cli_create_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = migrated(url)
    seed_world(store)
    store.dispose()
    runner = CliRunner()
    made = runner.invoke(app, ["token", "create", "alice", "--db", url, "--expires", "30d",
                               "--name", "laptop"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert secret.startswith("atui_")
    listed = runner.invoke(app, ["token", "list", "--db", url, "--json"])
    rows = json.loads(listed.stdout)
    assert [(r["login"], r["name"], r["state"]) for r in rows] == [("alice", "laptop", "active")]
    assert secret not in listed.stdout
    revoked = runner.invoke(app, ["token", "revoke", str(rows[0]["id"]), "--db", url])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    bad = runner.invoke(app, ["token", "create", "alice", "--db", url, "--expires", "soon"])
    assert bad.exit_code == 1 and "not a duration" in bad.output
    nobody = runner.invoke(app, ["token", "create", "zed", "--db", url])
    assert nobody.exit_code == 1 and "not found" in nobody.output
