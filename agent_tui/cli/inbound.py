"""``agent-tui inbound CHANNEL``: take one customer message as a channel would deliver it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent_tui.cli.common import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    handle_errors,
    store_for,
)
from agent_tui.services import inbound


def inbound_cmd(
    channel: Annotated[str, typer.Argument(help="email, chat, phone, web, app or social.")],
    sender: Annotated[str, typer.Option("--from", help="The sender's address: e-mail, phone, "
                                        "social handle or app id.")],
    body: Annotated[str, typer.Option("--body", help="The message; - reads it from stdin.")],
    name: Annotated[str | None, typer.Option("--name", help="The sender's name.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Subject line.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team for a new ticket.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Category.")] = None,
    product: Annotated[str | None, typer.Option("--product", help="Product.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Receive a customer message: find the customer, thread it, let the bot answer or route."""
    text = sys.stdin.read() if body == "-" else body
    if not text.strip():
        fail("--body is empty; give the message text (or - to read stdin)", EXIT_USAGE)
    with store_for(db) as store:
        result = store.run_write(lambda s: inbound.receive(
            s, cli_actor(), channel, address=sender, body=text, name=name, subject=subject,
            team=team, category=category, product=product))
    if as_json:
        emit_json(result)
        return
    line = (f"#{result.ticket_id} {result.action} ({result.status.value}) for customer "
            f"{result.customer_id}{' (new)' if result.customer_created else ''}; "
            f"assignee {result.assignee or '-'}")
    if result.bot:
        line += f"; bot {result.bot}"
    if result.follow_up_of:
        line += f"; follow-up of #{result.follow_up_of}"
    console.print(line + "\nevents: " + ", ".join(result.events), markup=False,
                  highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``inbound`` to ``app``."""
    app.command("inbound")(handle_errors(inbound_cmd))
