"""``agent-tui token create|list|revoke`` (admins, on the store) and
``agent-tui login SERVER_URL`` (anyone, on the client)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent_tui.cli.common import (
    CONTEXT,
    EXIT_ERROR,
    EXIT_UNAVAILABLE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    handle_errors,
    print_table,
    store_for,
)
from agent_tui.services import tokens

token_app = typer.Typer(help="API tokens for team mode (agent-tui serve).",
                        context_settings=CONTEXT, no_args_is_help=True)


def _when(value: object) -> str:
    return value.isoformat(timespec="minutes") if hasattr(value, "isoformat") else "-"


@token_app.command("create")
@handle_errors
def create(
    login: Annotated[str, typer.Argument(help="The agent the token acts as.")],
    db: DbOption = None,
    expires: Annotated[str | None, typer.Option(
        help="Lifetime like 30d, 12h, 2w; default: never expires.")] = None,
    name: Annotated[str, typer.Option(help="What the token is for (shown in `token list`).")
                    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a token; its secret is printed once and never stored."""
    lifetime = tokens.parse_duration(expires) if expires else None
    with store_for(db) as store, store.write() as s:
        view, secret = tokens.create_token(s, cli_actor(), login, name=name,
                                           expires_in=lifetime)
    if as_json:
        emit_json({**view.model_dump(mode="json"), "token": secret})
        return
    sys.stdout.write(secret + "\n")
    until = f"until {_when(view.expires_at)}" if view.expires_at else "with no expiry"
    typer.echo(f"token {view.id} ({view.prefix}) for {view.login}, {until}. Keep it now: it is "
               f"not shown again. Use it with `agent-tui login SERVER_URL`.", err=True)


@token_app.command("list")
@handle_errors
def list_(db: DbOption = None,
          login: Annotated[str | None, typer.Option(help="Only this agent's tokens.")] = None,
          as_json: JsonOption = False) -> None:
    """Every token: id, agent, prefix, state, expiry and last use (never secrets)."""
    with store_for(db) as store, store.read() as s:
        views = tokens.list_tokens(s, cli_actor(), login=login)
    if as_json:
        emit_json([{**v.model_dump(mode="json"), "state": v.state} for v in views])
        return
    print_table("API tokens", ["id", "agent", "name", "prefix", "state", "expires", "last used"],
                [[str(v.id), v.login, v.name, v.prefix, v.state, _when(v.expires_at),
                  _when(v.last_used_at)] for v in views])


@token_app.command("revoke")
@handle_errors
def revoke(token_id: Annotated[int, typer.Argument(help="The id from `token list`.")],
           db: DbOption = None) -> None:
    """Revoke a token; servers refuse it within a few seconds."""
    with store_for(db) as store, store.write() as s:
        view = tokens.revoke_token(s, cli_actor(), token_id)
    typer.echo(f"token {view.id} ({view.prefix}) of {view.login} is revoked")


def login(
    server: Annotated[str, typer.Argument(help="The team server, e.g. http://host:8765")],
    token_stdin: Annotated[bool, typer.Option(
        "--token-stdin", help="Read the token from standard input instead of a prompt.")
    ] = False,
) -> None:
    """Check a token against SERVER_URL and keep it in the keyring (or a 0600 file)."""
    import httpx

    from agent_tui.credentials import CredentialError, save_token

    if token_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = typer.prompt("API token", hide_input=True).strip()
    if not secret:
        fail("no token given; create one with `agent-tui token create LOGIN`", EXIT_ERROR)
    base = server.rstrip("/")
    try:
        response = httpx.get(base + "/api/v1/me", timeout=10.0,
                             headers={"authorization": f"Bearer {secret}"})
    except httpx.HTTPError as exc:
        fail(f"cannot reach {base}: {exc}", EXIT_UNAVAILABLE)
    if response.status_code != 200:
        try:
            reason = str(response.json().get("message"))
        except ValueError:
            reason = response.reason_phrase
        fail(f"{base} refused the token ({response.status_code}): {reason}", EXIT_ERROR)
    me = response.json()
    try:
        where = save_token(base, secret)
    except (CredentialError, OSError) as exc:
        fail(str(exc), EXIT_ERROR)
    console.print(f"Signed in to {base} as {me.get('login')} ({me.get('role')}); the token is "
                  f"kept in {where}. Open the app with `agent-tui --server {base}`.",
                  markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
    app.command("login")(login)
